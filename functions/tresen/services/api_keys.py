"""API keys: machine access to a store's exports and journal without a staff login.

A key is `tk_` and 43 URL-safe characters (32 random bytes: 256 bits), shown once when created.
Only its SHA-256 is kept, as the id of its document `api_keys/{sha256}`. A slow hash (argon2, as
for passkeys) protects secrets that people choose and attackers can guess; nobody can guess 256
random bits, so one SHA-256 is as safe — and it lets a request find its key with a single read by
id, which is also what makes revocation immediate: every request reads the key's document.

Keys have a public id (`key_…`) of their own, used in the API, the journal and journal actors:
the hash is never shown, so nothing that reads the journal learns anything about the secret.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..adapters.backend import Backend
from ..adapters.clock import new_id
from ..adapters.repository import as_aware
from .unit_of_work import Claims, Plan
from .unit_of_work import Writes
from ..adapters.records import api_key_path
from ..domain.errors import DomainError
from ..domain.journal import JournalEvent
from .documents import Conflict, Doc
from .orders import catalog_or_404

log = logging.getLogger(__name__)
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


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the only time it exists outside the caller's hands


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def last_use_stale(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= LAST_USE_PRECISION


def create_key(backend: Backend, store_id: str, name: str, scopes: list[str], actor: Mapping[str, Any]) -> NewKey:
    catalog_or_404(backend, store_id)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise DomainError("validation_failed", f"Scopes must be some of {', '.join(SCOPES)}.")
    now, secret = backend.now(), new_secret()
    key = ApiKey(new_id("key_"), store_id, name, tuple(sorted(set(scopes))), now, dict(actor))

    def build(claims: Claims) -> Plan[NewKey]:
        writes = Writes(dict(actor))
        writes.new_api_key(key_hash(secret), key_to_doc(key))
        event = JournalEvent("api_key.created", {"key_id": key.id, "name": key.name, "scopes": list(key.scopes)})
        return Plan(NewKey(key, secret), now, actor, [event], writes)

    return backend.commit(store_id, build).result


def list_keys(backend: Backend, store_id: str) -> list[ApiKey]:
    """Every key of the store, revoked ones too, oldest first (sorted here: a handful per store,
    and no composite index needed)."""
    catalog_or_404(backend, store_id)
    found = backend.docs.query("api_keys", where=[("store_id", "==", store_id)])
    return sorted((key_from_doc(doc.data) for doc in found), key=lambda k: (k.created_at, k.id))


def revoke_key(backend: Backend, store_id: str, key_id: str, actor: Mapping[str, Any]) -> None:
    """Effective for the next request. Revoking a revoked key changes nothing (a retried DELETE)."""
    now = backend.now()

    def build(claims: Claims) -> Plan[None]:
        doc = find_key(backend, store_id, key_id)
        writes = Writes(dict(actor))
        if doc.data.get("revoked_at") is not None:
            return Plan(None, now, actor, [], writes)
        writes.api_key_revoked(doc.id, now, doc.version)
        return Plan(None, now, actor, [JournalEvent("api_key.revoked", {"key_id": key_id})], writes)

    backend.commit(store_id, build)


def find_key(backend: Backend, store_id: str, key_id: str) -> Doc:
    found = backend.docs.query("api_keys", where=[("store_id", "==", store_id), ("id", "==", key_id)], limit=1)
    if not found:
        raise DomainError("api_key_not_found", f"Store {store_id} has no API key {key_id!r}.")
    return found[0]


def authenticate(backend: Backend, secret: str, store_id: str, scope: str | None) -> str:
    """The id of the key `secret` if it may call a route of `store_id` that admits keys with
    `scope` (None: the route admits no key). Raises unauthenticated or forbidden.

    No comparison of secrets happens here: the key is found by its hash as a document id. Timing
    can at most tell how much of a hash matched, and a hash says nothing about another key."""
    doc = backend.docs.get(api_key_path(key_hash(secret))) if KEY_FORMAT.fullmatch(secret) else None
    if doc is None or doc.data.get("revoked_at") is not None:
        raise DomainError("unauthenticated", "The API key is unknown or revoked.")
    key = key_from_doc(doc.data)
    if scope is None:
        raise DomainError("forbidden", "This endpoint does not accept API keys.")
    if key.store_id != store_id:
        raise DomainError("forbidden", f"This API key is not for store {store_id!r}.")
    if scope not in key.scopes:
        raise DomainError("forbidden", f"This API key lacks the scope {scope}.")
    now = backend.now()
    if last_use_stale(key.last_used_at, now):
        record_use(backend, doc, now)
    return key.id


def record_use(backend: Backend, doc: Doc, now: datetime) -> None:
    """Last use is bookkeeping, not a state change of the books (not journaled), and a request
    must not fail over it: if another request recorded it first (the version changed), or the
    write fails, this use goes unrecorded and a later one records it."""
    batch = backend.docs.batch()
    batch.update(doc.path, {"last_used_at": now}, doc.version)
    try:
        batch.commit()
    except Conflict:
        pass  # recorded by a concurrent request, or the key was revoked meanwhile (checked next time)
    except Exception as error:
        log.warning("API key %s: could not record its last use: %r", doc.data.get("id"), error)


def key_to_doc(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "store_id": key.store_id,
        "name": key.name,
        "scopes": list(key.scopes),
        "created_at": key.created_at,
        "created_by": dict(key.created_by),
        "revoked_at": key.revoked_at,
        "last_used_at": key.last_used_at,
    }


def key_from_doc(doc: Mapping[str, Any]) -> ApiKey:
    def moment(name: str) -> datetime | None:
        return as_aware(doc[name]) if doc.get(name) else None

    return ApiKey(
        id=doc["id"],
        store_id=doc["store_id"],
        name=doc["name"],
        scopes=tuple(doc["scopes"]),
        created_at=as_aware(doc["created_at"]),
        created_by=doc["created_by"],
        revoked_at=moment("revoked_at"),
        last_used_at=moment("last_used_at"),
    )
