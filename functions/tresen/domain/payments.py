"""What a provider's events do to an order. Pure: the service applies the decision.

Events arrive in any order and more than once (deduplication by event id happens before this).
An event never moves an order backwards: once paid, a late failure or cancellation changes
nothing and is journaled as ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from .changes import OrderChange
from .events import (
    OrderCanceled,
    OrderPaid,
    Payload,
    PaymentEventIgnored,
    PaymentFailed,
    PaymentMismatch,
    PaymentSucceededAfterClose,
)
from .journal import JournalEvent
from .orders import Order, PaymentRef
from .refunds import RefundRequest, ReportedRefund, plan_refund

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from .stripe_connect import AccountStatus

STRIPE = "stripe"
CLOSED_UNPAID = ("canceled", "rejected")
MADE_AT_PROVIDER = "made_at_provider"  # the reason of a refund made outside Tresen


@dataclass(frozen=True)
class PaymentRecord:
    """Our record of a provider's payment: which order it pays, and what it is to charge."""

    id: str
    store_id: str
    order_id: str
    provider: str
    amount: int
    currency: str
    created_at: datetime


@dataclass(frozen=True)
class PaymentEvent:
    provider: str
    id: str
    type: str  # payment.succeeded | payment.failed | payment.canceled
    payment_id: str
    amount: int | None = None
    currency: str | None = None
    error: str | None = None
    account: str | None = None  # the connected account it happened on (Stripe Connect)
    # the provider's payment the money moved under, where it is not `payment_id` itself (Stripe: the
    # PaymentIntent of a Checkout Session): journaled, refunded and paid out under this id
    paid_with: str | None = None
    brand: str | None = None  # the card's brand, of a payment taken at a card terminal


@dataclass(frozen=True)
class ReaderEvent:
    """A card reader's action ended (Stripe Terminal's `terminal.reader.action_succeeded` or
    `…_failed`): the payment it was asked to take, and whether it was taken. What it collected, and
    with which card, is asked of the provider."""

    provider: str
    id: str
    type: str
    payment_id: str
    succeeded: bool
    error: str | None = None  # why it failed, as the provider says it
    account: str | None = None  # the connected account it happened on


@dataclass(frozen=True)
class RefundEvent:
    provider: str
    id: str
    type: str  # as the provider names it: refund.succeeded, charge.refunded, refund.updated, ...
    payment_id: str | None
    refunds: tuple[ReportedRefund, ...] | None  # None: the event does not list them all (ask the provider)
    account: str | None = None


@dataclass(frozen=True)
class PayoutEvent:
    provider: str
    id: str
    type: str
    # payout_id, arrival_date (ISO date), amount, currency, items [{payment_id, refund_id?, amount, fee}]
    # or None where the provider must be asked for them (Stripe)
    payout: dict
    account: str | None = None


@dataclass(frozen=True)
class AccountEvent:
    """What the provider says about a connected account (Stripe's `account.updated`)."""

    provider: str
    id: str
    type: str
    account: str
    status: AccountStatus


@dataclass(frozen=True)
class BillingEvent:
    """An event about the platform's own billing of its stores, not about a store's sale: a licence
    invoice paid or its payment failed (`reference` the invoice), a card saved for the fees
    (`reference` the store, `object_id` the SetupIntent)."""

    provider: str
    id: str
    type: str
    kind: str  # invoice_paid | invoice_payment_failed | card_saved
    reference: str
    object_id: str  # the provider's payment, capture or SetupIntent
    method: str = "card"  # card | card_on_file | paypal
    amount: int | None = None  # cents


@dataclass(frozen=True)
class OtherEvent:
    """A type we do not handle, or one that changes nothing: acknowledged and recorded once."""

    provider: str
    id: str
    type: str
    reason: str | None = None  # why it changes nothing; None: its type is not handled


@dataclass(frozen=True)
class UnprocessableEvent:
    """Correctly signed but never processable: parked for an operator, never answered 5xx."""

    provider: str
    id: str  # the event's id, or `sha256_<hex of the body>` when it has no usable one
    type: str | None
    reason: str


