"""Corrections of unpaid orders: voiding items and giving discounts, each journaled with the new
totals; the store's passkey approves them where it protects them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.changes import OrderChange
from ..domain.corrections import discount, reduced_vat, void_lines, void_needs_passkey
from ..domain.events import OrderDiscounted, OrderVoided
from ..domain.journal import JournalEvent
from ..domain.money import vat_records
from ..domain.orders import Order
from .order_changes import ChangeOrder, change_order
from .order_ports import OrderUnitOfWork, catalog_or_404
from .order_views import OrderView, order_for_staff, with_refunds
from .passkeys import approved_actor


@dataclass(frozen=True)
class VoidItems:
    store_id: str
    order_id: str
    lines: tuple[tuple[str, int], ...]  # (line id, quantity taken off)
    reason: str | None
    actor: Mapping[str, Any]
    role: str
    passkey: str | None


@dataclass(frozen=True)
class DiscountOrder:
    store_id: str
    order_id: str
    amount: int | None  # in cents; or
    percent: int | None
    reason: str | None
    actor: Mapping[str, Any]
    role: str
    passkey: str | None


def void_items(command: VoidItems, uow: OrderUnitOfWork) -> OrderView:
    """Remove items from an unpaid order: free within 30 s of placement, after that approved by
    the passkey where the store protects `void_unpaid`."""
    actor = command.actor
    if void_needs_passkey(order_for_staff(uow, command.store_id, command.order_id), uow.now()):
        actor = approved_actor(uow, command.store_id, "void_unpaid", actor, command.role, command.passkey)
    lines = [{"line_id": line_id, "quantity": quantity} for line_id, quantity in command.lines]

    def voided(before: Order, after: Order) -> JournalEvent:
        return JournalEvent.of(OrderVoided(lines=lines, reason=command.reason, **corrected(before, after)))

    def void(order: Order, now: datetime) -> Order:
        return void_lines(order, command.lines, now)

    return correct_order(uow, command.store_id, command.order_id, void, voided, actor)


def discount_order(command: DiscountOrder, uow: OrderUnitOfWork) -> OrderView:
    """A discount by amount or percent; staff may give one only with the passkey."""
    actor = approved_actor(
        uow, command.store_id, "discount", command.actor, command.role, command.passkey, staff_needs_it=True
    )
    amount, percent = command.amount, command.percent

    def discounted(before: Order, after: Order) -> JournalEvent:
        given = OrderDiscounted(
            amount=amount,
            percent=percent,
            reason=command.reason,
            vat=vat_records(reduced_vat(before, after)),
            **corrected(before, after),
        )
        return JournalEvent.of(given)

    def give(order: Order, now: datetime) -> Order:
        return discount(order, amount, percent, now)

    return correct_order(uow, command.store_id, command.order_id, give, discounted, actor)


def correct_order(
    uow: OrderUnitOfWork,
    store_id: str,
    order_id: str,
    correct: Callable[[Order, datetime], Order],
    journaled: Callable[[Order, Order], JournalEvent],
    actor: Mapping[str, Any],
) -> OrderView:
    """A void or discount on an unpaid order, journaled with the new totals."""
    store, _ = catalog_or_404(uow, store_id)
    now = uow.now()

    def decide(order: Order) -> OrderChange:
        changed = correct(order, now)
        return OrderChange(changed, (journaled(order, changed),))

    return with_refunds(uow, change_order(ChangeOrder(store, order_id, decide, actor, now), uow).order)


def corrected(before: Order, after: Order) -> dict[str, Any]:
    """What every correction's entry says: the new totals, what it took off the total (for the
    closing, which sees only this entry) and the order's status after it."""
    totals = {"subtotal": after.totals.subtotal, "discount": after.totals.discount, "total": after.totals.total}
    reduced_by = before.totals.total - after.totals.total
    return {"order_id": before.id, "totals": totals, "reduced_by": reduced_by, "status": after.status}
