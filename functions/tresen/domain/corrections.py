"""Corrections of unpaid orders: voiding items and giving discounts. Totals and VAT are recomputed
from the order's own catalog prices; a paid order is corrected by a refund instead.

An order's promotion stays on the lines it was given on: voiding some of them gives it again on what
is left of them (a percent of less, an amount at most their total). A staff discount comes on top
of the promotion's, over what the promotion left of each VAT rate, in proportion.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from .errors import DomainError, FieldError
from .money import VatLine, vat_breakdown
from .orders import Order, taxable, totals_for
from .promotions import given_on

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
    given = order.promotion
    promotion = given_on(given, kept, given.line_ids) if given else None
    promoted = promotion.discount if promotion else 0
    staff = min(order.totals.discount - (given.discount if given else 0), taxable(kept) - promoted)
    tip = order.totals.tip if kept else 0
    totals = totals_for(kept, staff + promoted, tip, promotion.by_rate if promotion else None)
    status = order.status if kept else "canceled"  # every item voided before payment
    return replace(order, lines=kept, totals=totals, promotion=promotion, status=status, updated_at=now)


def discount(order: Order, amount: int | None, percent: int | None, now: datetime) -> Order:
    check_unpaid(order)
    promoted = order.promotion.discount if order.promotion else 0
    goods = taxable(order.lines) - promoted  # gift cards sold keep their face value
    off = amount if amount is not None else (goods * percent * 2 + 100) // 200  # half up
    if off > goods:
        raise DomainError(
            "validation_failed", "A discount cannot exceed the goods.", [FieldError("amount", f"at most {goods}")]
        )
    by_rate = order.promotion.by_rate if order.promotion else None
    totals = totals_for(order.lines, discount=promoted + off, tip=order.totals.tip, by_rate=by_rate)
    return replace(order, totals=totals, updated_at=now)


def reduced_vat(before: Order, after: Order) -> list[VatLine]:
    """What a correction took off each VAT rate's gross, with its net and VAT."""
    now = {line.rate: line.gross for line in after.totals.vat}
    taken = ((line.rate, line.gross - now.get(line.rate, 0)) for line in before.totals.vat)
    return vat_breakdown((rate, gross) for rate, gross in taken if gross)
