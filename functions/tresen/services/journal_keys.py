"""The keys an audit trusts: the public keys Tresen lists (`GET /v1/journal/public-keys`), or
C2SP verifier keys given one per line."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..domain.signed_note import NoteError, Verifier, parse_verifier_key


class KeysError(ValueError):
    """A keys file (or registry entry) that does not name trustworthy keys."""


def read_keys(text: str) -> list[Verifier]:
    """The keys to trust: the JSON answer of `GET /v1/journal/public-keys`, or one C2SP verifier key
    per line (blank lines and `#` comments ignored)."""
    if text.lstrip().startswith("["):
        try:
            listed = json.loads(text)
        except ValueError as error:
            raise KeysError(f"not JSON: {error}") from None
        keys = [key_from_registry(key, f"key {n}") for n, key in enumerate(listed, 1)]
    else:
        keys = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                try:
                    keys.append(parse_verifier_key(line.strip()))
                except NoteError as error:
                    raise KeysError(f"line {n}: {error}") from None
    if not keys:
        raise KeysError("no keys in it")
    return keys


def key_from_registry(key: Any, where: str) -> Verifier:
    """One `{key_id, vkey, public_key, …}` of the public keys: its `vkey`, which must agree with the
    key id and public key listed beside it."""
    if not isinstance(key, dict) or not isinstance(key.get("vkey"), str):
        raise KeysError(f"{where}: no vkey")
    try:
        verifier = parse_verifier_key(key["vkey"])
    except NoteError as error:
        raise KeysError(f"{where}: {error}") from None
    if "key_id" in key and key["key_id"] != verifier.key_id.hex():
        raise KeysError(f"{where}: key_id {key['key_id']!r} is not its vkey's {verifier.key_id.hex()}")
    if "public_key" in key and key["public_key"] != base64.b64encode(verifier.public_key).decode():
        raise KeysError(f"{where}: public_key is not its vkey's")
    return verifier
