"""Provider payment events: applied exactly once, in the same commit as their dedup record."""

from __future__ import annotations

from dataclasses import dataclass

from ..adapters.backend import Backend
from ..adapters.store_writer import AlreadyWritten
from ..domain.payments import PaymentEvent, decide
from ..domain.workflow import expire
from .order_changes import Change, change_order

PROVIDER = {"type": "provider"}
SCHEDULER = {"type": "system", "job": "expire"}


@dataclass(frozen=True)
class EventOutcome:
    duplicate: bool = False
    ignored: str | None = None


def event_path(provider_name: str, event_id: str) -> str:
    return f"webhook_events/{provider_name}:{event_id}"


def handle_payment_event(backend: Backend, event: PaymentEvent) -> EventOutcome:
    from google.api_core.exceptions import AlreadyExists

    dedup = event_path(event.provider, event.id)
    now = backend.now()
    payment = backend.db.document(f"payments/{event.payment_id}").get()
    if not payment.exists or payment.get("provider") != event.provider:
        try:  # recorded so a replay is recognised, but there is no order to change
            backend.db.document(dedup).create({"type": event.type, "at": now, "ignored": "unknown payment"})
        except AlreadyExists:
            return EventOutcome(duplicate=True)
        return EventOutcome(ignored="unknown payment")
    store, _ = backend.catalog.get(payment.get("store_id"))

    def decide_event(order):
        decision = decide(order, event, now)
        return Change(
            decision.order,
            [decision.journal],
            refund_amount=decision.refund_amount,
            refund_reason="paid_after_close",
            assign_invoice=decision.assign_invoice,
        )

    record = {"type": event.type, "at": now, "store_id": store.id, "order_id": payment.get("order_id")}
    try:
        change_order(backend, store, payment.get("order_id"), decide_event, PROVIDER, now, creates={dedup: record})
    except AlreadyWritten:
        return EventOutcome(duplicate=True)
    return EventOutcome()


def record_payout(backend: Backend, provider_name: str, event_id: str, payout: dict) -> EventOutcome:
    """Keep a paid-out payout with its items for the statements, once per event."""
    from google.api_core.exceptions import AlreadyExists

    now = backend.now()
    batch = backend.db.batch()
    batch.create(backend.db.document(event_path(provider_name, event_id)), {"type": "payout.paid", "at": now})
    batch.set(
        backend.db.document(f"payouts/{provider_name}:{payout['payout_id']}"),
        payout | {"provider": provider_name, "received_at": now},
    )
    try:
        batch.commit()
    except AlreadyExists:
        return EventOutcome(duplicate=True)
    return EventOutcome()


def expire_orders(backend: Backend, limit: int = 500) -> int:
    """Cancel online orders left unpaid past their window; returns how many were canceled."""
    from google.cloud.firestore import FieldFilter

    now = backend.now()
    due = (
        backend.db.collection("orders")
        .where(filter=FieldFilter("status", "==", "awaiting_payment"))
        .where(filter=FieldFilter("expires_at", "<=", now))
        .limit(limit)
        .get()
    )
    canceled = 0
    for snapshot in due:
        store, _ = backend.catalog.get(snapshot.get("store_id"))

        def decide_expiry(order):
            transition = expire(order, now)
            return Change(transition.order, [transition.journal] if transition.journal else [])

        result = change_order(backend, store, snapshot.id, decide_expiry, SCHEDULER, now)
        canceled += result.order.status == "canceled"
    return canceled
