"""Signed notes against independent known answers: the Go sumdb/note example key and note
(tests/data/signed-note, BSD-3-Clause) and the verifier-key example of c2sp.org/signed-note
(specs/c2sp/signed-note.md, CC BY 4.0)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tresen.domain.signed_note import (
    NoteError,
    PrivateKey,
    Verifier,
    key_id,
    open_note,
    parse_private_key,
    parse_verifier_key,
    sign_note,
)

VECTOR = json.loads((Path(__file__).resolve().parents[1] / "data" / "signed-note" / "peterneumann.json").read_text())
NOTE = VECTOR["signed_note"]
SIGNATURE = NOTE.rsplit(" ", 1)[1].rstrip("\n")
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def vector_verifier() -> Verifier:
    return parse_verifier_key(VECTOR["verifier_key"])


def fresh_key(name: str) -> PrivateKey:
    return PrivateKey(name, Ed25519PrivateKey.generate().private_bytes_raw())


def signature_line(key: PrivateKey, text: str) -> str:
    return sign_note(text, key.name, key.sign, key.verifier.key_id).removeprefix(text + "\n")


def test_signing_the_vector_text_with_the_vector_key_gives_the_vector_note_byte_for_byte():
    key = parse_private_key(VECTOR["private_key"])
    assert sign_note(VECTOR["text"], key.name, key.sign, key.verifier.key_id) == NOTE


def test_the_key_derived_from_the_private_key_is_the_vector_verifier_key():
    key = parse_private_key(VECTOR["private_key"])
    assert key.name == VECTOR["key_name"]
    assert key.verifier.key_id.hex() == VECTOR["key_id_hex"]
    assert key.verifier.vkey == VECTOR["verifier_key"]


def test_key_ids_match_the_vector_and_the_spec_example():
    assert key_id(VECTOR["key_name"], vector_verifier().public_key).hex() == VECTOR["key_id_hex"]
    spec = parse_verifier_key(SPEC_VKEY)
    assert key_id("example.com/foo", spec.public_key).hex() == "530d903a"
    assert spec.vkey == SPEC_VKEY


def test_the_vector_note_opens_with_the_vector_verifier_key():
    opened = open_note(NOTE, [vector_verifier()])
    assert opened.text == VECTOR["text"]
    assert opened.verified_by == (vector_verifier(),)
    assert open_note(NOTE.encode(), [vector_verifier()]).text == VECTOR["text"]


def test_the_spec_example_note_opens_with_the_spec_verifier_key():
    assert open_note(SPEC_NOTE, [parse_verifier_key(SPEC_VKEY)]).text == "This is an example message.\n"


def test_a_note_opens_only_with_the_keys_it_is_given():
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(NOTE, [fresh_key(VECTOR["key_name"]).verifier])
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(NOTE, [parse_verifier_key(SPEC_VKEY)])
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(NOTE, [])


def test_signatures_by_unknown_keys_are_ignored_so_keys_can_rotate():
    new_key = fresh_key("tresen.example/journal-2")
    note = NOTE + signature_line(new_key, VECTOR["text"])
    assert open_note(note, [new_key.verifier]).verified_by == (new_key.verifier,)
    assert open_note(note, [vector_verifier()]).verified_by == (vector_verifier(),)
    assert open_note(note, [vector_verifier(), new_key.verifier]).verified_by == (vector_verifier(), new_key.verifier)


def test_a_signature_sharing_only_the_name_or_only_the_key_id_of_a_trusted_key_is_ignored():
    other_name = NOTE.replace("— PeterNeumann ", "— PeterNeumann2 ")
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(other_name, [vector_verifier()])
    signed = base64.b64decode(SIGNATURE)
    other_id = NOTE.replace(SIGNATURE, b64(b"\x00\x00\x00\x00" + signed[4:]))
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(other_id, [vector_verifier()])


def test_a_changed_text_byte_fails_the_trusted_signature():
    changed = NOTE.replace("cryptography", "cryptographY")
    with pytest.raises(NoteError, match="does not verify"):
        open_note(changed, [vector_verifier()])


def test_an_altered_signature_fails():
    signed = bytearray(base64.b64decode(SIGNATURE))
    signed[10] ^= 0x01
    with pytest.raises(NoteError, match="does not verify"):
        open_note(NOTE.replace(SIGNATURE, b64(bytes(signed))), [vector_verifier()])
    truncated = NOTE.replace(SIGNATURE, b64(bytes(signed[:-1])))
    with pytest.raises(NoteError, match="does not verify"):
        open_note(truncated, [vector_verifier()])


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        pytest.param(NOTE.replace("\n\n", "\n"), "no blank line", id="no blank line before the signatures"),
        pytest.param(VECTOR["text"] + "\n", "no signature lines", id="no signature lines"),
        pytest.param(NOTE[:-1], "does not end with a newline", id="signature line without final newline"),
        pytest.param(NOTE + "\n", "no signature lines", id="blank line after the signatures"),
        pytest.param(NOTE.replace("— ", "- "), "em dash", id="hyphen instead of em dash"),
        pytest.param(NOTE.replace("— ", "—"), "em dash and a space", id="no space after the em dash"),
        pytest.param(NOTE.replace("— PeterNeumann ", "—  "), "invalid key name ''", id="empty key name"),
        pytest.param(NOTE.replace(SIGNATURE, SIGNATURE.rstrip("=")), "not base64", id="base64 without padding"),
        pytest.param(NOTE.replace(SIGNATURE, SIGNATURE[:-2] + "N="), "not canonical", id="non-canonical base64"),
        pytest.param(NOTE.replace(SIGNATURE, SIGNATURE + " "), "not base64", id="trailing space"),
        pytest.param(NOTE.replace(SIGNATURE, SIGNATURE.replace("/", "_")), "not base64", id="url-safe base64"),
        pytest.param(NOTE.replace(SIGNATURE, "x08gow=="), "too short", id="key id without signature"),
        pytest.param(NOTE.replace("problem,\n", "problem,\t\n"), "control character", id="tab in the text"),
        pytest.param(NOTE.replace("problem,\n", "problem,\r\n"), "control character", id="carriage return"),
        pytest.param(NOTE.encode().replace(b"\xe2\x80\x94", b"\xe2\x80"), "not UTF-8", id="not utf-8"),
        pytest.param(NOTE.replace("problem", "problem\udc80"), "not UTF-8", id="lone surrogate"),
        pytest.param(NOTE + "— unknown.example AAAAAAA=\n" * 100, "more than 100", id="more than 100 signatures"),
    ],
)
def test_malformed_notes_are_rejected(note, reason):
    with pytest.raises(NoteError, match=re.escape(reason)):
        open_note(note, [vector_verifier()])


def test_at_least_sixteen_signatures_are_read():
    note = NOTE + "— unknown.example AAAAAAA=\n" * 15
    assert open_note(note, [vector_verifier()]).text == VECTOR["text"]


def test_a_note_may_hold_blank_lines_and_its_signatures_follow_the_last_one():
    key = fresh_key("tresen.example/journal")
    text = "first\n\nthird\n\n"
    opened = open_note(sign_note(text, key.name, key.sign, key.verifier.key_id), [key.verifier])
    assert opened.text == text


def test_sign_note_writes_the_c2sp_signature_line():
    key = fresh_key("tresen.example/journal")
    note = sign_note("hello\n", key.name, key.sign, key.verifier.key_id)
    head, encoded = note.removesuffix("\n").rsplit(" ", 1)
    assert head == "hello\n\n\u2014 tresen.example/journal"
    signed = base64.b64decode(encoded)
    assert len(signed) == 68
    assert signed[:4] == key.verifier.key_id
    assert signed[4:] == key.sign(b"hello\n")


@pytest.mark.parametrize(
    ("text", "name", "key_id_bytes"),
    [
        pytest.param("no final newline", "example.com/k", b"\x00" * 4, id="text without final newline"),
        pytest.param("", "example.com/k", b"\x00" * 4, id="empty text"),
        pytest.param("tab\there\n", "example.com/k", b"\x00" * 4, id="control character"),
        pytest.param("text\n", "", b"\x00" * 4, id="empty name"),
        pytest.param("text\n", "example com", b"\x00" * 4, id="space in name"),
        pytest.param("text\n", "example\u00a0com", b"\x00" * 4, id="unicode space in name"),
        pytest.param("text\n", "example+com", b"\x00" * 4, id="plus in name"),
        pytest.param("text\n", "example.com/k", b"\x00" * 5, id="key id of five bytes"),
    ],
)
def test_sign_note_refuses_what_it_could_not_write_correctly(text, name, key_id_bytes):
    key = fresh_key("example.com/k")
    with pytest.raises(NoteError):
        sign_note(text, name, key.sign, key_id_bytes)


def test_sign_note_refuses_a_signature_that_is_not_ed25519_sized():
    with pytest.raises(NoteError):
        sign_note("text\n", "example.com/k", lambda message: b"\x00" * 63, b"\x00" * 4)


PUBLIC_KEY = base64.b64decode(VECTOR["verifier_key"].split("+", 2)[2])[1:]


@pytest.mark.parametrize(
    "vkey",
    [
        pytest.param("PeterNeumann+c74f20a3+" + b64(b"\x02" + PUBLIC_KEY), id="algorithm byte 0x02"),
        pytest.param("PeterNeumann+c74f20a3+" + b64(PUBLIC_KEY), id="no algorithm byte"),
        pytest.param("PeterNeumann+c74f20a4+" + b64(b"\x01" + PUBLIC_KEY), id="key id does not match"),
        pytest.param("PeterNeumann2+c74f20a3+" + b64(b"\x01" + PUBLIC_KEY), id="name does not match the key id"),
        pytest.param("PeterNeumann+C74F20A3+" + b64(b"\x01" + PUBLIC_KEY), id="uppercase key id"),
        pytest.param("PeterNeumann+c74f20a+" + b64(b"\x01" + PUBLIC_KEY), id="seven hex digits"),
        pytest.param("PeterNeumann+" + b64(b"\x01" + PUBLIC_KEY), id="no key id"),
        pytest.param("PeterNeumann+c74f20a3+" + b64(b"\x01" + PUBLIC_KEY[:31]), id="31-byte key"),
        pytest.param("PeterNeumann+c74f20a3+" + b64(b"\x01" + PUBLIC_KEY + b"\x00"), id="33-byte key"),
        pytest.param(VECTOR["verifier_key"].rstrip("W"), id="bad base64"),
        pytest.param("+c74f20a3+" + b64(b"\x01" + PUBLIC_KEY), id="empty name"),
        pytest.param("Peter Neumann+c74f20a3+" + b64(b"\x01" + PUBLIC_KEY), id="space in name"),
        pytest.param(VECTOR["verifier_key"] + "\n", id="trailing newline"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_verifier_keys_are_rejected(vkey):
    with pytest.raises(NoteError):
        parse_verifier_key(vkey)


SEED = base64.b64decode(VECTOR["private_key"].split("+", 4)[4])[1:]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(VECTOR["private_key"].removeprefix("PRIVATE+KEY+"), id="no PRIVATE+KEY prefix"),
        pytest.param(VECTOR["verifier_key"], id="a verifier key"),
        pytest.param("PRIVATE+KEY+PeterNeumann+c74f20a4+" + b64(b"\x01" + SEED), id="key id does not match"),
        pytest.param("PRIVATE+KEY+PeterNeumann+c74f20a3+" + b64(b"\x02" + SEED), id="algorithm byte 0x02"),
        pytest.param("PRIVATE+KEY+PeterNeumann+c74f20a3+" + b64(b"\x01" + SEED[:31]), id="31-byte seed"),
    ],
)
def test_malformed_private_keys_are_rejected(text):
    with pytest.raises(NoteError):
        parse_private_key(text)


def test_a_private_key_does_not_show_its_seed():
    key = parse_private_key(VECTOR["private_key"])
    assert key.seed == SEED
    assert repr(SEED) not in repr(key)


def test_a_private_key_is_written_exactly_as_go_writes_it():
    assert parse_private_key(VECTOR["private_key"]).encoded() == VECTOR["private_key"]
