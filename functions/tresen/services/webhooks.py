"""A verified provider event, handled once: applied, acknowledged, or parked for an operator.

A correctly signed event that can never be processed — a shape we do not understand, an id we
cannot store, money we cannot attribute (an unknown payment) — is acknowledged and parked as
`unprocessable` with its raw body, never answered 5xx: a provider retries a 5xx for days. Failures
of our own (Firestore unavailable) still propagate, so the provider retries those.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from ..adapters.backend import Backend
from ..domain.payments import OtherEvent, PayoutEvent, ProviderEvent, RefundEvent, UnprocessableEvent
from .documents import Documents
from .payments import (
    EventOutcome,
    event_record,
    handle_payment_event,
    handle_refund_event,
    record_once,
)
from .payouts import record_payout

log = logging.getLogger(__name__)
RAW_KEPT = 900_000  # bytes of the body parked with the event: a Firestore document holds at most 1 MiB


@dataclass(frozen=True)
class ParkedEvent:
    provider: str
    event_id: str
    type: str | None
    reason: str
    received_at: datetime
    size: int  # of the body, in bytes


def handle_event(backend: Backend, event: ProviderEvent, raw: bytes) -> EventOutcome:
    if isinstance(event, UnprocessableEvent):
        return park(backend, event, raw)
    if isinstance(event, OtherEvent):
        ignored = f"{event.type} is not handled"
        record = event_record(event.type, "ignored", backend.now(), reason=ignored)
        if not record_once(backend, event.provider, event.id, record):
            return EventOutcome(duplicate=True)
        return EventOutcome(ignored=ignored)
    if isinstance(event, PayoutEvent):
        outcome = record_payout(backend, event.provider, event.id, event.payout)
    elif isinstance(event, RefundEvent):
        outcome = handle_refund_event(backend, event)
    else:
        outcome = handle_payment_event(backend, event)
    if outcome.unprocessable:
        return park(backend, UnprocessableEvent(event.provider, event.id, event.type, outcome.unprocessable), raw)
    return outcome


def park(backend: Backend, event: UnprocessableEvent, raw: bytes) -> EventOutcome:
    """Keep the event with its raw body for an operator (`tresen webhooks --unprocessable`), once."""
    record = event_record(
        event.type,
        "unprocessable",
        backend.now(),
        provider=event.provider,
        event_id=event.id,
        reason=event.reason,
        raw=raw[:RAW_KEPT],
        size=len(raw),
    )
    if not record_once(backend, event.provider, event.id, record):
        return EventOutcome(duplicate=True)
    # infra/ alerts on this line: someone must look at the event (`tresen webhooks --unprocessable`)
    log.warning("webhook %s %s parked as unprocessable: %s", event.provider, event.id, event.reason)
    return EventOutcome(unprocessable=event.reason)


def unprocessable_events(docs: Documents, limit: int) -> list[ParkedEvent]:
    """The parked events, newest first."""
    parked = docs.query(
        "webhook_events", where=[("status", "==", "unprocessable")], order_by=[("received_at", True)], limit=limit
    )
    return [
        ParkedEvent(
            provider=doc.data["provider"],
            event_id=doc.data["event_id"],
            type=doc.data.get("type"),
            reason=doc.data["reason"],
            received_at=doc.data["received_at"],
            size=doc.data["size"],
        )
        for doc in parked
    ]
