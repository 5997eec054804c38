"""Provider events: each takes effect once; what can never be applied is said so, never guessed.

A payment event and its record `webhook_events/{provider}:{event id}` are committed together. A
refund event may report several refunds (Stripe's `charge.refunded`): each is applied by itself,
keyed by the provider's refund id with a status that only moves forward, so applying one twice
changes nothing — and the event is recorded once all of them are applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..adapters.payments import provider
from .unit_of_work import AlreadyWritten, RetryLater
from .unit_of_work import Writes
from ..domain.payments import PaymentEvent, PaymentRecord, RefundEvent, decide, refund_made_at_provider
from ..domain.refunds import Refund, ReportedRefund, paid, refund_id_at_provider
from ..domain.workflow import expire
from .documents import Conflict
from .order_changes import PROVIDER, change_order, record_refund_status

SCHEDULER = {"type": "system", "job": "expire"}
UNKNOWN_PAYMENT = "unknown payment"


@dataclass(frozen=True)
class EventOutcome:
    duplicate: bool = False
    ignored: str | None = None  # a type we do not handle
    unprocessable: str | None = None  # why it can never be applied: the caller parks it


def event_record(kind: str | None, status: str, now: datetime, **details: Any) -> dict[str, Any]:
    """What `webhook_events/{provider}:{id}` keeps: status `processed`, `ignored` or `unprocessable`."""
    return {"type": kind, "status": status, "received_at": now, **details}


def record_once(backend: Backend, provider_name: str, event_id: str, record: dict[str, Any]) -> bool:
    """Creates the event's record; False if it exists (a replay)."""
    writes = Writes(PROVIDER)
    writes.event_seen(provider_name, event_id, record)
    try:
        backend.commit_writes(writes)
    except Conflict:
        return False
    return True


def known_payment(backend: Backend, provider_name: str, payment_id: str | None) -> PaymentRecord | None:
    """Our record of this provider's payment, or None."""
    payment = repo.read_payment(backend.docs, payment_id) if payment_id is not None else None
    return payment if payment and payment.provider == provider_name else None


def handle_payment_event(backend: Backend, event: PaymentEvent) -> EventOutcome:
    payment = known_payment(backend, event.provider, event.payment_id)
    if payment is None:
        return EventOutcome(unprocessable=UNKNOWN_PAYMENT)
    now = backend.now()
    store, _ = backend.catalog.get(payment.store_id)
    record = event_record(event.type, "processed", now, store_id=store.id, order_id=payment.order_id)
    try:
        change_order(
            backend,
            store,
            payment.order_id,
            lambda order: decide(order, event, now),
            PROVIDER,
            now,
            event_seen=(event.provider, event.id, record),
        )
    except AlreadyWritten:
        return EventOutcome(duplicate=True)
    return EventOutcome()


def handle_refund_event(backend: Backend, event: RefundEvent) -> EventOutcome:
    """Every refund the event reports: a refund we hold moves its status forward; one we do not
    hold was made at the provider and becomes a refund of the order."""
    if repo.event_seen(backend.docs, event.provider, event.id):
        return EventOutcome(duplicate=True)
    reported = event.refunds
    if reported is None:
        if known_payment(backend, event.provider, event.payment_id) is None:
            return EventOutcome(unprocessable=UNKNOWN_PAYMENT)
        reported = provider(event.provider).refunds_of(event.payment_id)
    for refund in reported:
        unprocessable = apply_reported_refund(backend, event.provider, refund)
        if unprocessable:
            return EventOutcome(unprocessable=unprocessable)
    record = event_record(event.type, "processed", backend.now(), refunds=[refund.id for refund in reported])
    return EventOutcome(duplicate=not record_once(backend, event.provider, event.id, record))


def apply_reported_refund(backend: Backend, provider_name: str, reported: ReportedRefund) -> str | None:
    """Applies what the provider says about one refund; returns why it cannot be, if so."""
    held = held_refund(backend, provider_name, reported)
    if held is None:
        try:
            return record_refund_made_at_provider(backend, provider_name, reported)
        except AlreadyWritten:  # another event about the same refund recorded it first
            held, _ = repo.read_refund(backend.docs, refund_id_at_provider(provider_name, reported.id))
    record_refund_status(backend, held.store_id, held.id, reported)
    return None


def held_refund(backend: Backend, provider_name: str, reported: ReportedRefund) -> Refund | None:
    """Our refund for a provider's refund, or None. Ours by the id Tresen gave it first: between
    the provider's answer and our commit of it, our refund does not know the provider's id yet.
    Then one made at the provider (by its derived id), then ours by the provider's id."""
    if reported.tresen_refund_id:
        ours = repo.read_refund(backend.docs, reported.tresen_refund_id)
        if ours and ours[0].provider == provider_name and ours[0].provider_refund_id in (None, reported.id):
            return ours[0]
    found = repo.read_refund(backend.docs, refund_id_at_provider(provider_name, reported.id)) or (
        repo.refund_by_provider_id(backend.docs, provider_name, reported.id)
    )
    return found[0] if found else None


def record_refund_made_at_provider(backend: Backend, provider_name: str, reported: ReportedRefund) -> str | None:
    """A refund made outside Tresen becomes a refund of the order, created once under an id
    derived from the provider's (a second event about it raises AlreadyWritten)."""
    payment = known_payment(backend, provider_name, reported.payment_id)
    if payment is None:
        return UNKNOWN_PAYMENT
    order_id = payment.order_id
    order, _ = repo.read_store_order(backend.docs, payment.store_id, order_id)
    if order.payment_status == "mismatch":
        return "refund of a payment whose amount did not match its order"
    if not paid(order):
        # the provider refunded a payment whose success has not reached us yet: it will
        raise RetryLater(f"order {order_id} is not paid yet")
    store, _ = backend.catalog.get(payment.store_id)
    now = backend.now()
    change_order(
        backend, store, order_id, lambda current: refund_made_at_provider(current, reported, now), PROVIDER, now
    )
    return None


def expire_orders(backend: Backend, limit: int = 500) -> int:
    """Cancel online orders left unpaid past their window; returns how many were canceled."""
    now = backend.now()
    unpaid_too_long = [("status", "==", "awaiting_payment"), ("expires_at", "<=", now)]
    canceled = 0
    for found in backend.docs.query("orders", where=unpaid_too_long, limit=limit):
        store, _ = backend.catalog.get(found.data["store_id"])
        result = change_order(backend, store, found.id, lambda order: expire(order, now), SCHEDULER, now)
        canceled += result.changed  # an event may have paid or canceled it meanwhile
    return canceled
