"""Provider webhooks: the signature first, then the body, of which nothing is believed unchecked.

After a valid signature every body becomes an event: what we handle, a type we do not handle, or
an `UnprocessableEvent` — anything we cannot understand (not JSON, nested beyond reason, an id
Firestore cannot take, a field of the wrong shape). Parsing never raises, so a signed body can
never cause a 5xx: a provider retries a 5xx for days.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from ..config import settings
from ..domain.ids import is_id
from ..domain.payments import (
    OtherEvent,
    PaymentEvent,
    PayoutEvent,
    ProviderEvent,
    RefundEvent,
    UnprocessableEvent,
)
from ..domain.refunds import ReportedRefund
from ..domain.signatures import InvalidSignature, verify
from . import models as m
from .problems import ApiProblem

SANDBOX_PAYMENT_EVENTS = ("payment.succeeded", "payment.failed", "payment.canceled")
SANDBOX_REFUND_EVENTS = ("refund.succeeded", "refund.failed")


class Unreadable(Exception):
    """A signed body that says something we cannot understand; the message is the reason."""


def verified_event(provider: str, headers, raw: bytes) -> ProviderEvent:
    """The event of a webhook whose signature is valid (else 400 `invalid_signature`)."""
    try:
        if provider == "sandbox" and settings().sandbox_enabled:
            verify(headers.get("Sandbox-Signature"), raw, settings().sandbox_secret, now=int(time.time()))
            return read_event(provider, raw)
        if provider == "stripe":
            from ..adapters.stripe_provider import verify_signature

            verify_signature(headers.get("Stripe-Signature"), raw, settings().stripe_webhook_secret)
            return read_event(provider, raw)
    except InvalidSignature as error:
        raise ApiProblem("invalid_signature", str(error)) from None
    raise ApiProblem("not_found", f"No webhooks from {provider!r} here.")


def read_event(provider: str, raw: bytes) -> ProviderEvent:
    """Our view of a signed body. An event without a usable id is keyed by the SHA-256 of its body,
    so a replay of it is still recognised."""
    body_key = "sha256_" + hashlib.sha256(raw).hexdigest()
    try:
        body = json.loads(raw, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return UnprocessableEvent(provider, body_key, None, "the body is not JSON (or nested too deeply)")
    if not isinstance(body, dict):
        return UnprocessableEvent(provider, body_key, None, "the body is not a JSON object")
    event_id, kind = body.get("id"), body.get("type")
    kind = kind if isinstance(kind, str) and 0 < len(kind) <= 100 else None
    if not is_id(event_id):
        return UnprocessableEvent(provider, body_key, kind, "the event id is missing or cannot be stored")
    if kind is None:
        return UnprocessableEvent(provider, event_id, None, "the event type is missing or not a short string")
    try:
        return sandbox_event(body) if provider == "sandbox" else stripe_event(body)
    except Unreadable as error:
        return UnprocessableEvent(provider, event_id, kind, str(error))


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def validated(model: type[BaseModel], value: Any, where: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in (where, *first["loc"]) if part != "")
        raise Unreadable(f"{field or 'the event'}: {first['msg']}") from None


def sandbox_event(body: dict) -> ProviderEvent:
    event = validated(m.SandboxEventIn, body, "")
    if event.type in SANDBOX_REFUND_EVENTS:
        from ..adapters.payments import sandbox_tresen_refund_id

        data = validated(m.SandboxRefundData, event.data, "data")
        status = event.type.removeprefix("refund.")
        reported = ReportedRefund(
            data.refund_id, data.amount, status, data.payment_id, sandbox_tresen_refund_id(data.refund_id)
        )
        return RefundEvent("sandbox", event.id, event.type, data.payment_id, (reported,))
    if event.type == "payout.paid":
        payout = validated(m.SandboxPayoutData, event.data, "data").model_dump(mode="json")
        return PayoutEvent("sandbox", event.id, event.type, payout)
    if event.type not in SANDBOX_PAYMENT_EVENTS:
        return OtherEvent("sandbox", event.id, event.type)
    data = validated(m.SandboxPaymentData, event.data, "data")
    return PaymentEvent(
        provider="sandbox",
        id=event.id,
        type=event.type,
        payment_id=data.payment_id,
        amount=data.amount,
        currency=data.currency,
        error=data.error,
    )


def stripe_event(body: dict) -> ProviderEvent:
    from ..adapters.stripe_provider import PAYMENT_EVENTS, reported_refund

    event = validated(m.StripeEventIn, body, "")
    found = event.data.object
    if event.type in PAYMENT_EVENTS:
        intent = validated(m.StripePaymentIntentIn, found, "data.object")
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
        refund = validated(m.StripeRefundIn, found, "data.object")
        return RefundEvent(
            "stripe", event.id, event.type, refund.payment_intent, (reported_refund(refund.model_dump()),)
        )
    if event.type == "charge.refunded":
        charge = validated(m.StripeChargeIn, found, "data.object")
        listed = charge.refunds
        refunds = None  # not listed, or not all of them: asked from Stripe
        if listed is not None and not listed.has_more:
            refunds = tuple(reported_refund(refund.model_dump()) for refund in listed.data)
        return RefundEvent("stripe", event.id, event.type, charge.payment_intent, refunds)
    if event.type == "payout.paid":
        return PayoutEvent(
            "stripe", event.id, event.type, stripe_payout(validated(m.StripePayoutIn, found, "data.object"))
        )
    return OtherEvent("stripe", event.id, event.type)


def stripe_payout(payout: m.StripePayoutIn) -> dict:
    """Stripe's payout names no items: `items: None` has them asked of Stripe (its balance
    transactions) when the payout is recorded."""
    return {
        "payout_id": payout.id,
        "arrival_date": datetime.fromtimestamp(payout.arrival_date, UTC).date().isoformat(),
        "amount": payout.amount,
        "currency": payout.currency.upper(),
        "items": None,
    }
