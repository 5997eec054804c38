"""Verifying provider webhooks before anything in them is believed, and reading their events."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from pydantic import ValidationError

from ..config import settings
from ..domain.payments import PaymentEvent, RefundEvent
from ..domain.signatures import InvalidSignature, verify
from .models import SandboxEventIn, SandboxPaymentData, SandboxPayoutData, SandboxRefundData
from .problems import ApiProblem

SANDBOX_PAYMENT_EVENTS = ("payment.succeeded", "payment.failed", "payment.canceled")


def provider_event(provider: str, headers, raw: bytes) -> tuple[str, PaymentEvent | dict | None]:
    """(event type, event) of a verified webhook: a PaymentEvent, a payout (dict), or None for
    types only acknowledged."""
    try:
        if provider == "sandbox" and settings().sandbox_enabled:
            return sandbox_event(headers.get("Sandbox-Signature"), raw)
        if provider == "stripe":
            return stripe_event(headers.get("Stripe-Signature"), raw)
    except InvalidSignature as error:
        raise ApiProblem("invalid_signature", str(error)) from None
    except (ValueError, KeyError, TypeError, ValidationError):
        raise ApiProblem("validation_failed", f"The body is not a {provider} event.") from None
    raise ApiProblem("not_found", f"No webhooks from {provider!r} here.")


def sandbox_event(header: str | None, raw: bytes) -> tuple[str, PaymentEvent | dict | None]:
    verify(header, raw, settings().sandbox_secret, now=int(time.time()))
    event = SandboxEventIn.model_validate(json.loads(raw))
    if event.type in ("refund.succeeded", "refund.failed"):
        data = SandboxRefundData.model_validate(event.data)
        return event.type, RefundEvent("sandbox", event.id, event.type, data.refund_id)
    if event.type == "payout.paid":
        payout = SandboxPayoutData.model_validate(event.data).model_dump(mode="json")
        return event.type, payout | {"event_id": event.id}
    if event.type not in SANDBOX_PAYMENT_EVENTS:
        return event.type, None
    data = SandboxPaymentData.model_validate(event.data)
    return event.type, PaymentEvent(
        provider="sandbox",
        id=event.id,
        type=event.type,
        payment_id=data.payment_id,
        amount=data.amount,
        currency=data.currency,
        error=data.error,
    )


def stripe_payout(event: dict) -> dict:
    """Stripe's payout carries no items; the statements will fetch its balance transactions."""
    payout = event["data"]["object"]
    arrival = datetime.fromtimestamp(int(payout["arrival_date"]), UTC).date().isoformat()
    return {
        "event_id": event["id"],
        "payout_id": str(payout["id"]),
        "arrival_date": arrival,
        "amount": int(payout["amount"]),
        "currency": str(payout["currency"]).upper(),
        "items": [],
    }


def stripe_event(header: str | None, raw: bytes) -> tuple[str, PaymentEvent | None]:
    from ..adapters.stripe_provider import payment_event, verified_event

    event = verified_event(header, raw, settings().stripe_webhook_secret)
    if not str(event.get("id", "")).replace("_", "").isalnum():
        raise ValueError("event id")
    if event["type"] == "payout.paid":
        return event["type"], stripe_payout(event)
    refund = event["data"]["object"]
    if event["type"] == "refund.updated" and refund.get("status") in ("succeeded", "failed"):
        return event["type"], RefundEvent("stripe", event["id"], f"refund.{refund['status']}", str(refund["id"]))
    return event["type"], payment_event(event)
