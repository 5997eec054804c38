"""Stripe: PaymentIntents and refunds through the `stripe` library, webhooks verified by it.

Every call that moves money carries an idempotency key derived from our own id (the order for a
PaymentIntent, the refund for a refund), so a retry after a lost answer never charges or pays
back twice. `HTTP_CLIENT` is the library's pluggable transport: tests put a fake there; in
production it stays None and the library talks to api.stripe.com.
"""

from __future__ import annotations

import json
import time

from ..config import settings
from ..domain.orders import PaymentRef
from ..domain.payments import PaymentEvent
from ..domain.signatures import InvalidSignature, check_timestamp, signature_timestamp
from .payments import ProviderRefund

HTTP_CLIENT = None
PAYMENT_EVENTS = {
    "payment_intent.succeeded": "payment.succeeded",
    "payment_intent.payment_failed": "payment.failed",
    "payment_intent.canceled": "payment.canceled",
}


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

    def refund(self, *, payment_id: str, amount: int, refund_id: str) -> ProviderRefund:
        refund = client().v1.refunds.create(
            {"payment_intent": payment_id, "amount": amount, "metadata": {"tresen_refund_id": refund_id}},
            {"idempotency_key": f"tresen-refund-{refund_id}"},
        )
        return ProviderRefund(id=refund.id, status=refund.status)


def verified_event(header: str | None, raw: bytes, secret: str, now: int | None = None) -> dict:
    """The event, if Stripe signed it within the last 300 s and not more than 60 s ahead."""
    import stripe

    now = int(time.time()) if now is None else now
    check_timestamp(signature_timestamp(header), now)  # the library does not refuse future timestamps
    try:
        stripe.WebhookSignature.verify_header(raw.decode("utf-8", "replace"), header, secret, tolerance=300)
    except stripe.SignatureVerificationError as error:
        raise InvalidSignature(str(error)) from None
    return json.loads(raw)


def payment_event(event: dict) -> PaymentEvent | None:
    """Our view of a Stripe event, or None for the types we only acknowledge."""
    kind = PAYMENT_EVENTS.get(event.get("type", ""))
    if kind is None:
        return None
    intent = event["data"]["object"]
    error = (intent.get("last_payment_error") or {}).get("message")
    amount = intent.get("amount_received") if kind == "payment.succeeded" else intent.get("amount")
    return PaymentEvent(
        provider="stripe",
        id=event["id"],
        type=kind,
        payment_id=intent["id"],
        amount=amount,
        currency=str(intent.get("currency", "")).upper(),
        error=error,
    )
