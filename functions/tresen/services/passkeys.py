"""Setting the store passkey, and approving protected actions with it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.errors import DomainError
from ..domain.events import PasskeyChanged
from ..domain.journal import JournalEvent
from ..domain.passkeys import after_failure, check_attempt, passkey_needed
from .order_ports import OrderUnitOfWork
from .unit_of_work import Claims, Plan, Writes


@dataclass(frozen=True)
class SetPasskey:
    store_id: str
    pin: str
    protect: tuple[str, ...]  # the actions it approves
    actor: Mapping[str, Any]


def set_passkey(command: SetPasskey, uow: OrderUnitOfWork) -> None:
    now = uow.now()
    protect = sorted(set(command.protect))
    stored = {
        "hash": uow.passkeys.hashed(command.pin),
        "protect": protect,
        "failures": 0,
        "locked_until": None,
        "set_by": dict(command.actor),
        "set_at": now,
    }

    def build(claims: Claims) -> Plan[None]:
        event = JournalEvent.of(PasskeyChanged(protect=protect))  # never the hash
        writes = Writes(command.actor)
        writes.passkey(command.store_id, stored)
        return Plan(None, now, command.actor, [event], writes)

    uow.commit(command.store_id, build)


def approve(
    uow: OrderUnitOfWork, store_id: str, action: str, role: str, offered: str | None, staff_needs_it: bool = False
) -> bool:
    """True if a passkey approved the action; False if none was needed. Raises passkey_required,
    passkey_locked or passkey_invalid; a wrong one counts towards the lock, a right one resets it."""
    stored = uow.passkeys.read(store_id)
    state = stored.state if stored else None
    if not passkey_needed(state, action, role, staff_needs_it):
        return False
    now = uow.now()
    check_attempt(state, offered, now)
    if not uow.passkeys.matches(stored.hash, offered):
        record_attempts(uow, store_id, *after_failure(state, now))
        raise DomainError("passkey_invalid", "Wrong passkey.")
    if state.failures:
        record_attempts(uow, store_id, 0, None)
    return True


def record_attempts(uow: OrderUnitOfWork, store_id: str, failures: int, locked_until: datetime | None) -> None:
    writes = Writes({})  # counts only: no ledger activity to name an actor on
    writes.passkey_attempts(store_id, failures, locked_until)
    uow.commit_writes(writes)


def approved_actor(
    uow: OrderUnitOfWork,
    store_id: str,
    action: str,
    actor: Mapping[str, Any],
    role: str,
    offered: str | None,
    staff_needs_it: bool = False,
) -> dict[str, Any]:
    """The journal's actor, noting whether a passkey approved the action. Raises if refused."""
    approved = approve(uow, store_id, action, role, offered, staff_needs_it)
    return dict(actor) | ({"passkey": True} if approved else {})
