"""web/verify.js, the receipt verifier of the ordering page, in headless Chromium: the RFC 6962
inclusion vectors (tests/data/rfc6962), the C2SP signed-note vectors (tests/data/signed-note and the
spec's example), and tlog-proofs made by the server's own code for an order of an in-memory journal —
each tampering rejected with its reason, and every text accepted or refused as the Python verifier does.

The module is served alone from a fake origin (no stack needed): http://127.0.0.1 is a secure
context, so WebCrypto is there as on the real https pages.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tresen.adapters.backend import Backend
from tresen.domain.checkpoint import Checkpoint
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.signed_note import PrivateKey, sign_note
from tresen.domain.tlog_proof import TlogProofError, format_tlog_proof, parse_tlog_proof, verify_tlog_proof
from tresen.services.checkpoints import SignCheckpoint, public_keys, sign_checkpoint
from tresen.services.journal_proofs import order_proofs
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.seed import DEMO, DEMO_STORE, seed_store

ROOT = Path(__file__).resolve().parents[2]
VERIFY_JS = ROOT / "web" / "verify.js"
DATA = ROOT / "tests" / "data"
ORIGIN = "http://127.0.0.1:1"
# The page imports the module and wraps each export so that a rejection comes back as its message.
HARNESS = """<!doctype html><meta charset="utf-8"><script type="module">
import * as verify from "/verify.js";
const bytes = (b64) => Uint8Array.from(atob(b64), (char) => char.charCodeAt(0));
const outcome = (promise) => promise.then((value) => ({ value }), (error) => ({ error: error.message }));
window.harness = {
  inclusion: (c) => outcome(verify.verifyInclusion(
    bytes(c.leafHash), c.leafIdx, c.treeSize, (c.proof || []).map(bytes), bytes(c.root))),
  openNote: (note, keys) => outcome(verify.openNote(note, keys)),
  receipt: (text, keys) => outcome(verify.verifyReceiptProof(text, keys)),
};
</script>"""
MISMATCH = "the inclusion proof does not match the checkpoint"
BAD_SIGNATURE = "the signature does not verify"
NO_KEY = "no known key signed the checkpoint"
# The verifier-key example of c2sp.org/signed-note (CC BY 4.0), as tests/unit/test_signed_note.py has it.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


@pytest.fixture(scope="module")
def page(playwright_browser):
    context = playwright_browser.new_context()
    context.set_default_timeout(15_000)

    def serve(route):
        if route.request.url.endswith("/verify.js"):
            route.fulfill(body=VERIFY_JS.read_text(), content_type="text/javascript")
        else:
            route.fulfill(body=HARNESS, content_type="text/html")

    context.route(f"{ORIGIN}/**", serve)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(f"{ORIGIN}/")
    page.wait_for_function("window.harness !== undefined")
    assert not errors
    yield page
    context.close()


def receipt(page, text: str, keys: list) -> dict:
    return page.evaluate("([text, keys]) => harness.receipt(text, keys)", [text, keys])


def rejected(page, text: str, keys: list) -> str:
    outcome = receipt(page, text, keys)
    assert "error" in outcome, outcome
    return outcome["error"]


# -- RFC 6962 inclusion proofs ---------------------------------------------------------------------


def inclusion_vectors() -> list:
    files = sorted((DATA / "rfc6962" / "inclusion").rglob("*.json"))
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(DATA / "rfc6962"))) for f in files]


@pytest.mark.parametrize("case", inclusion_vectors())
def test_the_rfc6962_inclusion_vectors(page, case):
    # Indexes go up to 2**64 - 1, beyond a JavaScript number: they cross as decimal strings.
    case = {**case, "leafIdx": str(case["leafIdx"]), "treeSize": str(case["treeSize"])}
    outcome = page.evaluate("(c) => harness.inclusion(c)", case)
    if case["wantErr"]:
        assert "error" in outcome, case["desc"]
    else:
        assert outcome == {"value": None}


# -- C2SP signed notes -----------------------------------------------------------------------------


NOTE_VECTOR = json.loads((DATA / "signed-note" / "peterneumann.json").read_text())


@pytest.mark.parametrize(
    ("note", "vkey", "text", "name"),
    [
        pytest.param(
            NOTE_VECTOR["signed_note"],
            NOTE_VECTOR["verifier_key"],
            NOTE_VECTOR["text"],
            NOTE_VECTOR["key_name"],
            id="golang sumdb/note example",
        ),
        pytest.param(SPEC_NOTE, SPEC_VKEY, "This is an example message.\n", "example.com/foo", id="c2sp spec example"),
    ],
)
def test_a_signed_note_vector_opens_with_its_key_and_not_once_changed(page, note, vkey, text, name):
    open_note = "([note, keys]) => harness.openNote(note, keys)"
    assert page.evaluate(open_note, [note, [{"vkey": vkey}]]) == {"value": {"text": text, "keyName": name}}
    assert page.evaluate(open_note, [note, [vkey]])["value"]["keyName"] == name
    changed = note.replace(text, text.replace(" ", "  ", 1))
    assert changed != note
    assert page.evaluate(open_note, [changed, [{"vkey": vkey}]]) == {"error": BAD_SIGNATURE}
    other = PrivateKey(name, bytes(32)).verifier.vkey
    assert page.evaluate(open_note, [note, [{"vkey": other}]]) == {"error": NO_KEY}
    key_name, key_id, key = vkey.split("+", 2)
    wrong_id = f"{key_name}+{int(key_id, 16) ^ 1:08x}+{key}"
    assert page.evaluate(open_note, [note, [wrong_id]])["error"].startswith("malformed public key")


# -- proofs the server makes -----------------------------------------------------------------------


class Receipt:
    """Five orders in an in-memory journal, a checkpoint over them, and the third order's proof as
    GET /v1/orders/{order}/proof gives it, with the keys GET /v1/journal/public-keys lists."""

    def __init__(self):
        backend = Backend.in_memory()
        seed_store(DEMO, backend)
        request = OrderRequest(
            (CartItem("croissant", 2), CartItem("espresso", 1)),
            Fulfilment("pickup"),
            Customer("Anna", "anna@example.com"),
            "on_site",
            None,
            0,
            (),
        )
        placed = [place_order(PlaceOrder(DEMO_STORE.id, request, {"type": "customer"}), backend) for _ in range(5)]
        self.checkpoint, _ = sign_checkpoint(SignCheckpoint(DEMO_STORE.id), backend)
        self.order = placed[2].order
        [proof] = order_proofs(backend, self.order.id, placed[2].access_token)
        self.seq, self.text = proof.seq, proof.proof
        self.signer = backend.signer.verifier
        self.sign = backend.signer.sign
        self.keys = [
            {**key, "valid_from": key["valid_from"].isoformat(), "valid_to": None} for key in public_keys(backend)
        ]
        self.parsed = parse_tlog_proof(self.text)

    def verify_in_python(self, text: str) -> bool:
        try:
            verify_tlog_proof(text, [self.signer], self.checkpoint.origin)
        except TlogProofError:
            return False
        return True

    def with_note(self, note: str, proof: list[bytes] | None = None) -> str:
        """The proof with another checkpoint note (or other hashes), the same index and entry."""
        hashes = self.parsed.proof if proof is None else proof
        return format_tlog_proof(self.parsed.index, hashes, note, self.parsed.extra)

    def body(self, size: int | str | None = None) -> str:
        """The checkpoint's text, or with another size line (the root stays that of 5 leaves)."""
        body = Checkpoint(self.checkpoint.origin, self.checkpoint.size, self.checkpoint.root).body()
        return body if size is None else body.replace(f"\n{self.checkpoint.size}\n", f"\n{size}\n", 1)


