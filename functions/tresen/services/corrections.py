"""Corrections of unpaid orders: voiding items and giving discounts, each journaled with the new
totals; the store's passkey approves them where it protects them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..adapters.backend import Backend
from ..domain.changes import OrderChange
from ..domain.corrections import discount, void_lines, void_needs_passkey
from ..domain.journal import JournalEvent
from ..domain.orders import Order
from .order_changes import change_order
from .orders import OrderView, catalog_or_404, order_for_staff, with_refunds
from .passkeys import approved_actor


def void_items(
    backend: Backend,
    store_id: str,
    order_id: str,
    lines: tuple[tuple[str, int], ...],
    reason: str | None,
    actor: Mapping[str, Any],
    role: str,
    passkey: str | None,
) -> OrderView:
    """Remove items from an unpaid order: free within 30 s of placement, after that approved by
    the passkey where the store protects `void_unpaid`."""
    if void_needs_passkey(order_for_staff(backend, store_id, order_id), backend.now()):
        actor = approved_actor(backend, store_id, "void_unpaid", actor, role, passkey)
    event = JournalEvent("order.voided", {"lines": [{"line_id": i, "quantity": q} for i, q in lines], "reason": reason})
    return correct_order(backend, store_id, order_id, lambda order, now: void_lines(order, lines, now), event, actor)


def discount_order(
    backend: Backend,
    store_id: str,
    order_id: str,
    amount: int | None,
    percent: int | None,
    reason: str | None,
    actor: Mapping[str, Any],
    role: str,
    passkey: str | None,
) -> OrderView:
    """A discount by amount or percent; staff may give one only with the passkey."""
    actor = approved_actor(backend, store_id, "discount", actor, role, passkey, staff_needs_it=True)
    event = JournalEvent("order.discounted", {"amount": amount, "percent": percent, "reason": reason})
    return correct_order(
        backend, store_id, order_id, lambda order, now: discount(order, amount, percent, now), event, actor
    )


def correct_order(
    backend: Backend,
    store_id: str,
    order_id: str,
    correct: Callable[[Order, datetime], Order],
    event: JournalEvent,
    actor: Mapping[str, Any],
) -> OrderView:
    """A void or discount on an unpaid order, journaled with the new totals."""
    store, _ = catalog_or_404(backend, store_id)
    now = backend.now()

    def decide(order: Order) -> OrderChange:
        changed = correct(order, now)
        totals = {
            "subtotal": changed.totals.subtotal,
            "discount": changed.totals.discount,
            "total": changed.totals.total,
        }
        reduced_by = order.totals.total - changed.totals.total  # for the closing, which sees only this entry
        data = {**event.data, "order_id": order.id, "totals": totals, "reduced_by": reduced_by}
        data["status"] = changed.status
        return OrderChange(changed, (JournalEvent(event.type, data),))

    return with_refunds(backend, change_order(backend, store, order_id, decide, actor, now).order)
