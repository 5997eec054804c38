"""API keys: machine access to a store's exports and journal without a staff login (no I/O).

A key is `tk_` and 43 URL-safe characters (32 random bytes: 256 bits), shown once when created.
Only its SHA-256 is kept, and the key is found by it. A slow hash (argon2, as for passkeys)
protects secrets that people choose and attackers can guess; nobody can guess 256 random bits, so
one SHA-256 is as safe — and it lets a request find its key with a single read, which is also what
makes revocation immediate: every request reads the key as it is now.

Keys have a public id (`key_…`) of their own, used in the API, the journal and journal actors:
the hash is never shown, so nothing that reads the journal learns anything about the secret.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import DomainError

SCOPES = ("exports:read", "journal:read")
PREFIX = "tk_"
KEY_FORMAT = re.compile(r"tk_[A-Za-z0-9_-]{43}")
# Last use is recorded at most once an hour per key: enough to tell a key in use from a forgotten
# one, without a write on every request (a busy integration would otherwise write per call).
LAST_USE_PRECISION = timedelta(hours=1)


@dataclass(frozen=True)
class ApiKey:
    id: str
    store_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: Mapping[str, Any]
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def checked_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes asked for, each once and sorted; refused unless some and all known."""
    asked = set(scopes)
    if not asked or asked - set(SCOPES):
        raise DomainError("validation_failed", f"Scopes must be some of {', '.join(SCOPES)}.")
    return tuple(sorted(asked))


def check_admitted(key: ApiKey, store_id: str, scope: str | None) -> None:
    """Refuses (forbidden) unless `key` may call a route of `store_id` that admits keys with
    `scope` (None: the route admits no key)."""
    if scope is None:
        raise DomainError("forbidden", "This endpoint does not accept API keys.")
    if key.store_id != store_id:
        raise DomainError("forbidden", f"This API key is not for store {store_id!r}.")
    if scope not in key.scopes:
        raise DomainError("forbidden", f"This API key lacks the scope {scope}.")


def last_use_stale(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= LAST_USE_PRECISION