ProviderEvent = (
    PaymentEvent
    | ReaderEvent
    | RefundEvent
    | PayoutEvent
    | AccountEvent
    | BillingEvent
    | OtherEvent
    | UnprocessableEvent
)


def decide(order: Order, event: PaymentEvent, now: datetime) -> OrderChange:
    payment_id = event.paid_with or event.payment_id
    base = {"order_id": order.id, "payment_id": payment_id, "event_id": event.id, "provider": event.provider}
    awaiting = order.status == "awaiting_payment" and order.payment_status == "unpaid"

    def change(changed: Order | None, payload: Payload, **more) -> OrderChange:
        return OrderChange(changed, (JournalEvent.of(payload),), **more)

    def ignored(reason: str) -> OrderChange:
        return change(None, PaymentEventIgnored(**base, type=event.type, reason=reason))

    state = f"order is {order.status}/{order.payment_status}"
    if event.type == "payment.succeeded":
        money = {"amount": event.amount, "currency": event.currency}
        if order.status in CLOSED_UNPAID and order.payment_status == "unpaid":
            refunded = replace(order, payment_status="refunded", refunded_amount=event.amount or 0, updated_at=now)
            return change(
                refunded,
                PaymentSucceededAfterClose(**base, **money, status=order.status),
                refund_amount=event.amount or 0,
                refund_reason="paid_after_close",
            )
        if not awaiting:
            return ignored(state)
        if event.amount != order.amount_due or event.currency != order.currency:
            expected = {"expected_amount": order.amount_due, "expected_currency": order.currency}
            mismatch = replace(order, payment_status="mismatch", updated_at=now)
            return change(mismatch, PaymentMismatch(**base, **money, **expected))
        paid = replace(
            order,
            status="paid",
            payment_status="paid",
            expires_at=None,
            updated_at=now,
            payment=at_terminal(order, "succeeded", event.brand),
        )
        # not yet a whole `order.paid`: the service adds the invoice number and the sale once it has
        # numbered the invoice (`assign_invoice`), and the entry is validated when it is appended
        return OrderChange(paid, (JournalEvent(OrderPaid.TYPE, base | money),), assign_invoice=True)
    if not awaiting:
        return ignored(state if event.type in ("payment.failed", "payment.canceled") else "unknown event type")
    if event.type == "payment.failed":
        error = event.error or "payment failed"
        failed = replace(order, last_payment_error=error, updated_at=now, payment=at_terminal(order, "failed"))
        return change(failed, PaymentFailed(**base, error=error))
    if event.type == "payment.canceled":
        canceled = replace(
            order, status="canceled", expires_at=None, updated_at=now, payment=at_terminal(order, "canceled")
        )
        return change(canceled, OrderCanceled(**base, reason="payment_canceled"))
    return ignored("unknown event type")


def at_terminal(order: Order, status: str, brand: str | None = None) -> PaymentRef | None:
    """The order's payment as its outcome left it, where a terminal took it (the staff board shows
    a card declined or canceled there); an online payment stays as the provider first described it."""
    payment = order.payment
    if payment is None or payment.terminal_id is None:
        return payment
    return replace(payment, status=status, brand=brand or payment.brand)


def refund_made_at_provider(order: Order, reported: ReportedRefund, now: datetime) -> OrderChange:
    """A refund made outside Tresen (the provider's dashboard): the money has left already, so it
    becomes a refund of the order like any other, split over the VAT rates like a refund by amount
    and capped by what is left to refund (the refund keeps what the provider reported). One the
    provider reports failed moved no money: it is recorded, the order stays as it is."""
    amount = min(reported.amount, order.totals.total - order.refunded_amount)
    if amount <= 0:
        return OrderChange(None, refund_reason=MADE_AT_PROVIDER, provider_refund=reported)
    plan = plan_refund(order, RefundRequest(amount=amount), now)
    return OrderChange(
        None if reported.status == "failed" else plan.order,
        refund_amount=plan.amount,
        refund_reason=MADE_AT_PROVIDER,
        refund_vat=plan.vat,
        provider_refund=reported,
    )