@pytest.fixture(scope="module")
def made():
    return Receipt()


def other_key(name: str) -> PrivateKey:
    return PrivateKey(name, Ed25519PrivateKey.generate().private_bytes_raw())


def test_a_proof_the_server_made_verifies_and_gives_the_entry(page, made):
    assert made.seq == 3 and made.checkpoint.size == 5
    entry = json.loads(made.parsed.extra)
    assert (entry["seq"], entry["type"], entry["data"]["order_id"]) == (3, "order.placed", made.order.id)
    assert receipt(page, made.text, made.keys) == {
        "value": {
            "index": 2,
            "treeSize": 5,
            "root": base64.b64encode(made.checkpoint.root).decode(),
            "keyName": made.signer.name,
            "origin": "tresen/demo-tresen/demo",
            "entry": entry,
        }
    }
    assert made.verify_in_python(made.text)
    # A bare verifier key is enough; keys that did not sign (a retired one, say) change nothing.
    retired = other_key(made.signer.name).verifier.vkey
    assert receipt(page, made.text, [retired, made.signer.vkey])["value"]["index"] == 2


def test_a_flipped_byte_in_the_entry_is_not_in_the_tree(page, made):
    extra = bytearray(made.parsed.extra)
    extra[extra.index(b'"total":840') + 9] ^= 0x01  # 840 becomes 850: still JSON, another amount
    text = made.text.replace(base64.b64encode(made.parsed.extra).decode(), base64.b64encode(extra).decode())
    assert text != made.text
    assert rejected(page, text, made.keys) == MISMATCH


