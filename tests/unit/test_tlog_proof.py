"""C2SP tlog proofs (c2sp.org/tlog-proof): the text format, its spec example, and proofs of entries
of a 13-leaf tree verified against a checkpoint signed with a generated key."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tresen.domain import merkle
from tresen.domain.checkpoint import Checkpoint
from tresen.domain.signed_note import NoteError, PrivateKey, sign_note
from tresen.domain.tlog_proof import (
    TlogProof,
    TlogProofError,
    format_tlog_proof,
    parse_tlog_proof,
    verify_tlog_proof,
)

ORIGIN = "tresen/demo-tresen/store-1"
SIZE = 13
ENTRIES = [b'{"seq":%d,"type":"order.placed"}' % (n + 1) for n in range(SIZE)]
TREE = merkle.Tree.of_leaves([merkle.leaf_hash(entry) for entry in ENTRIES])

# The example of the spec (C2SP/C2SP tlog-proof.md); its signatures are elided there, as here.
SPEC_EXAMPLE = """c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

\u2014 example.com/fancylog hI2DJw[...]1roloI=
\u2014 witness1.example mJirIklj[...]qY9v2B/5bg==
"""


def new_key(name: str = "tresen/demo-tresen") -> PrivateKey:
    return PrivateKey(name, Ed25519PrivateKey.generate().private_bytes_raw())


KEY = new_key()


def checkpoint_note(key: PrivateKey = KEY, origin: str = ORIGIN, size: int = SIZE) -> str:
    body = Checkpoint(origin, size, TREE.root(size)).body()
    return sign_note(body, key.name, key.sign, key.verifier.key_id)


def proof_text(index: int, extra: bytes | None = None, **note) -> str:
    return format_tlog_proof(index, TREE.inclusion_proof(index, SIZE), checkpoint_note(**note), extra)


# -- the format ------------------------------------------------------------------------------------


def test_the_spec_example_parses_and_formats_back_to_the_same_text():
    proof = parse_tlog_proof(SPEC_EXAMPLE)
    assert proof.index == 73894
    assert proof.extra.startswith(b"age-v1.2.1-darwin-arm64.tar.gz")
    assert len(proof.proof) == 5
    assert proof.proof[0] == base64.b64decode("gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=")
    assert proof.checkpoint_note.startswith("example.com/fancylog\n109482\n")
    assert proof.checkpoint_note.endswith("qY9v2B/5bg==\n")
    assert format_tlog_proof(proof.index, proof.proof, proof.checkpoint_note, proof.extra) == SPEC_EXAMPLE


def test_the_text_is_header_extra_index_hashes_blank_line_and_the_note():
    note = checkpoint_note()
    text = format_tlog_proof(5, [bytes(32), b"\xff" * 32], note, b"entry")
    assert text == (
        "c2sp.org/tlog-proof@v1\n"
        "extra ZW50cnk=\n"
        "index 5\n"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "//////////////////////////////////////////8=\n"
        "\n" + note
    )
    assert format_tlog_proof(0, [], note, None) == "c2sp.org/tlog-proof@v1\nindex 0\n\n" + note


@pytest.mark.parametrize("extra", [None, b"x", bytes(range(256))])
@pytest.mark.parametrize("index", [0, 1, 12, 2**64 - 2])
@pytest.mark.parametrize("hashes", [0, 1, 4, 64])
def test_parse_reads_back_what_format_writes(index, hashes, extra):
    proof = [bytes([n]) * 32 for n in range(hashes)]
    text = format_tlog_proof(index, proof, checkpoint_note(), extra)
    assert parse_tlog_proof(text) == TlogProof(index, proof, checkpoint_note_of(text), extra)
    assert parse_tlog_proof(text.encode()) == parse_tlog_proof(text)


def checkpoint_note_of(text: str) -> str:
    return text[text.index("\n\n") + 2 :]


@pytest.mark.parametrize(
    ("index", "proof", "note", "extra"),
    [
        pytest.param(-1, [], None, None, id="negative index"),
        pytest.param(2**64 - 1, [], None, None, id="index of no leaf of a uint64 tree"),
        pytest.param(0, [bytes(31)], None, None, id="short hash"),
        pytest.param(0, [bytes(32)] * 65, None, None, id="65 hashes"),
        pytest.param(0, [], "", None, id="no note"),
        pytest.param(0, [], "\nx\n", None, id="note starting with an empty line"),
        pytest.param(0, [], "x\n\n\u2014 k c2ln\n".rstrip("\n"), None, id="note without final newline"),
        pytest.param(0, [], None, b"", id="empty extra"),
    ],
)
def test_format_refuses_what_it_could_not_write_back(index, proof, note, extra):
    with pytest.raises(TlogProofError):
        format_tlog_proof(index, proof, checkpoint_note() if note is None else note, extra)


GOOD = proof_text(3, extra=ENTRIES[3])
HEAD, NOTE = GOOD[: GOOD.index("\n\n") + 1], checkpoint_note_of(GOOD)
HASH_LINE = HEAD.split("\n")[3]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(GOOD.replace("index 3", "index 03"), id="leading zero index"),
        pytest.param(GOOD.replace("index 3", "index +3"), id="signed index"),
        pytest.param(GOOD.replace("index 3", "index  3"), id="two spaces"),
        pytest.param(GOOD.replace("index 3", "index 3 "), id="trailing space"),
        pytest.param(GOOD.replace("index 3", "index 0x3"), id="hex index"),
        pytest.param(GOOD.replace("index 3", "index"), id="index without a number"),
        pytest.param(GOOD.replace("index 3", "index 18446744073709551615"), id="index too large"),
        pytest.param(GOOD.replace("index 3\n", ""), id="no index line"),
        pytest.param(HEAD + NOTE, id="missing blank line"),
        pytest.param(HEAD[:-1], id="no checkpoint"),
        pytest.param(HEAD + "\n", id="empty checkpoint"),
        pytest.param(HEAD + "\n\n" + NOTE, id="two blank lines"),
        pytest.param(HEAD + "\n" + NOTE[:-1], id="note without final newline"),
        pytest.param(GOOD.replace(HASH_LINE, HASH_LINE.rstrip("=")), id="hash without padding"),
        pytest.param(GOOD.replace(HASH_LINE, HASH_LINE[:-2] + "B="), id="hash with stray bits"),
        pytest.param(GOOD.replace(HASH_LINE, HASH_LINE + " "), id="hash with trailing space"),
        pytest.param(GOOD.replace(HASH_LINE, "!" + HASH_LINE[1:]), id="hash not base64"),
        pytest.param(GOOD.replace(HASH_LINE, base64.b64encode(bytes(31)).decode()), id="31-byte hash"),
        pytest.param(GOOD.replace(HASH_LINE, HASH_LINE + "\ngarbage"), id="garbage line among the hashes"),
        pytest.param(GOOD.replace("index 3\n", "index 3\nthis is not a hash\n"), id="garbage line after index"),
        pytest.param(GOOD.replace("\n\n", "\nthis is not a hash\n\n", 1), id="garbage line before blank"),
        pytest.param(GOOD.replace("extra ", "extra  "), id="extra with two spaces"),
        pytest.param(GOOD.replace("extra ", "extra"), id="extra without space"),
        pytest.param(GOOD.replace("extra ", "extra !"), id="extra not base64"),
        pytest.param("c2sp.org/tlog-proof@v1\nextra \nindex 0\n\n" + NOTE, id="empty extra"),
        pytest.param(GOOD.replace("c2sp.org/tlog-proof@v1\n", "c2sp.org/tlog-proof@v2\n"), id="other version"),
        pytest.param(GOOD.replace("c2sp.org/tlog-proof@v1\n", ""), id="no header"),
        pytest.param("\n" + GOOD, id="empty line before header"),
        pytest.param(GOOD.replace("\n", "\r\n", 3), id="CRLF"),
        pytest.param(GOOD.replace("index 3\n", "index 3\nextra ZW50cnk=\n"), id="extra after index"),
        pytest.param(GOOD.replace("index 3\n", "index 3\nindex 3\n"), id="two index lines"),
        pytest.param(
            GOOD.replace("index 3\n", "index 3\n" + (HASH_LINE + "\n") * 65), id="more hashes than a tree is deep"
        ),
        pytest.param(GOOD.encode().replace(b"tresen", b"tr\xffsen"), id="not UTF-8"),
        pytest.param(GOOD.replace("tresen", "tr\udcffsen"), id="lone surrogate"),
    ],
)
def test_malformed_proofs_are_refused(text):
    with pytest.raises(TlogProofError):
        parse_tlog_proof(text)
    with pytest.raises(TlogProofError):
        verify_tlog_proof(text, [KEY.verifier], ORIGIN)


def test_the_malformed_cases_are_one_change_from_a_good_proof():
    # so each of them fails for its own reason, not because the base it changes is broken
    assert parse_tlog_proof(GOOD) == TlogProof(3, TREE.inclusion_proof(3, SIZE), NOTE, ENTRIES[3])
    assert parse_tlog_proof(HEAD + "\n" + NOTE) == parse_tlog_proof(GOOD)
    assert verify_tlog_proof(GOOD, [KEY.verifier], ORIGIN).index == 3


# -- verification ----------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(SIZE))
def test_every_entry_verifies_from_its_extra_data_alone(index):
    verified = verify_tlog_proof(proof_text(index, extra=ENTRIES[index]), [KEY.verifier], ORIGIN)
    assert verified.index == index
    assert verified.leaf_data == verified.extra == ENTRIES[index]
    assert verified.checkpoint == Checkpoint(ORIGIN, SIZE, TREE.root(SIZE))
    assert verified.verified_by == (KEY.verifier,)


@pytest.mark.parametrize("index", range(SIZE))
def test_every_entry_verifies_from_leaf_data_given(index):
    text = proof_text(index)
    verified = verify_tlog_proof(text, [KEY.verifier], ORIGIN, leaf_data=ENTRIES[index])
    assert (verified.index, verified.leaf_data, verified.extra) == (index, ENTRIES[index], None)


@pytest.mark.parametrize("index", range(SIZE))
def test_a_proof_of_one_index_does_not_prove_another(index):
    other = (index + 1) % SIZE
    text = format_tlog_proof(other, TREE.inclusion_proof(index, SIZE), checkpoint_note(), ENTRIES[index])
    with pytest.raises(TlogProofError, match="not in the checkpoint's tree"):
        verify_tlog_proof(text, [KEY.verifier], ORIGIN)


def test_an_index_beyond_the_tree_is_refused():
    text = format_tlog_proof(SIZE, TREE.inclusion_proof(SIZE - 1, SIZE), checkpoint_note(), ENTRIES[-1])
    with pytest.raises(TlogProofError, match="not in a tree of size 13"):
        verify_tlog_proof(text, [KEY.verifier], ORIGIN)


@pytest.mark.parametrize("index", [0, 6, 12])
def test_a_changed_leaf_is_refused(index):
    changed = ENTRIES[index].replace(b"placed", b"paid")
    with pytest.raises(TlogProofError, match="not in the checkpoint's tree"):
        verify_tlog_proof(proof_text(index, extra=changed), [KEY.verifier], ORIGIN)
    with pytest.raises(TlogProofError, match="not in the checkpoint's tree"):
        verify_tlog_proof(proof_text(index, extra=ENTRIES[index]), [KEY.verifier], ORIGIN, leaf_data=changed)
    # the leaf given, not the extra data, is what is proven
    with pytest.raises(TlogProofError, match="not in the checkpoint's tree"):
        verify_tlog_proof(proof_text(index, extra=ENTRIES[index]), [KEY.verifier], ORIGIN, leaf_data=b"")


@pytest.mark.parametrize("index", range(SIZE))
def test_every_altered_proof_hash_is_refused(index):
    proof = TREE.inclusion_proof(index, SIZE)
    assert proof, "every leaf of a 13-leaf tree has siblings"
    for position in range(len(proof)):
        for bit in (0, 7, 255):
            altered = list(proof)
            altered[position] = _flip(altered[position], bit)
            text = format_tlog_proof(index, altered, checkpoint_note(), ENTRIES[index])
            with pytest.raises(TlogProofError, match="not in the checkpoint's tree"):
                verify_tlog_proof(text, [KEY.verifier], ORIGIN)


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


@pytest.mark.parametrize("index", [0, 5, 12])
def test_a_proof_hash_dropped_or_added_is_refused(index):
    proof = TREE.inclusion_proof(index, SIZE)
    for altered in (proof[:-1], [*proof, proof[-1]], proof[1:]):
        text = format_tlog_proof(index, altered, checkpoint_note(), ENTRIES[index])
        with pytest.raises(TlogProofError):
            verify_tlog_proof(text, [KEY.verifier], ORIGIN)


def test_a_checkpoint_by_another_key_is_refused():
    other = new_key(KEY.name)  # same name, other key: another key id
    text = proof_text(4, extra=ENTRIES[4], key=other)
    with pytest.raises(TlogProofError, match="no trusted key signed"):
        verify_tlog_proof(text, [KEY.verifier], ORIGIN)
    assert verify_tlog_proof(text, [other.verifier], ORIGIN).verified_by == (other.verifier,)
    with pytest.raises(TlogProofError, match="no trusted key signed"):
        verify_tlog_proof(text, [], ORIGIN)


def test_a_checkpoint_whose_signature_fails_is_refused():
    text = proof_text(4, extra=ENTRIES[4])
    head, note = text[: text.index("\n\n") + 2], checkpoint_note_of(text)
    # the note text says another tree size than the one that was signed
    forged = note.replace(f"\n{SIZE}\n", f"\n{SIZE + 1}\n", 1)
    assert forged != note
    with pytest.raises(TlogProofError, match="does not verify"):
        verify_tlog_proof(head + forged, [KEY.verifier], ORIGIN)


def test_a_checkpoint_of_another_log_is_refused():
    text = proof_text(4, extra=ENTRIES[4], origin="tresen/demo-tresen/store-2")
    with pytest.raises(TlogProofError, match="of log 'tresen/demo-tresen/store-2', not 'tresen/demo-tresen/store-1'"):
        verify_tlog_proof(text, [KEY.verifier], ORIGIN)
    assert verify_tlog_proof(text, [KEY.verifier], "tresen/demo-tresen/store-2").index == 4


def test_a_signed_note_that_is_not_a_checkpoint_is_refused():
    note = sign_note("just some text\n", KEY.name, KEY.sign, KEY.verifier.key_id)
    text = format_tlog_proof(0, TREE.inclusion_proof(0, SIZE), note, ENTRIES[0])
    with pytest.raises(TlogProofError, match="not a checkpoint"):
        verify_tlog_proof(text, [KEY.verifier], ORIGIN)


def test_a_proof_without_leaf_data_or_extra_is_refused():
    with pytest.raises(TlogProofError, match="no leaf data"):
        verify_tlog_proof(proof_text(2), [KEY.verifier], ORIGIN)


def test_a_proof_against_an_older_checkpoint_verifies_against_that_checkpoint():
    # an entry proven in the tree of size 9 is proven by that checkpoint, not by the one of size 13
    size = 9
    note = checkpoint_note(size=size)
    text = format_tlog_proof(7, TREE.inclusion_proof(7, size), note, ENTRIES[7])
    assert verify_tlog_proof(text, [KEY.verifier], ORIGIN).checkpoint.size == size
    mixed = format_tlog_proof(7, TREE.inclusion_proof(7, SIZE), note, ENTRIES[7])
    with pytest.raises(TlogProofError):
        verify_tlog_proof(mixed, [KEY.verifier], ORIGIN)


def test_errors_are_note_errors_and_proof_errors():
    assert issubclass(TlogProofError, NoteError)
    assert issubclass(TlogProofError, merkle.ProofError)
