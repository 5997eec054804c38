"""Stripe: PaymentIntents and refunds through the `stripe` library; its webhooks verified by it
and read into our events.

Every call that moves money carries an idempotency key derived from our own id (the order for a
PaymentIntent, the refund for a refund), so a retry after a lost answer never charges or pays
back twice. `HTTP_CLIENT` is the library's pluggable transport: tests put a fake there; in
production it stays None and the library talks to api.stripe.com.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from ..config import settings
from ..domain.ids import is_id
from ..domain.orders import PaymentRef
from ..domain.payments import OtherEvent, PaymentEvent, PayoutEvent, ProviderEvent, RefundEvent
from ..domain.refunds import ReportedRefund
from ..domain.signatures import InvalidSignature, check_timestamp, signature_timestamp
from .webhook_bodies import Body, Cents, EventType, PayoutCents, ProviderId, read_event, validated

HTTP_CLIENT = None
PAYMENT_EVENTS = {
    "payment_intent.succeeded": "payment.succeeded",
    "payment_intent.payment_failed": "payment.failed",
    "payment_intent.canceled": "payment.canceled",
}
REFUND_EVENTS = ("charge.refunded", "refund.created", "refund.updated")
# Stripe's refund statuses in ours: waiting on the customer is still pending; canceled paid nothing back
REFUND_STATUS = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}
StripeCurrency = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z]{3}$")]  # Stripe writes "eur"


class StripeEventData(Body):
    object: dict


class StripeEventIn(Body):
    """Stripe's Event: `data.object` is the PaymentIntent, Charge, Refund or Payout it is about."""

    id: ProviderId
    type: EventType
    data: StripeEventData


class StripePaymentError(Body):
    message: Annotated[str, StringConstraints(max_length=500)] | None = None


class StripePaymentIntentIn(Body):
    id: ProviderId
    amount: Cents
    amount_received: Cents = 0
    currency: StripeCurrency
    last_payment_error: StripePaymentError | None = None


class StripeRefundIn(Body):
    id: ProviderId
    amount: Cents
    status: Literal["pending", "requires_action", "succeeded", "failed", "canceled"]
    payment_intent: ProviderId | None = None
    metadata: dict | None = None


class StripeRefundListIn(Body):
    data: list[StripeRefundIn] = Field(max_length=1000)
    has_more: bool = False


class StripeChargeIn(Body):
    """`refunds` (the Charge's Refund objects) is there only in API versions before 2022-11-15."""

    id: ProviderId
    payment_intent: ProviderId | None = None
    refunds: StripeRefundListIn | None = None


class StripePayoutIn(Body):
    id: ProviderId
    amount: PayoutCents
    currency: StripeCurrency
    arrival_date: Annotated[int, Field(strict=True, ge=0, le=253_402_300_799)]  # unix seconds, up to 9999


def client():
    import stripe

    if not settings().stripe_api_key:
        raise LookupError("STRIPE_API_KEY is not set")
    return stripe.StripeClient(settings().stripe_api_key, http_client=HTTP_CLIENT, max_network_retries=2)


