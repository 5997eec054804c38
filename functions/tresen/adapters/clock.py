"""The current time and new identifiers: the only sources of non-determinism in the use cases."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def now() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str, length: int = 20) -> str:
    """Random, unguessable ids (also keeps Firestore writes spread over its key range)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_secret_token() -> str:
    return secrets.token_urlsafe(32)
