"""What a provider's payment event does to an order. Pure: the service applies the decision.

Events arrive in any order and more than once (deduplication by event id happens before this).
An event never moves an order backwards: once paid, a late failure or cancellation changes
nothing and is journaled as ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from .journal import JournalEvent
from .orders import Order

CLOSED_UNPAID = ("canceled", "rejected")


@dataclass(frozen=True)
class PaymentEvent:
    provider: str
    id: str
    type: str  # payment.succeeded | payment.failed | payment.canceled
    payment_id: str
    amount: int | None = None
    currency: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RefundEvent:
    provider: str
    id: str
    type: str  # refund.succeeded | refund.failed
    provider_refund_id: str


@dataclass(frozen=True)
class PaymentDecision:
    order: Order | None  # the changed order, or None when nothing changes
    journal: JournalEvent
    assign_invoice: bool = False
    refund_amount: int = 0  # money that arrived for a closed order and must go back at once


def decide(order: Order, event: PaymentEvent, now: datetime) -> PaymentDecision:
    base = {"order_id": order.id, "payment_id": event.payment_id, "event_id": event.id, "provider": event.provider}
    awaiting = order.status == "awaiting_payment" and order.payment_status == "unpaid"

    def ignored(reason: str) -> PaymentDecision:
        return PaymentDecision(
            None, JournalEvent("payment.event_ignored", base | {"type": event.type, "reason": reason})
        )

    if event.type == "payment.succeeded":
        money = base | {"amount": event.amount, "currency": event.currency}
        if order.status in CLOSED_UNPAID and order.payment_status == "unpaid":
            changed = replace(order, payment_status="refunded", refunded_amount=event.amount or 0, updated_at=now)
            return PaymentDecision(
                changed,
                JournalEvent("payment.succeeded_after_close", money | {"status": order.status}),
                refund_amount=event.amount or 0,
            )
        if not awaiting:
            return ignored(f"order is {order.status}/{order.payment_status}")
        if event.amount != order.amount_due or event.currency != order.currency:
            changed = replace(order, payment_status="mismatch", updated_at=now)
            expected = {"expected_amount": order.amount_due, "expected_currency": order.currency}
            return PaymentDecision(changed, JournalEvent("payment.mismatch", money | expected))
        paid = replace(order, status="paid", payment_status="paid", expires_at=None, updated_at=now)
        return PaymentDecision(paid, JournalEvent("order.paid", money), assign_invoice=True)
    if event.type == "payment.failed":
        if not awaiting:
            return ignored(f"order is {order.status}/{order.payment_status}")
        changed = replace(order, last_payment_error=event.error or "payment failed", updated_at=now)
        return PaymentDecision(changed, JournalEvent("payment.failed", base | {"error": changed.last_payment_error}))
    if event.type == "payment.canceled":
        if not awaiting:
            return ignored(f"order is {order.status}/{order.payment_status}")
        canceled = replace(order, status="canceled", expires_at=None, updated_at=now)
        return PaymentDecision(canceled, JournalEvent("order.canceled", base | {"reason": "payment_canceled"}))
    return ignored("unknown event type")