class StripeProvider:
    name = "stripe"

    def create_payment(self, *, order_id: str, store_id: str, amount: int, currency: str) -> PaymentRef:
        intent = client().v1.payment_intents.create(
            {
                "amount": amount,
                "currency": currency.lower(),
                "metadata": {"store_id": store_id, "order_id": order_id},
                "automatic_payment_methods": {"enabled": True},
            },
            {"idempotency_key": f"tresen-order-{order_id}"},
        )
        return PaymentRef(id=intent.id, provider=self.name, status=intent.status, client_secret=intent.client_secret)

    def update_amount(self, *, payment_id: str, amount: int) -> None:
        client().v1.payment_intents.update(payment_id, {"amount": amount})

    def refund(self, *, payment_id: str, amount: int, refund_id: str) -> ReportedRefund:
        refund = client().v1.refunds.create(
            {"payment_intent": payment_id, "amount": amount, "metadata": {"tresen_refund_id": refund_id}},
            {"idempotency_key": f"tresen-refund-{refund_id}"},
        )
        return reported_refund(refund.to_dict())

    def refunds_of(self, payment_id: str) -> list[ReportedRefund]:
        """Every refund of a PaymentIntent: `charge.refunded` lists them only in older API versions."""
        import stripe

        try:
            page = client().v1.refunds.list({"payment_intent": payment_id, "limit": 100})
            return [reported_refund(refund.to_dict()) for refund in page.auto_paging_iter()]
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise ConnectionError(str(error)) from error  # transient: the webhook answers 503, Stripe retries

    def payout_transactions(self, payout_id: str) -> list[dict[str, Any]]:
        """The balance transactions a payout paid out, each with its source (the Charge or Refund)
        expanded: Stripe's `payout.paid` names none of them."""
        import stripe

        try:
            page = client().v1.balance_transactions.list({"payout": payout_id, "expand": ["data.source"], "limit": 100})
            return [transaction.to_dict() for transaction in page.auto_paging_iter()]
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise ConnectionError(str(error)) from error  # transient: the webhook answers 503, Stripe retries

    def read_webhook(self, headers: Mapping[str, str], raw: bytes) -> ProviderEvent:
        verify_signature(headers.get("Stripe-Signature"), raw, settings().stripe_webhook_secret)
        return read_event(self.name, raw, stripe_event)


def reported_refund(refund: Mapping[str, Any]) -> ReportedRefund:
    """Our view of a Stripe Refund object. `metadata.tresen_refund_id` names a refund of ours only
    if it can be one: anyone may type metadata in the dashboard."""
    ours = (refund.get("metadata") or {}).get("tresen_refund_id")
    return ReportedRefund(
        id=refund["id"],
        amount=refund["amount"],
        status=REFUND_STATUS[refund["status"]],
        payment_id=refund.get("payment_intent"),
        tresen_refund_id=ours if is_id(ours) else None,
    )


def verify_signature(header: str | None, raw: bytes, secret: str, now: int | None = None) -> None:
    """Passes if Stripe signed the body within the last 300 s and not more than 60 s ahead."""
    import stripe

    now = int(time.time()) if now is None else now
    check_timestamp(signature_timestamp(header), now)  # the library does not refuse future timestamps
    try:
        stripe.WebhookSignature.verify_header(raw.decode("utf-8", "replace"), header, secret, tolerance=300)
    except stripe.SignatureVerificationError as error:
        raise InvalidSignature(str(error)) from None


def stripe_event(body: dict) -> ProviderEvent:
    event = validated(StripeEventIn, body, "")
    found = event.data.object
    if event.type in PAYMENT_EVENTS:
        intent = validated(StripePaymentIntentIn, found, "data.object")
        kind = PAYMENT_EVENTS[event.type]
        return PaymentEvent(
            provider="stripe",
            id=event.id,
            type=kind,
            payment_id=intent.id,
            amount=intent.amount_received if kind == "payment.succeeded" else intent.amount,
            currency=intent.currency.upper(),
            error=intent.last_payment_error.message if intent.last_payment_error else None,
        )
    if event.type in ("refund.created", "refund.updated"):
        refund = validated(StripeRefundIn, found, "data.object")
        return RefundEvent(
            "stripe", event.id, event.type, refund.payment_intent, (reported_refund(refund.model_dump()),)
        )
    if event.type == "charge.refunded":
        charge = validated(StripeChargeIn, found, "data.object")
        listed = charge.refunds
        refunds = None  # not listed, or not all of them: asked from Stripe
        if listed is not None and not listed.has_more:
            refunds = tuple(reported_refund(refund.model_dump()) for refund in listed.data)
        return RefundEvent("stripe", event.id, event.type, charge.payment_intent, refunds)
    if event.type == "payout.paid":
        return PayoutEvent(
            "stripe", event.id, event.type, stripe_payout(validated(StripePayoutIn, found, "data.object"))
        )
    return OtherEvent("stripe", event.id, event.type)


def stripe_payout(payout: StripePayoutIn) -> dict:
    """Stripe's payout names no items: `items: None` has them asked of Stripe (its balance
    transactions) when the payout is recorded."""
    return {
        "payout_id": payout.id,
        "arrival_date": datetime.fromtimestamp(payout.arrival_date, UTC).date().isoformat(),
        "amount": payout.amount,
        "currency": payout.currency.upper(),
        "items": None,
    }