@pytest.mark.parametrize(("index", "reason"), [(1, MISMATCH), (3, MISMATCH), (4, MISMATCH)])
def test_a_wrong_index_is_refused(page, made, index, reason):
    assert rejected(page, made.text.replace("\nindex 2\n", f"\nindex {index}\n"), made.keys) == reason


def test_an_index_beyond_the_checkpoint_is_refused(page, made):
    text = made.text.replace("\nindex 2\n", "\nindex 5\n")
    assert rejected(page, text, made.keys) == "the index is outside the checkpoint's tree"


@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_changed_proof_hash_is_refused(page, made, position):
    proof = list(made.parsed.proof)
    proof[position] = bytes([proof[position][0] ^ 0x80]) + proof[position][1:]
    text = made.with_note(made.parsed.checkpoint_note, proof)
    assert rejected(page, text, made.keys) == MISMATCH


def test_a_proof_one_hash_short_or_long_is_refused(page, made):
    for proof in (made.parsed.proof[:-1], [*made.parsed.proof, made.parsed.proof[0]]):
        assert rejected(page, made.with_note(made.parsed.checkpoint_note, proof), made.keys) == MISMATCH


def test_a_signature_by_another_key_under_the_signers_name_and_id_does_not_verify(page, made):
    forger = other_key(made.signer.name)
    note = sign_note(made.body(), made.signer.name, forger.sign, made.signer.key_id)
    assert rejected(page, made.with_note(note), made.keys) == BAD_SIGNATURE


def test_a_changed_checkpoint_does_not_verify(page, made):
    changed = made.parsed.checkpoint_note.replace(f"\n{made.checkpoint.size}\n", "\n4\n", 1)
    assert rejected(page, made.with_note(changed), made.keys) == BAD_SIGNATURE


def test_a_checkpoint_signed_by_an_unknown_key_is_refused(page, made):
    stranger = other_key("tresen/elsewhere")
    note = sign_note(made.body(), stranger.name, stranger.sign, stranger.verifier.key_id)
    assert rejected(page, made.with_note(note), made.keys) == NO_KEY
    assert rejected(page, made.text, []) == NO_KEY
    assert rejected(page, made.text, [stranger.verifier.vkey]) == NO_KEY


def test_a_proof_without_its_entry_is_refused(page, made):
    text = format_tlog_proof(made.parsed.index, made.parsed.proof, made.parsed.checkpoint_note)
    assert rejected(page, text, made.keys) == "malformed proof: it carries no journal entry"


def test_a_public_key_list_that_contradicts_itself_is_refused(page, made):
    [key] = made.keys
    for wrong in ({**key, "key_id": "00000000"}, {**key, "public_key": base64.b64encode(bytes(32)).decode()}, {}):
        assert rejected(page, made.text, [wrong]).startswith("malformed public key")


