"""API keys: created and revoked by the owner (journaled), listed without their secrets, and
presented by machines instead of a staff login (domain/api_keys.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.api_keys import KEY_FORMAT, PREFIX, ApiKey, check_admitted, checked_scopes, key_hash, last_use_stale
from ..domain.errors import DomainError
from ..domain.events import ApiKeyCreated, ApiKeyRevoked
from ..domain.journal import JournalEvent
from .documents import Conflict
from .order_ports import catalog_or_404
from .setup_ports import SetupUnitOfWork, StoredKey
from .unit_of_work import Claims, Plan, Writes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreateKey:
    store_id: str
    name: str
    scopes: tuple[str, ...]
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class RevokeKey:
    """Effective for the next request. Revoking a revoked key changes nothing (a retried DELETE)."""

    store_id: str
    key_id: str
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the only time it exists outside the caller's hands


def create_key(command: CreateKey, uow: SetupUnitOfWork) -> NewKey:
    catalog_or_404(uow, command.store_id)
    scopes = checked_scopes(command.scopes)
    now, secret = uow.now(), PREFIX + uow.new_secret_token()
    key = ApiKey(uow.new_id("key_"), command.store_id, command.name, scopes, now, dict(command.actor))
    created = ApiKeyCreated(key_id=key.id, name=key.name, scopes=list(key.scopes))

    def build(claims: Claims) -> Plan[NewKey]:
        writes = Writes(command.actor)
        writes.new_api_key(key_hash(secret), key)
        return Plan(NewKey(key, secret), now, command.actor, [JournalEvent.of(created)], writes)

    return uow.commit(command.store_id, build).result


def list_keys(uow: SetupUnitOfWork, store_id: str) -> list[ApiKey]:
    """Every key of the store, revoked ones too, oldest first (sorted here: a handful per store,
    and no composite index needed)."""
    catalog_or_404(uow, store_id)
    return sorted(uow.api_keys.of_store(store_id), key=lambda key: (key.created_at, key.id))


def revoke_key(command: RevokeKey, uow: SetupUnitOfWork) -> None:
    now, actor = uow.now(), command.actor

    def build(claims: Claims) -> Plan[None]:
        stored = uow.api_keys.in_store(command.store_id, command.key_id)
        if stored is None:
            raise DomainError("api_key_not_found", f"Store {command.store_id} has no API key {command.key_id!r}.")
        writes = Writes(actor)
        if stored.key.revoked_at is not None:
            return Plan(None, now, actor, [], writes)
        writes.api_key_revoked(stored.key_hash, now, stored.read_at)
        return Plan(None, now, actor, [JournalEvent.of(ApiKeyRevoked(key_id=command.key_id))], writes)

    uow.commit(command.store_id, build)


def authenticate(uow: SetupUnitOfWork, secret: str, store_id: str, scope: str | None) -> str:
    """The id of the key `secret` if it may call a route of `store_id` that admits keys with
    `scope` (None: the route admits no key). Raises unauthenticated or forbidden.

    No comparison of secrets happens here: the key is found by its hash. Timing can at most tell
    how much of a hash matched, and a hash says nothing about another key."""
    stored = uow.api_keys.by_hash(key_hash(secret)) if KEY_FORMAT.fullmatch(secret) else None
    if stored is None or stored.key.revoked_at is not None:
        raise DomainError("unauthenticated", "The API key is unknown or revoked.")
    check_admitted(stored.key, store_id, scope)
    now = uow.now()
    if last_use_stale(stored.key.last_used_at, now):
        record_use(uow, stored, now)
    return stored.key.id


def record_use(uow: SetupUnitOfWork, stored: StoredKey, now: datetime) -> None:
    """Last use is bookkeeping, not a state change of the books (not journaled), and a request
    must not fail over it: if another request recorded it first (the version changed), or the
    write fails, this use goes unrecorded and a later one records it."""
    used = Writes({"type": "api_key", "key_id": stored.key.id})
    used.api_key_used(stored.key_hash, now, stored.read_at)
    try:
        uow.commit_writes(used)
    except Conflict:
        pass  # recorded by a concurrent request, or the key was revoked meanwhile (checked next time)
    except Exception as error:
        log.warning("API key %s: could not record its last use: %r", stored.key.id, error)
