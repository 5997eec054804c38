"""Refunds of paid orders: by amount or by lines, never more than what was paid.

A refund by lines takes the order's own prices and remembers the quantities refunded per line, so
a line cannot be refunded twice. A refund by amount is split over the VAT rates in proportion to
the order's gross per rate (largest remainder, so the parts add up to the cent).

A refund's status only moves forward: pending → succeeded or failed, succeeded → failed (the
provider could not pay it out after all); failed is final. Whatever order the provider's reports
arrive in, the last word is the furthest one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from .errors import DomainError, FieldError
from .money import VatLine, net_of, split_by_rate
from .orders import Order

REFUNDABLE = ("paid", "partially_refunded", "refunded")  # fully refunded: "exceeds", not "unpaid"
STATUS_MOVES = {"pending": ("succeeded", "failed"), "succeeded": ("failed",), "failed": ()}


@dataclass(frozen=True)
class RefundRequest:
    amount: int | None = None
    lines: tuple[tuple[str, int], ...] = ()  # (line id, quantity)
    reason: str | None = None


@dataclass(frozen=True)
class RefundPlan:
    order: Order
    amount: int
    vat: tuple[VatLine, ...]


@dataclass(frozen=True)
class Refund:
    """A refund of an order: how much, through whom, and where it stands."""

    id: str
    store_id: str
    order_id: str
    payment_id: str | None  # None: paid at the counter (an on-site order)
    provider: str  # the payment's provider, or `counter`
    amount: int
    provider_amount: int  # paid back through the provider (or at the counter)
    giftcard_amount: int  # credited to gift cards
    to: str  # original | giftcard
    status: str  # pending | succeeded | failed
    reason: str
    created_at: datetime
    vat: tuple[VatLine, ...]
    lines: dict[str, int]  # line id → quantity, for refunds by lines
    provider_refund_id: str | None = None  # once the provider has told it
    provider_reported_amount: int | None = None  # a refund made at the provider: what it reported


@dataclass(frozen=True)
class ReportedRefund:
    """A refund as its provider reports it: in the answer to our request, or in a webhook."""

    id: str  # the provider's refund id
    amount: int
    status: str  # pending | succeeded | failed
    payment_id: str | None = None
    tresen_refund_id: str | None = None  # ours, when Tresen asked for the refund (Stripe: its metadata)


ON_SITE_SETTLED = ("placed", "accepted", "ready", "completed", "out_for_delivery", "delivered")
VOUCHERS = "vouchers"  # the share of gift cards sold, beside the VAT rates


def paid(order: Order) -> bool:
    """Online: the provider confirmed it. On site: paid at the counter, outside Tresen, once placed."""
    if order.payment_method == "on_site":
        return order.status in ON_SITE_SETTLED
    return order.payment_status in REFUNDABLE


def plan_refund(order: Order, request: RefundRequest, now: datetime) -> RefundPlan:
    if not paid(order):
        raise DomainError("order_not_paid", f"Order {order.id} has no payment to refund ({order.payment_status}).")
    refunded_quantities = dict(order.refunded_quantities)
    if request.lines:
        gross_by_rate: dict[str, int] = {}
        lines = {line.id: line for line in order.lines}
        for index, (line_id, quantity) in enumerate(request.lines):
            line = lines.get(line_id)
            if line is None:
                raise DomainError(
                    "validation_failed", "Unknown line.", [FieldError(f"lines[{index}].line_id", "unknown")]
                )
            if line.kind == "giftcard":
                raise DomainError(
                    "validation_failed",
                    "A sold gift card is not refunded as a line: redeem or deactivate the card.",
                    [FieldError(f"lines[{index}].line_id", "gift card")],
                )
            if refunded_quantities.get(line_id, 0) + quantity > line.quantity:
                raise DomainError("refund_exceeds_paid", f"Line {line_id} has fewer than {quantity} left to refund.")
            refunded_quantities[line_id] = refunded_quantities.get(line_id, 0) + quantity
            gross_by_rate[line.vat_rate] = gross_by_rate.get(line.vat_rate, 0) + line.unit_price * quantity
        amount = sum(gross_by_rate.values())
    else:
        amount = request.amount or 0
        # gift cards sold in the order bear no VAT: their share of the refund has none either
        shares = {v.rate: v.gross for v in order.totals.vat} | {VOUCHERS: order.totals.giftcards_sold}
        gross_by_rate = split_by_rate(amount, shares)
        gross_by_rate.pop(VOUCHERS, None)
    if amount <= 0:
        raise DomainError("validation_failed", "A refund must be more than 0.", [FieldError("amount", "must be > 0")])
    refunded = order.refunded_amount + amount
    total = order.totals.total  # paid through the provider (or at the counter) and by gift cards
    if refunded > total:
        left = total - order.refunded_amount
        raise DomainError("refund_exceeds_paid", f"Only {left} cents of {total} are left to refund.")
    changed = replace(
        order,
        refunded_amount=refunded,
        refunded_quantities=refunded_quantities,
        payment_status="refunded" if refunded == total else "partially_refunded",
        updated_at=now,
    )
    vat = tuple(
        VatLine(rate, net_of(gross, int(rate)), gross - net_of(gross, int(rate)), gross)
        for rate, gross in sorted(gross_by_rate.items(), key=lambda item: int(item[0]))
        if gross
    )
    return RefundPlan(changed, amount, vat)


def refund_reversed(order: Order, amount: int, lines: dict[str, int], now: datetime) -> Order:
    """The order after a refund the provider reported failed: the amount is refundable again."""
    refunded = order.refunded_amount - amount
    quantities = {k: v - lines.get(k, 0) for k, v in order.refunded_quantities.items() if v - lines.get(k, 0) > 0}
    status = order.payment_status
    if order.payment_status in REFUNDABLE:
        status = "paid" if refunded == 0 else "partially_refunded"
    return replace(
        order, refunded_amount=refunded, refunded_quantities=quantities, payment_status=status, updated_at=now
    )


def status_after(current: str, reported: str) -> str:
    """The refund's status once the provider reported `reported`: never backwards."""
    return reported if reported in STATUS_MOVES[current] else current


def refund_id_at_provider(provider: str, provider_refund_id: str) -> str:
    """Our id for a refund made at the provider (its dashboard), derived from the provider's id: two
    events about it can only ever create the same document, once."""
    return f"re_{provider}_{provider_refund_id}"