def mutations(made: Receipt) -> dict[str, str]:
    """Texts near the real one, each to be accepted or refused as the Python verifier decides."""
    text, note = made.text, made.parsed.checkpoint_note
    extra = base64.b64encode(made.parsed.extra).decode()
    first_hash = base64.b64encode(made.parsed.proof[0]).decode()
    signature = note[note.rindex("\n\n") + 2 :]
    witness = other_key("witness.example")
    cosignature = sign_note(made.body(), witness.name, witness.sign, witness.verifier.key_id)
    cosignature = cosignature[cosignature.rindex("\n\n") + 2 :]
    forger = other_key(made.signer.name)
    forged = sign_note(made.body(), made.signer.name, forger.sign, made.signer.key_id)
    forged = forged[forged.rindex("\n\n") + 2 :]
    # 32 bytes take 43 base64 digits, the last with 2 bits to spare: setting one spells the same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stray_bits = first_hash[:42] + alphabet[alphabet.index(first_hash[42]) ^ 1] + "="

    def signed(body: str) -> str:
        return made.with_note(sign_note(body, made.signer.name, made.sign, made.signer.key_id))

    return {
        "as made": text,
        "a witness cosignature after": text + cosignature,
        "a witness cosignature before": text.replace(signature, cosignature + signature),
        "the signature twice": text + signature,
        "a forged signature after the good one": text + forged,
        "a checkpoint extension line": signed(made.body() + "ext\n"),
        "an empty checkpoint extension line": signed(made.body() + "\n"),
        "a signed checkpoint of size 4": signed(made.body(4)),
        "a signed checkpoint of size 05": signed(made.body("05")),
        "CRLF line ends": text.replace("\n", "\r\n"),
        "no final newline": text[:-1],
        "another header": text.replace("tlog-proof@v1", "tlog-proof@v2"),
        "index with a leading zero": text.replace("\nindex 2\n", "\nindex 02\n"),
        "index with a plus": text.replace("\nindex 2\n", "\nindex +2\n"),
        "index line missing": text.replace("\nindex 2\n", "\n"),
        "index before extra": text.replace(f"\nextra {extra}\nindex 2\n", f"\nindex 2\nextra {extra}\n"),
        "empty extra": text.replace(f"extra {extra}", "extra "),
        "extra without padding": text.replace(f"extra {extra}", f"extra {extra.rstrip('=')}"),
        "hash without padding": text.replace(first_hash, first_hash.rstrip("=")),
        "hash with stray bits": text.replace(first_hash, stray_bits),
        "hash with a trailing space": text.replace(first_hash, first_hash + " "),
        "the empty line before the note doubled": text.replace("\n\n", "\n\n\n", 1),
        "a signature line without its em dash": text.replace("\u2014 ", "- "),
        "a signature line without its signature": text.replace(signature, f"\u2014 {made.signer.name}\n"),
        "a tab in the checkpoint": text.replace("tresen/demo-tresen/demo", "tresen/demo-tresen/demo\t"),
        "size 6, unsigned": made.with_note(note.replace("\n5\n", "\n6\n", 1)),
        "no blank line before the signature": made.with_note(note.replace("\n\n\u2014", "\n\u2014")),
        "64 proof hashes": made.with_note(note, [made.parsed.proof[0]] * 64),
        "65 proof hashes": text.replace(f"\n{first_hash}\n", f"\n{first_hash}\n" * 63),
    }


def test_every_text_near_a_real_proof_is_judged_as_the_python_verifier_judges_it(page, made):
    texts = mutations(made)
    python = {name: made.verify_in_python(text) for name, text in texts.items()}
    browser = {name: "value" in receipt(page, text, made.keys) for name, text in texts.items()}
    assert browser == python
    accepted = [name for name, ok in python.items() if ok]
    assert accepted == [
        "as made",
        "a witness cosignature after",
        "a witness cosignature before",
        "the signature twice",
        "a checkpoint extension line",
    ]


def test_text_that_is_not_utf8_is_refused(page, made):
    # A lone surrogate cannot cross from Python (nor be UTF-8): the page makes it.
    outcome = page.evaluate("([text, keys]) => harness.receipt(text + '\\ud800', keys)", [made.text, made.keys])
    assert outcome == {"error": "malformed proof: not UTF-8 text"}


def test_the_origin_is_the_signed_one_for_the_page_to_compare_with_its_store(page, made):
    # verify_tlog_proof is given the origin to expect; the page reads it from the answer instead.
    body = made.body().replace("tresen/demo-tresen/demo", "tresen/demo-tresen/elsewhere")
    text = made.with_note(sign_note(body, made.signer.name, made.sign, made.signer.key_id))
    assert receipt(page, text, made.keys)["value"]["origin"] == "tresen/demo-tresen/elsewhere"
    assert not made.verify_in_python(text)


def test_the_module_stays_dependency_free_and_small():
    source = VERIFY_JS.read_text()
    assert "import " not in source and "fetch(" not in source
    assert len(source.splitlines()) <= 250
