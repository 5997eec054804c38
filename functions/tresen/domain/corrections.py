"""Corrections of unpaid orders: voiding items and giving discounts. Totals and VAT are recomputed
from the order's own catalog prices; a paid order is corrected by a refund instead."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from .errors import DomainError, FieldError
from .orders import Order, taxable, totals_for

VOID_GRACE = timedelta(seconds=30)  # removing items this soon after placing needs no passkey
CORRECTABLE = ("awaiting_payment", "placed")


def check_unpaid(order: Order) -> None:
    if order.status not in CORRECTABLE or order.payment_status != "unpaid":
        raise DomainError("order_not_unpaid", f"Order {order.id} is {order.status}/{order.payment_status}: refund it.")


def void_needs_passkey(order: Order, now: datetime) -> bool:
    return now - order.created_at > VOID_GRACE


def void_lines(order: Order, lines: tuple[tuple[str, int], ...], now: datetime) -> Order:
    check_unpaid(order)
    remaining = {line.id: line.quantity for line in order.lines}
    for index, (line_id, quantity) in enumerate(lines):
        if line_id not in remaining:
            raise DomainError("validation_failed", "Unknown line.", [FieldError(f"lines[{index}].line_id", "unknown")])
        if quantity > remaining[line_id]:
            raise DomainError(
                "validation_failed",
                "Cannot void more than ordered.",
                [FieldError(f"lines[{index}].quantity", f"at most {remaining[line_id]}")],
            )
        remaining[line_id] -= quantity
    kept = tuple(
        replace(line, quantity=remaining[line.id], total=line.unit_price * remaining[line.id])
        for line in order.lines
        if remaining[line.id] > 0
    )
    totals = totals_for(kept, discount=min(order.totals.discount, taxable(kept)), tip=order.totals.tip if kept else 0)
    status = order.status if kept else "canceled"  # every item voided before payment
    return replace(order, lines=kept, totals=totals, status=status, updated_at=now)


def discount(order: Order, amount: int | None, percent: int | None, now: datetime) -> Order:
    check_unpaid(order)
    goods = taxable(order.lines)  # gift cards sold keep their face value
    off = amount if amount is not None else (goods * percent * 2 + 100) // 200  # half up
    if off > goods:
        raise DomainError(
            "validation_failed", "A discount cannot exceed the goods.", [FieldError("amount", f"at most {goods}")]
        )
    return replace(order, totals=totals_for(order.lines, discount=off, tip=order.totals.tip), updated_at=now)
