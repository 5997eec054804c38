"""Setting the store passkey, and approving protected actions with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..adapters.backend import Backend
from ..adapters.passkeys import hashed, load_state, verify_passkey
from .unit_of_work import Claims, Plan
from .unit_of_work import Writes
from ..domain.journal import JournalEvent
from ..domain.passkeys import passkey_needed


def set_passkey(backend: Backend, store_id: str, pin: str, protect: list[str], actor: Mapping[str, Any]) -> None:
    now = backend.now()
    doc = {
        "hash": hashed(pin),
        "protect": sorted(set(protect)),
        "failures": 0,
        "locked_until": None,
        "set_by": dict(actor),
        "set_at": now,
    }

    def build(claims: Claims) -> Plan[None]:
        event = JournalEvent("passkey.changed", {"protect": doc["protect"]})  # never the hash
        writes = Writes(dict(actor))
        writes.passkey(store_id, doc)
        return Plan(None, now, actor, [event], writes)

    backend.commit(store_id, build)


def approve(
    backend: Backend, store_id: str, action: str, role: str, offered: str | None, staff_needs_it: bool = False
) -> bool:
    """True if a passkey approved the action; False if none was needed. Raises if refused."""
    state, doc = load_state(backend.docs, store_id)
    if not passkey_needed(state, action, role, staff_needs_it):
        return False
    verify_passkey(backend.docs, store_id, state, doc, offered, backend.now())
    return True


def approved_actor(
    backend: Backend,
    store_id: str,
    action: str,
    actor: Mapping[str, Any],
    role: str,
    offered: str | None,
    staff_needs_it: bool = False,
) -> dict[str, Any]:
    """The journal's actor, noting whether a passkey approved the action. Raises if refused."""
    approved = approve(backend, store_id, action, role, offered, staff_needs_it)
    return dict(actor) | ({"passkey": True} if approved else {})
