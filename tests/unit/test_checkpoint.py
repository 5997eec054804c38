"""Checkpoint text per c2sp.org/tlog-checkpoint (specs/c2sp/tlog-checkpoint.md), its example
checkpoint included, and checkpoints signed as C2SP signed notes."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tresen.domain.checkpoint import Checkpoint, CheckpointError, parse_checkpoint
from tresen.domain.signed_note import NoteError, PrivateKey, open_note, parse_verifier_key, sign_note

SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_ROOT = bytes.fromhex("0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62")
EMPTY_ROOT = hashlib.sha256(b"").digest()


def test_the_spec_example_parses_and_writes_back_the_same_text():
    checkpoint = parse_checkpoint(SPEC_BODY)
    assert checkpoint == Checkpoint("example.com/behind-the-sofa", 20852163, SPEC_ROOT)
    assert checkpoint.body() == SPEC_BODY


def test_the_body_is_origin_size_and_base64_root_one_line_each():
    origin = "tresen/tresen-prod/store_42"
    assert Checkpoint(origin, 3, SPEC_ROOT).body() == (
        "tresen/tresen-prod/store_42\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert Checkpoint(origin, 0, EMPTY_ROOT).body() == (
        "tresen/tresen-prod/store_42\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    )


def test_extension_lines_follow_the_root():
    checkpoint = Checkpoint("example.com/log", 7, SPEC_ROOT, ("ext one", "ext-two"))
    assert checkpoint.body() == "example.com/log\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next one\next-two\n"


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint("tresen/p/s", 0, EMPTY_ROOT),
        Checkpoint("tresen/p/s", 2**64 - 1, SPEC_ROOT),
        Checkpoint("tresen/p/s", 1, SPEC_ROOT, ("one", "two")),
    ],
)
def test_parse_reads_back_what_body_writes(checkpoint):
    assert parse_checkpoint(checkpoint.body()) == checkpoint


def spec_with(size: str = "20852163", root: str = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=") -> str:
    return f"example.com/behind-the-sofa\n{size}\n{root}\n"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(spec_with(size="020852163"), id="leading zero"),
        pytest.param(spec_with(size="00"), id="zero with a leading zero"),
        pytest.param(spec_with(size="+20852163"), id="plus sign"),
        pytest.param(spec_with(size="-1"), id="negative"),
        pytest.param(spec_with(size=" 20852163"), id="leading space"),
        pytest.param(spec_with(size="20852163 "), id="trailing space"),
        pytest.param(spec_with(size="20_852_163"), id="underscores"),
        pytest.param(spec_with(size="\u0663"), id="non-ascii digit"),
        pytest.param(spec_with(size="0x13e2e43"), id="hex"),
        pytest.param(spec_with(size=""), id="empty size"),
        pytest.param(spec_with(size=str(2**64)), id="size beyond uint64"),
        pytest.param(spec_with(size="1" + "0" * 25), id="size of 26 digits"),
        pytest.param(spec_with(root=base64.b64encode(SPEC_ROOT[:31]).decode()), id="31-byte root"),
        pytest.param(spec_with(root=base64.b64encode(SPEC_ROOT + b"\x00").decode()), id="33-byte root"),
        pytest.param(spec_with(root="CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I"), id="root without padding"),
        pytest.param(spec_with(root="CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J="), id="non-canonical root"),
        pytest.param(spec_with(root="CsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I="), id="url-safe root"),
        pytest.param(spec_with(root=SPEC_ROOT.hex()), id="hex root"),
        pytest.param(spec_with(root=""), id="empty root"),
        pytest.param(SPEC_BODY[:-1], id="no final newline"),
        pytest.param(SPEC_BODY + "\n", id="empty extension line"),
        pytest.param(SPEC_BODY + "ext\n\n", id="empty line after an extension"),
        pytest.param("\n" + SPEC_BODY.split("\n", 1)[1], id="empty origin"),
        pytest.param("example.com/log\n5\n", id="two lines"),
        pytest.param("", id="empty"),
        pytest.param(SPEC_BODY.replace("sofa", "sofa\r"), id="control character in the origin"),
    ],
)
def test_parse_rejects_what_tlog_checkpoint_does_not_allow(text):
    with pytest.raises(CheckpointError):
        parse_checkpoint(text)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        pytest.param("", 1, SPEC_ROOT, (), id="empty origin"),
        pytest.param("a\nb", 1, SPEC_ROOT, (), id="newline in origin"),
        pytest.param("tresen/p/s", -1, SPEC_ROOT, (), id="negative size"),
        pytest.param("tresen/p/s", 2**64, SPEC_ROOT, (), id="size beyond uint64"),
        pytest.param("tresen/p/s", 1, SPEC_ROOT[:31], (), id="31-byte root"),
        pytest.param("tresen/p/s", 1, SPEC_ROOT, ("",), id="empty extension"),
        pytest.param("tresen/p/s", 1, SPEC_ROOT, ("a\nb",), id="newline in extension"),
    ],
)
def test_a_checkpoint_cannot_hold_what_its_text_could_not_say(origin, size, root, extensions):
    with pytest.raises(CheckpointError):
        Checkpoint(origin, size, root, extensions)


def test_a_signed_checkpoint_opens_with_its_verifier_key_and_not_with_another():
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    key = PrivateKey("tresen.example/journal-key", seed)
    checkpoint = Checkpoint("tresen/tresen-prod/store_42", 5, SPEC_ROOT)
    note = sign_note(checkpoint.body(), key.name, key.sign, key.verifier.key_id)

    # The signature line checked with the cryptography package and hashlib alone.
    head, encoded = note.removesuffix("\n").rsplit(" ", 1)
    assert head == checkpoint.body() + "\n\u2014 tresen.example/journal-key"
    signed = base64.b64decode(encoded)
    public_key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    raw_public_key = public_key.public_bytes_raw()
    assert signed[:4] == hashlib.sha256(b"tresen.example/journal-key\n\x01" + raw_public_key).digest()[:4]
    public_key.verify(signed[4:], checkpoint.body().encode())
    encoded_key = base64.b64encode(b"\x01" + raw_public_key).decode()
    vkey = f"tresen.example/journal-key+{signed[:4].hex()}+{encoded_key}"
    assert key.verifier.vkey == vkey

    opened = open_note(note, [parse_verifier_key(vkey)])
    assert parse_checkpoint(opened.text) == checkpoint

    other = PrivateKey("tresen.example/journal-key", Ed25519PrivateKey.generate().private_bytes_raw())
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(note, [other.verifier])
