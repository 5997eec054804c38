"""Signers for the journal's checkpoints: a local Ed25519 key for dev and tests.

Production signs in Cloud KMS (adapters/kms_signer.py). The local key is kept in
`TRESEN_DATA_DIR/journal-signing.key` (or the user's cache directory) in Go's `PRIVATE+KEY+…`
form, so checkpoints signed before a restart still verify after it; tests make a key per run.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..domain.signed_note import PrivateKey, Verifier, parse_private_key

KEY_FILE = "journal-signing.key"


def key_name(project: str) -> str:
    """One key signs every store's checkpoints, so it is named after the project, not an origin."""
    return f"tresen/{project}"


class LocalSigner:
    def __init__(self, key: PrivateKey):
        self._key = key
        self.verifier: Verifier = key.verifier

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def default_key_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tresen"


def new_key(name: str) -> PrivateKey:
    return PrivateKey(name, Ed25519PrivateKey.generate().private_bytes_raw())


def local_signer(data_dir: str | Path | None, name: str) -> LocalSigner:
    if not data_dir:
        return LocalSigner(new_key(name))
    path = Path(data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Created exclusively and readable by its owner only; a second process starting at the same
        # moment reads the key the first one wrote.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return LocalSigner(parse_private_key(path.read_text().strip()))
    with os.fdopen(descriptor, "w") as file:
        file.write(new_key(name).encoded() + "\n")
    return LocalSigner(parse_private_key(path.read_text().strip()))
