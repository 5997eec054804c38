"""C2SP signed notes (c2sp.org/signed-note; specs/c2sp/signed-note.md): a text ending in a newline,
a blank line, then one line per signature, `— <key name> <base64(key id ‖ signature)>`.

Only Ed25519 (signature type 0x01) is supported: it is what checkpoints are signed with. Production
signs with a key that never leaves Cloud KMS, so `sign_note` takes a `sign(message) -> signature`
function, not a key. `open_note` trusts only the verifier keys it is given and ignores signatures
by any other key, which is what lets keys rotate and witnesses add cosignatures.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"
ED25519_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
KEY_ID_SIZE = 4
SIGNATURE_PREFIX = "\u2014 "
PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
# The spec asks verifiers to cap the signatures they read, accepting at least 16; Go's
# golang.org/x/mod/sumdb/note stops at 100, and so do we.
MAX_SIGNATURES = 100
KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """A note, key or signature that is malformed, or a note that no trusted key verifies."""


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:KEY_ID_SIZE]


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def decode_base64(encoded: str, what: str) -> bytes:
    """Standard base64 in its one canonical spelling: anything else (missing padding, stray bits,
    whitespace) would let the same signature or hash be written in several ways."""
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise NoteError(f"{what} is not base64") from None
    if encode_base64(decoded) != encoded:
        raise NoteError(f"{what} is not canonical base64")
    return decoded


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 public key under its key name: what `open_note` is told to trust."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if len(self.public_key) != ED25519_KEY_SIZE:
            raise NoteError(f"an Ed25519 public key has {ED25519_KEY_SIZE} bytes, not {len(self.public_key)}")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{encode_base64(ED25519 + self.public_key)}"

    def verifies(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != ED25519_SIGNATURE_SIZE:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class PrivateKey:
    """An Ed25519 key from its 32-byte seed, for local keys and test vectors; `sign` is what
    `sign_note` takes."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if len(self.seed) != ED25519_KEY_SIZE:
            raise NoteError(f"an Ed25519 seed has {ED25519_KEY_SIZE} bytes, not {len(self.seed)}")

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def encoded(self) -> str:
        """Go's `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`, which `parse_private_key` reads."""
        return f"{PRIVATE_KEY_PREFIX}{self.name}+{self.verifier.key_id.hex()}+{encode_base64(ED25519 + self.seed)}"

    @property
    def verifier(self) -> Verifier:
        public_key = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return Verifier(self.name, public_key)


@dataclass(frozen=True)
class OpenedNote:
    text: str
    verified_by: tuple[Verifier, ...]


def _check_key_name(name: str) -> None:
    # A space would end the name in a signature line, a plus would end it in a verifier key.
    if not name or "+" in name or any(char.isspace() for char in name):
        raise NoteError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")


def _check_characters(text: str, what: str) -> None:
    if any(char < " " and char != "\n" for char in text):
        raise NoteError(f"{what} contains a control character other than newline")


def sign_note(text: str, name: str, sign: Callable[[bytes], bytes], key_id: bytes) -> str:
    if not text.endswith("\n"):
        raise NoteError("the note text must end with a newline")
    _check_characters(text, "the note text")
    _check_key_name(name)
    if len(key_id) != KEY_ID_SIZE:
        raise NoteError(f"a key id has {KEY_ID_SIZE} bytes, not {len(key_id)}")
    signature = sign(text.encode())
    if len(signature) != ED25519_SIGNATURE_SIZE:
        raise NoteError(f"an Ed25519 signature has {ED25519_SIGNATURE_SIZE} bytes, not {len(signature)}")
    return f"{text}\n{SIGNATURE_PREFIX}{name} {encode_base64(key_id + signature)}\n"


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> OpenedNote:
    """The note's text and the trusted keys whose signatures verified. Raises NoteError if the note
    is malformed, if a trusted key's signature fails, or if no trusted key signed it."""
    try:
        # A str may still hold lone surrogates, which no UTF-8 note can.
        note = (note if isinstance(note, bytes) else note.encode()).decode()
    except UnicodeError:
        raise NoteError("the note is not UTF-8") from None
    _check_characters(note, "the note")
    # The text may hold blank lines itself: the signatures follow the last one.
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("the note has no blank line before its signatures")
    text, signature_block = note[: split + 1], note[split + 2 :]
    if not signature_block.endswith("\n"):
        raise NoteError("the note has no signature lines, or its last one does not end with a newline")
    lines = signature_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"the note has more than {MAX_SIGNATURES} signatures")
    trusted = {(verifier.name, verifier.key_id): verifier for verifier in verifiers}
    verified_by: list[Verifier] = []
    for line in lines:
        name, signer_id, signature = _parse_signature_line(line)
        verifier = trusted.get((name, signer_id))
        if verifier is None:
            continue
        if not verifier.verifies(text.encode(), signature):
            raise NoteError(f"the signature by {name}+{signer_id.hex()} does not verify")
        if verifier not in verified_by:
            verified_by.append(verifier)
    if not verified_by:
        raise NoteError("no trusted key signed the note")
    return OpenedNote(text, tuple(verified_by))


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"a signature line must start with an em dash and a space: {line!r}")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    _check_key_name(name)
    signed = decode_base64(encoded, f"the signature by {name}")
    if len(signed) <= KEY_ID_SIZE:
        raise NoteError(f"the signature by {name} is too short")
    return name, signed[:KEY_ID_SIZE], signed[KEY_ID_SIZE:]


def parse_verifier_key(vkey: str) -> Verifier:
    """`<name>+<hex key id>+<base64(0x01 ‖ public key)>`, its key id checked against its key."""
    name, claimed_id, public_key = _split_key(vkey, "verifier key")
    verifier = Verifier(name, public_key)
    _check_key_id(verifier, claimed_id)
    return verifier


def parse_private_key(text: str) -> PrivateKey:
    """Go's `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ 32-byte seed)>`
    (golang.org/x/mod/sumdb/note), its key id checked against its public key."""
    if not text.startswith(PRIVATE_KEY_PREFIX):
        raise NoteError(f"a private key starts with {PRIVATE_KEY_PREFIX}")
    name, claimed_id, seed = _split_key(text[len(PRIVATE_KEY_PREFIX) :], "private key")
    key = PrivateKey(name, seed)
    _check_key_id(key.verifier, claimed_id)
    return key


def _split_key(text: str, what: str) -> tuple[str, str, bytes]:
    # Base64 may itself contain '+': only the first two separate parts.
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"a {what} has three parts separated by '+'")
    name, claimed_id, encoded = parts
    if not KEY_ID_HEX.fullmatch(claimed_id):
        raise NoteError(f"the key id of a {what} is 8 lowercase hex digits, not {claimed_id!r}")
    material = decode_base64(encoded, f"the {what}")
    if material[:1] != ED25519:
        raise NoteError(f"the {what} is not an Ed25519 key (signature type 0x01)")
    return name, claimed_id, material[1:]


def _check_key_id(verifier: Verifier, claimed_id: str) -> None:
    if verifier.key_id.hex() != claimed_id:
        raise NoteError(f"key id {claimed_id} does not belong to this key, whose id is {verifier.key_id.hex()}")
