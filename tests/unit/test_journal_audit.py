"""`tresen verify` without anything of Tresen running: a store's archive copied to a directory is
checked against the public keys given (chain, root at every checkpoint, signatures, origins), and
the first seq that is altered, missing or out of order is named. Then Firestore against the archive
on the in-memory backend, and the fast canonical check against RFC 8785 itself."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from test_use_cases import order

from tresen import cli
from tresen.adapters.archive import checkpoint_object_name
from tresen.adapters.archive_directory import ArchiveDirectory
from tresen.adapters.backend import Backend
from tresen.adapters.journal_store import checkpoint_outbox_path, checkpoint_path, journal_path, outbox_path
from tresen.domain.checkpoint import Checkpoint
from tresen.domain.journal import GENESIS_HASH, JournalEvent, canonical_bytes, entry_hash, make_entry
from tresen.domain.merkle import Frontier, leaf_hash
from tresen.domain.money import vat_breakdown, vat_records
from tresen.domain.signed_note import PrivateKey, encode_base64, sign_note
from tresen.services import canonical_entries, journal_chain
from tresen.services import journal_audit as audit
from tresen.services.checkpoints import SignCheckpoint, sign_checkpoint
from tresen.services.journal_audit import Progress, Verdict
from tresen.services.journal_keys import KeysError, read_keys
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store
from tresen.services.verify import verify_archive_store, verify_store

STORE = "cafe"
ORIGIN = f"tresen/demo-tresen/{STORE}"
KEY = PrivateKey("tresen/demo-tresen", bytes(range(32)))
OTHER_KEY = PrivateKey("tresen/demo-tresen", bytes(range(1, 33)))  # the same name, another key
SIZES = (4, 8, 10)  # checkpoints of the 12-entry journal; 11 and 12 are after the last one
ENTRIES = 12


def event(seq: int) -> JournalEvent:
    """Orders as a café journals them, paid at the counter or (every fifth) online, with a German
    product now and then (non-ASCII, in the BMP) and an emoji once (beyond the BMP, which the fast
    canonical check leaves to rfc8785)."""
    total = 290 * seq
    vat = vat_records(vat_breakdown([("7", total)]))
    sale = {"payment_method": "on_site", "total": total, "tip": 0, "gift_card_amount": 0, "giftcards_sold": 0}
    order_id, invoice = f"ord_{seq:020d}", f"CAFE-2026-{seq:06d}"
    if seq % 5 == 0:
        online = {"payment_id": f"pay_{seq}", "event_id": f"evt_{seq}", "provider": "sandbox", "currency": "EUR"}
        paid = {"order_id": order_id, "invoice_number": invoice, "amount": total, **online}
        return JournalEvent("order.paid", paid | {"sale": sale | {"payment_method": "online", "vat": vat}})
    product = ("brötchen" if seq % 4 == 3 else "croissant") + (" \U0001f950" if seq == 11 else "")
    line = {"line_id": "L1", "product_id": product, "quantity": seq, "unit_price": 290, "vat_rate": "7", "total": total}
    totals = {"subtotal": total, "discount": 0, "tip": 0, "total": total, "vat": vat, "giftcards_sold": 0}
    placed = {
        "order_id": order_id,
        "number": seq,
        "business_day": "2026-03-14",
        "status": "placed",
        "payment_method": "on_site",
        "payment_id": None,
        "invoice_number": invoice,
        "currency": "EUR",
        "lines": [line | {"kind": "item", "options": []}],
        "totals": totals,
        "gift_card_amount": 0,
        "gift_cards": [],
        "cards_sold": [],
        "fulfilment_type": "pickup",
        "customer": {"name": "a" * 64, "email": "b" * 64},
    }
    return JournalEvent("order.placed", placed | {"sale": sale | {"vat": vat}})


def journal(count: int = ENTRIES, other: int = 0) -> list[bytes]:
    """`count` chained entries of the store, each as its RFC 8785 bytes (as archived); `other`
    makes another history."""
    raws, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        entry = make_entry(
            store_id=STORE,
            seq=seq,
            event=event(seq + other),
            at=f"2026-03-14T09:{seq:02d}:00+00:00",
            actor={"type": "customer"},
            prev_hash=prev,
        )
        raws.append(canonical_bytes(entry))
        prev = entry["hash"]
    return raws


def root(raws: list[bytes], size: int) -> bytes:
    frontier = Frontier()
    for raw in raws[:size]:
        frontier.append(leaf_hash(raw))
    return frontier.root()


def note(raws: list[bytes], size: int, key: PrivateKey = KEY, origin: str = ORIGIN, at: int | None = None) -> str:
    """The signed checkpoint at `size` (over the root of the first `at` entries if given)."""
    body = Checkpoint(origin, size, root(raws, size if at is None else at)).body()
    return sign_note(body, key.name, key.sign, key.verifier.key_id)


def write_bucket(directory: Path, raws: list[bytes], notes: dict[int, str], store_id: str = STORE) -> Path:
    """The objects as `gcloud storage cp -r "gs://BUCKET/*" DIR` leaves them."""
    (directory / "journal" / store_id).mkdir(parents=True)
    (directory / "checkpoints" / store_id).mkdir(parents=True)
    for seq, raw in enumerate(raws, 1):
        (directory / "journal" / store_id / f"{seq:012d}.json").write_bytes(raw)
    for size, text in notes.items():
        (directory / checkpoint_object_name(store_id, size)).write_text(text)
    return directory


@pytest.fixture
def bucket(tmp_path) -> Path:
    raws = journal()
    return write_bucket(tmp_path / "bucket", raws, {size: note(raws, size) for size in SIZES})


def entry_file(bucket: Path, seq: int) -> Path:
    return bucket / "journal" / STORE / f"{seq:012d}.json"


def verify(bucket: Path, keys=(KEY.verifier,), workers: int = 1, **options) -> Verdict:
    return verify_archive_store(ArchiveDirectory(bucket), STORE, list(keys), workers=workers, **options)


def problem(bucket: Path, **options) -> str | None:
    return verify(bucket, **options).problem


def rewrite(bucket: Path, seq: int, change) -> None:
    path = entry_file(bucket, seq)
    path.write_bytes(change(path.read_bytes()))


# ---------------------------------------------------------------- an archive copied to a directory


def test_a_whole_archive_verifies_with_its_checkpoints(bucket):
    verdict = verify(bucket)
    assert verdict == Verdict(STORE, ENTRIES, None, 3, 10, False)
    assert verdict.summary() == "cafe: 12 entries, 3 checkpoints (latest 10), ok"
    assert verdict.as_json() == {
        "store_id": STORE,
        "entries": 12,
        "checkpoints": 3,
        "latest_checkpoint": 10,
        "ok": True,
        "problem": None,
        "archive_behind": False,
    }


@pytest.mark.parametrize("seq", [1, 3, 8, 11, 12])  # covered by a checkpoint, and after the last one
def test_one_changed_byte_names_its_seq(bucket, seq):
    rewrite(bucket, seq, lambda raw: raw.replace(b'"tip":0', b'"tip":1'))
    verdict = verify(bucket)
    assert verdict.problem == f"seq {seq}: hash does not match the entry's content"
    assert (
        verdict.summary()
        == f"cafe: 12 entries, 3 checkpoints (latest 10), FAILED: seq {seq}: hash does not match the entry's content"
    )


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda raw: raw[:-1], "not JSON"),
        (lambda raw: raw.replace(b'"seq":7', b'"seq":9'), "missing or out of order (found seq 9)"),
        (lambda raw: raw.replace(b'"store_id":"cafe"', b'"store_id":"cafd"'), "belongs to store 'cafd'"),
        (
            lambda raw: raw.replace(b'"prev_hash":"', b'"prev_hash":"0', 1),
            "prev_hash does not match the previous entry",
        ),
        (lambda raw: b"[" + raw + b"]", "not a JSON object"),
    ],
)
def test_what_is_wrong_with_an_entry_is_named(bucket, change, reason):
    rewrite(bucket, 7, change)
    assert problem(bucket) == f"seq 7: {reason}"


def test_a_deleted_entry_is_named(bucket):
    entry_file(bucket, 5).unlink()
    assert verify(bucket) == Verdict(STORE, 11, "seq 5: missing (the next entry is seq 6)", 3, 10, False)


def test_two_swapped_entries_are_named(bucket):
    fifth, sixth = entry_file(bucket, 5).read_bytes(), entry_file(bucket, 6).read_bytes()
    entry_file(bucket, 5).write_bytes(sixth)
    entry_file(bucket, 6).write_bytes(fifth)
    assert problem(bucket) == "seq 5: missing or out of order (found seq 6)"


def test_a_checkpoint_signed_by_a_key_not_trusted_is_named_by_its_size(bucket):
    raws = journal()
    (bucket / checkpoint_object_name(STORE, 8)).write_text(note(raws, 8, OTHER_KEY))
    verdict = verify(bucket)
    assert verdict == Verdict(STORE, 12, "checkpoint 8: no trusted key signed the note", 3, 10, False)


def test_a_checkpoint_whose_signature_fails_is_named(bucket):
    path = bucket / checkpoint_object_name(STORE, 8)
    path.write_text(path.read_text().replace("\n8\n", "\n9\n"))  # the size changed under the signature
    assert problem(bucket) == f"checkpoint 8: the signature by {KEY.name}+{KEY.verifier.key_id.hex()} does not verify"


def test_a_signed_checkpoint_with_a_root_that_is_not_the_entries_root(bucket):
    raws = journal()
    (bucket / checkpoint_object_name(STORE, 8)).write_text(note(raws, 8, at=7))
    assert problem(bucket) == "checkpoint 8: its root is not the root of entries 1-8"


def test_a_rewritten_history_fails_the_first_checkpoint_it_changes(bucket):
    """Entries 5-12 replaced by another chain (each hash right): only the signed roots tell."""
    other = journal()[:4]
    prev = json.loads(other[-1])["hash"]
    for seq in range(5, ENTRIES + 1):
        entry = make_entry(
            store_id=STORE, seq=seq, event=event(seq + 100), at="2026-03-14T10:00:00+00:00", actor={}, prev_hash=prev
        )
        entry_file(bucket, seq).write_bytes(canonical_bytes(entry))
        prev = entry["hash"]
    assert problem(bucket) == "checkpoint 8: its root is not the root of entries 1-8"


def test_an_archive_behind_its_checkpoint_is_told_apart(bucket):
    raws = journal()
    (bucket / checkpoint_object_name(STORE, 12)).write_text(note(raws, 12))
    for seq in (11, 12):
        entry_file(bucket, seq).unlink()
    verdict = verify(bucket)
    assert verdict.problem == (
        "seq 11: missing, though checkpoint 12 covers it: the archive holds 10 entries (behind, or it lost the rest)"
    )
    assert (verdict.archive_behind, verdict.entries, verdict.latest_checkpoint) == (True, 10, 12)


def test_entries_after_the_last_checkpoint_need_no_checkpoint(bucket):
    for seq in (11, 12):
        entry_file(bucket, seq).unlink()
    assert verify(bucket) == Verdict(STORE, 10, None, 3, 10, False)


def test_only_the_keys_given_are_trusted_never_keys_in_the_archive(tmp_path):
    """A forger rewrites the journal, signs it with his own key and leaves his keys beside it."""
    forged = journal(other=1000)
    bucket = write_bucket(tmp_path / "bucket", forged, {size: note(forged, size, OTHER_KEY) for size in SIZES})
    (bucket / "public-keys.json").write_text(json.dumps([{"vkey": OTHER_KEY.verifier.vkey}]))
    (bucket / "keys.txt").write_text(OTHER_KEY.verifier.vkey + "\n")
    assert journal(other=1000) != journal()
    assert problem(bucket) == "checkpoint 4: no trusted key signed the note"
    assert problem(bucket, keys=[OTHER_KEY.verifier]) is None  # it is the keys given that decide
    assert problem(bucket, keys=[KEY.verifier, OTHER_KEY.verifier]) is None


def test_a_note_cosigned_by_an_untrusted_key_still_verifies_with_the_trusted_one(bucket):
    raws = journal()
    cosigned = note(raws, 8) + note(raws, 8, OTHER_KEY).split("\n\n", 1)[1]
    (bucket / checkpoint_object_name(STORE, 8)).write_text(cosigned)
    assert problem(bucket) is None


def test_the_origin_must_be_the_stores_and_the_same_for_every_checkpoint(bucket):
    raws = journal()
    (bucket / checkpoint_object_name(STORE, 8)).write_text(note(raws, 8, origin="tresen/demo-tresen/other"))
    assert problem(bucket) == "checkpoint 8: origin 'tresen/demo-tresen/other' is not store cafe's"
    (bucket / checkpoint_object_name(STORE, 8)).write_text(note(raws, 8))
    (bucket / checkpoint_object_name(STORE, 10)).write_text(note(raws, 10, origin="tresen/elsewhere/cafe"))
    assert problem(bucket) == (
        "checkpoint 10: origin 'tresen/elsewhere/cafe' is not checkpoint 4's 'tresen/demo-tresen/cafe'"
    )


def test_a_checkpoint_under_another_size_than_its_note_says(bucket):
    raws = journal()
    (bucket / checkpoint_object_name(STORE, 9)).write_text(note(raws, 8))
    assert problem(bucket) == "checkpoint 9: its note says size 8"


@pytest.mark.parametrize("seq", [3, 11])  # covered by a checkpoint, and after the last one
def test_entry_bytes_must_be_canonical(bucket, seq):
    """What is hashed is the RFC 8785 form: other bytes of the same entry are not the entry."""
    spaced = entry_file(bucket, seq).read_bytes().replace(b'"number":%d,' % seq, b'"number": %d,' % seq)
    entry_file(bucket, seq).write_bytes(spaced)
    assert problem(bucket) == f"seq {seq}: its bytes are not the entry's RFC 8785 form"


def test_a_forger_hashing_bytes_as_the_fast_check_cuts_them_is_caught_after_the_last_checkpoint(bucket):
    """Entry 11 (seq 11 has an emoji: RFC 8785 is checked the slow way) respelled with a space,
    its hash made over those bytes without the hash member, as the fast chain check computes it."""
    spaced = entry_file(bucket, 11).read_bytes().replace(b'"number":11,', b'"number": 11,')
    written = json.loads(spaced)["hash"].encode()
    cut = hashlib.sha256(spaced.replace(b'"hash":"' + written + b'",', b"")).hexdigest().encode()
    entry_file(bucket, 11).write_bytes(spaced.replace(written, cut))
    assert problem(bucket) == "seq 11: hash does not match the entry's content"
    entry_file(bucket, 11).write_bytes(spaced.replace(b"\xf0\x9f\xa5\x90", b"!!").replace(written, cut))
    assert problem(bucket) == "seq 11: hash does not match the entry's content"  # the fast way, no emoji


def test_an_entry_with_other_members_than_a_journal_entrys_is_refused(bucket):
    entry = json.loads(entry_file(bucket, 11).read_bytes())
    entry["zone"] = {"hash": "x"}
    entry["hash"] = entry_hash({k: v for k, v in entry.items() if k != "hash"})
    entry_file(bucket, 11).write_bytes(canonical_bytes(entry))
    assert problem(bucket) == (
        "seq 11: its members are actor, at, data, hash, prev_hash, seq, store_id, type, zone, not a journal entry's"
    )


def test_stray_objects_are_reported_when_nothing_else_is(bucket):
    (bucket / "journal" / STORE / "000000000013.json.tmp").write_bytes(b"{}")
    (bucket / "journal" / STORE / "0000000000013.json").write_bytes(b"{}")  # 13 digits: not our name
    assert problem(bucket) == "journal/cafe/0000000000013.json: stray object"
    entry_file(bucket, 2).unlink()
    assert problem(bucket) == "seq 2: missing (the next entry is seq 3)"


def test_what_cannot_be_read_is_named(bucket):
    (bucket / checkpoint_object_name(STORE, 12)).mkdir()
    assert problem(bucket) == "checkpoints/cafe/000000000012: stray object"
    entry_file(bucket, 5).unlink()
    entry_file(bucket, 5).mkdir()
    assert problem(bucket) == "seq 5: could not be read (or written as JSON)"


def test_a_store_not_in_the_archive(bucket):
    assert verify_archive_store(ArchiveDirectory(bucket), "nowhere", [KEY.verifier]) == Verdict(
        "nowhere", 0, "no such store in the archive"
    )
    assert ArchiveDirectory(bucket).store_ids() == [STORE]


# ---------------------------------------------------------------- segments checked apart, in processes


@pytest.mark.parametrize("workers", [1, 2])
def test_segments_checked_in_processes_find_what_one_pass_finds(bucket, workers):
    """Segments of 4: checkpoints 4 and 8 end whole segments, 10 ends in a partial one."""
    assert verify(bucket, workers=workers, segment_height=2) == Verdict(STORE, 12, None, 3, 10, False)
    rewrite(bucket, 10, lambda raw: raw.replace(b'"tip":0', b'"tip":1'))
    assert problem(bucket, workers=workers, segment_height=2) == "seq 10: hash does not match the entry's content"


@pytest.mark.parametrize("height", [1, 2, 3, 13])  # 9 starts a segment of 2, 4 and 8; not of 8192
def test_a_broken_link_at_a_segment_start_is_named(bucket, height):
    """Entry 9 names another prev_hash but hashes right itself: only joining the segments tells."""
    entry = json.loads(entry_file(bucket, 9).read_bytes())
    entry["prev_hash"] = "1" * 64
    entry["hash"] = entry_hash({k: v for k, v in entry.items() if k != "hash"})
    entry_file(bucket, 9).write_bytes(canonical_bytes(entry))
    for workers in (1, 2):
        assert (
            problem(bucket, workers=workers, segment_height=height)
            == "seq 9: prev_hash does not match the previous entry"
        )


def test_progress_is_told_per_segment():
    raws = journal()
    lines = []
    segments = journal_chain.segments_of(STORE, raws, 0, (), height=2)
    journal_chain.link_segments(
        STORE, segments, {}, lambda n: raws[n - 1], progress=Progress(lines.append, 0), total=12, height=2
    )
    assert lines == ["cafe: 4/12 entries", "cafe: 8/12 entries", "cafe: 12/12 entries"]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_changed_byte_of_any_entry_is_named_at_that_entry(data):
    """Whatever byte of whichever entry changes, to whatever, the first problem is at its seq."""
    raws = list(FIXED)
    seq = data.draw(st.integers(1, ENTRIES), label="seq")
    raw = raws[seq - 1]
    at = data.draw(st.integers(0, len(raw) - 1), label="at")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]), label="byte")
    raws[seq - 1] = raw[:at] + bytes([byte]) + raw[at + 1 :]
    opened, problems = audit.open_checkpoints(STORE, FIXED_NOTES, [KEY.verifier])
    roots = {size: found.checkpoint.root for size, found in opened.items()}
    segments = journal_chain.segments_of(STORE, raws, 10, roots, 2)
    chain = journal_chain.link_segments(STORE, segments, roots, lambda n: raws[n - 1], height=2)
    assert problems == []
    assert chain.problem is not None and chain.problem.text.startswith(f"seq {seq}: "), chain.problem


FIXED = journal()
FIXED_NOTES = {size: note(FIXED, size).encode() for size in SIZES}


# ---------------------------------------------------------------- trusted keys


def test_the_keys_file_is_the_public_keys_json_or_one_verifier_key_per_line():
    listed = [
        {
            "key_id": verifier.key_id.hex(),
            "vkey": verifier.vkey,
            "public_key": encode_base64(verifier.public_key),
            "valid_from": "2026-01-01T00:00:00Z",
            "valid_to": None,
        }
        for verifier in (KEY.verifier, OTHER_KEY.verifier)
    ]
    assert read_keys(json.dumps(listed)) == [KEY.verifier, OTHER_KEY.verifier]
    assert read_keys(f"# Tresen's keys\n{KEY.verifier.vkey}\n\n{OTHER_KEY.verifier.vkey}\n") == [
        KEY.verifier,
        OTHER_KEY.verifier,
    ]


@pytest.mark.parametrize(
    "text, error",
    [
        ("", "no keys in it"),
        ("[]", "no keys in it"),
        ("not a key\n", "line 1: a verifier key has three parts separated by '+'"),
        (json.dumps([{"key_id": "00000000", "vkey": KEY.verifier.vkey}]), "key 1: key_id '00000000' is not its vkey's"),
        (json.dumps([{"vkey": KEY.verifier.vkey, "public_key": "AAAA"}]), "key 1: public_key is not its vkey's"),
        ('[{"key_id": "00000000"}]', "key 1: no vkey"),
        ("[oops", "not JSON: Expecting value: line 1 column 2 (char 1)"),
    ],
)
def test_a_keys_file_that_names_no_trustworthy_key_is_refused(text, error):
    with pytest.raises(KeysError) as refused:
        read_keys(text)
    assert str(refused.value).startswith(error), str(refused.value)


# ---------------------------------------------------------------- the command, offline


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_command_verifies_a_copy_of_the_bucket_offline(bucket, tmp_path, capsys):
    keys = tmp_path / "keys.txt"
    keys.write_text(KEY.verifier.vkey + "\n")
    assert run(["verify", "--archive", str(bucket), "--keys", str(keys)], capsys) == (
        0,
        "cafe: 12 entries, 3 checkpoints (latest 10), ok\n",
        "",
    )
    rewrite(bucket, 6, lambda raw: raw.replace(b'"tip":0', b'"tip":1'))
    code, out, _ = run(["verify", "--archive", str(bucket), "--keys", str(keys), "--json"], capsys)
    assert (code, json.loads(out)) == (
        1,
        {
            "ok": False,
            "stores": [
                {
                    "store_id": STORE,
                    "entries": 12,
                    "checkpoints": 3,
                    "latest_checkpoint": 10,
                    "ok": False,
                    "problem": "seq 6: hash does not match the entry's content",
                    "archive_behind": False,
                }
            ],
        },
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["verify", "--archive", "DIR"], "tresen: verify --archive needs --keys FILE: the public keys to trust\n"),
        (["verify"], "tresen: verify needs --store ID or --all\n"),
        (["verify", "--archive", "DIR", "--keys", "missing.txt"], "tresen: missing.txt: "),
    ],
)
def test_the_command_refuses_what_it_cannot_check(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert (code, out, err[: len(message)]) == (2, "", message)


def test_the_command_trusts_the_keys_file_in_either_form(bucket, tmp_path, capsys):
    listed = tmp_path / "public-keys.json"
    listed.write_text(json.dumps([{"key_id": KEY.verifier.key_id.hex(), "vkey": KEY.verifier.vkey}]))
    untrusted = tmp_path / "other.txt"
    untrusted.write_text(OTHER_KEY.verifier.vkey + "\n")
    assert run(["verify", "--archive", str(bucket), "--keys", str(listed), "--store", STORE], capsys)[0] == 0
    code, out, _ = run(["verify", "--archive", str(bucket), "--keys", str(untrusted)], capsys)
    assert (code, out) == (
        1,
        "cafe: 12 entries, 3 checkpoints (latest 10), FAILED: checkpoint 4: no trusted key signed the note\n",
    )


def test_an_empty_directory_is_no_archive(tmp_path, capsys):
    keys = tmp_path / "keys.txt"
    keys.write_text(KEY.verifier.vkey + "\n")
    code, out, err = run(["verify", "--archive", str(tmp_path), "--keys", str(keys)], capsys)
    assert (code, out) == (1, "")
    assert err == f"tresen: {tmp_path}: holds no store's journal (journal/STORE/…)\n"


# ---------------------------------------------------------------- Firestore against the archive (in memory)


DEMO = DEMO_STORE.id


@pytest.fixture
def backend() -> Backend:
    memory = Backend.in_memory()
    seed_store(SeedStore(DEMO_STORE, DEMO_PRODUCTS), memory)
    for _ in range(3):
        order(memory)
    sign_checkpoint(SignCheckpoint(DEMO), memory)
    order(memory)
    memory.archive.drain()
    return memory


def online(backend: Backend) -> Verdict:
    return verify_store(backend, DEMO)


def test_firestore_and_the_archive_agree_with_their_checkpoints(backend):
    assert online(backend) == Verdict(DEMO, 4, None, 1, 3, False)


def test_the_registered_keys_are_trusted_and_only_those(backend):
    assert verify_store(backend, DEMO, [OTHER_KEY.verifier]).problem == (
        "Firestore: checkpoint 3: no trusted key signed the note"
    )
    batch = backend.docs.batch()  # the registry is what verify trusts without keys given
    for key in backend.docs.query("journal_keys"):
        batch.delete(key.path)
    batch.commit()
    assert online(backend).problem == "Firestore: checkpoint 3: no trusted key signed the note"


def test_a_checkpoint_document_that_disagrees_with_its_note(backend):
    batch = backend.docs.batch()
    batch.update(checkpoint_path(DEMO, 3), {"root": b"\x00" * 32})
    batch.commit()
    assert online(backend).problem == "Firestore: checkpoint 3: its document does not match its signed note (root)"


def test_a_checkpoint_not_archived_yet_is_told_from_a_missing_one(backend):
    del backend.archive.store.objects[checkpoint_object_name(DEMO, 3)]
    batch = backend.docs.batch()
    batch.create(checkpoint_outbox_path(DEMO, 3), {"store_id": DEMO, "checkpoint": 3})
    batch.commit()
    verdict = online(backend)
    assert (verdict.problem, verdict.archive_behind) == ("checkpoint 3: not archived yet (`tresen sweep`)", True)
    batch = backend.docs.batch()
    batch.delete(checkpoint_outbox_path(DEMO, 3))
    batch.commit()
    verdict = online(backend)
    assert (verdict.problem, verdict.archive_behind) == ("checkpoint 3: missing from the archive", False)


def test_entries_not_archived_yet_are_told_from_missing_ones(backend):
    del backend.archive.store.objects[f"journal/{DEMO}/000000000003.json"]
    del backend.archive.store.objects[f"journal/{DEMO}/000000000004.json"]
    batch = backend.docs.batch()
    for seq in (3, 4):
        batch.create(outbox_path(DEMO, seq), {"store_id": DEMO, "seq": seq})
    batch.commit()
    verdict = online(backend)
    assert (verdict.problem, verdict.archive_behind) == (
        "seq 3: not archived yet: the archive is behind by 2 (`tresen sweep`)",
        True,
    )


def test_an_altered_firestore_entry_is_named_before_the_difference(backend):
    batch = backend.docs.batch()
    batch.update(journal_path(DEMO, 2), {"actor": {"type": "staff"}})
    batch.commit()
    assert online(backend).problem == "Firestore: seq 2: hash does not match the entry's content"


def test_an_archived_checkpoint_forged_beside_a_good_one_in_firestore(backend):
    raws = [backend.archive.store.objects[f"journal/{DEMO}/{seq:012d}.json"] for seq in (1, 2, 3)]
    forged = sign_note(Checkpoint(f"tresen/demo-tresen/{DEMO}", 3, root(raws, 3)).body(), "x", OTHER_KEY.sign, b"1234")
    backend.archive.store.objects[checkpoint_object_name(DEMO, 3)] = forged.encode()
    assert online(backend).problem == "archive: checkpoint 3: no trusted key signed the note"


# ---------------------------------------------------------------- the fast canonical check is RFC 8785's


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(
        alphabet=st.characters(codec="utf-8")
        | st.sampled_from(["\u2028", "\x7f", "\x1f", '"', "\\", "é", "\U0001f950"])
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet=st.characters(codec="utf-8"), max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


def rfc8785_or_none(value):
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError):
        return None


@settings(max_examples=400, deadline=None)
@given(json_values, st.sampled_from(["rfc8785", "sorted", "unsorted", "ascii", "spaced"]))
def test_is_canonical_says_what_rfc8785_says(value, spelling):
    expected = rfc8785_or_none(value)
    if spelling == "rfc8785":
        raw = expected
        if raw is None:
            return
    else:
        options = {
            "sorted": {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":")},
            "unsorted": {"ensure_ascii": False, "separators": (",", ":")},
            "ascii": {"sort_keys": True, "separators": (",", ":")},
            "spaced": {"sort_keys": True, "ensure_ascii": False},
        }[spelling]
        try:
            raw = json.dumps(value, **options).encode()
        except UnicodeEncodeError:
            return
    assert canonical_entries.is_canonical(raw) == (rfc8785_or_none(json.loads(raw)) == raw)
    assert canonical_entries.canonical(value) == expected


@pytest.mark.parametrize(
    "raw, canonical",
    [
        (b'{"a":1}', True),
        (b'{"a":1.0}', False),
        (b'{"a":1.5}', True),
        (b'{"a":-0}', False),
        (b'{"a":9007199254740991}', True),
        (b'{"a":9007199254740992}', False),
        (b'{"a":"\\u001f"}', True),
        (b'{"a":"\\u001F"}', False),
        (b'{"a":"\\ud800"}', False),
        (b'{"\xef\xbf\xbf":1,"\xf0\x9f\xa5\x90":2}', False),  # by code point: RFC 8785 sorts by UTF-16
        (b'{"\xf0\x9f\xa5\x90":2,"\xef\xbf\xbf":1}', True),
        (b'{"a":"\xed\xa0\x80"}', False),  # an encoded surrogate is no UTF-8
        (b'{"b":1,"a":2}', False),
        (b'{"a":1,"a":1}', False),
        (b' {"a":1}', False),
        (b"[1,2]", True),
    ],
)
def test_is_canonical_on_the_cases_python_and_rfc8785_write_differently(raw, canonical):
    assert canonical_entries.is_canonical(raw) is canonical
