"""Stripe: PaymentIntents and refunds through the `stripe` library, webhooks verified by it.

Every call that moves money carries an idempotency key derived from our own id (the order for a
PaymentIntent, the refund for a refund), so a retry after a lost answer never charges or pays
back twice. `HTTP_CLIENT` is the library's pluggable transport: tests put a fake there; in
production it stays None and the library talks to api.stripe.com.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..config import settings
from ..domain.ids import is_id
from ..domain.orders import PaymentRef
from ..domain.refunds import ReportedRefund
from ..domain.signatures import InvalidSignature, check_timestamp, signature_timestamp

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
