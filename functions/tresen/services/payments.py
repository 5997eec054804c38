"""Provider payment events: applied exactly once, in the same commit as their dedup record."""

from __future__ import annotations

from dataclasses import dataclass

from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..adapters.store_writer import AlreadyWritten, Claims, Plan
from ..domain.journal import JournalEvent
from ..domain.payments import PaymentEvent, RefundEvent, decide
from ..domain.refunds import refund_reversed
from ..domain.workflow import expire
from .order_changes import change_order

PROVIDER = {"type": "provider"}
SCHEDULER = {"type": "system", "job": "expire"}


@dataclass(frozen=True)
class EventOutcome:
    duplicate: bool = False
    ignored: str | None = None


def event_path(provider_name: str, event_id: str) -> str:
    return f"webhook_events/{provider_name}:{event_id}"


def handle_payment_event(backend: Backend, event: PaymentEvent) -> EventOutcome:
    dedup = event_path(event.provider, event.id)
    now = backend.now()
    payment = backend.db.document(f"payments/{event.payment_id}").get()
    if not payment.exists or payment.get("provider") != event.provider:
        return record_unmatched(backend, event.provider, event.id, event.type, "unknown payment")
    store, _ = backend.catalog.get(payment.get("store_id"))

    record = {"type": event.type, "at": now, "store_id": store.id, "order_id": payment.get("order_id")}
    try:
        change_order(
            backend,
            store,
            payment.get("order_id"),
            lambda order: decide(order, event, now),
            PROVIDER,
            now,
            creates={dedup: record},
        )
    except AlreadyWritten:
        return EventOutcome(duplicate=True)
    return EventOutcome()


def handle_refund_event(backend: Backend, event: RefundEvent) -> EventOutcome:
    """`refund.succeeded` confirms a refund; `refund.failed` (even after a success) makes its
    amount refundable again. Exactly once per event, like payment events."""
    from google.cloud.firestore import FieldFilter

    provider_name, event_id, kind, provider_refund_id = event.provider, event.id, event.type, event.provider_refund_id
    found = (
        backend.db.collection("refunds")
        .where(filter=FieldFilter("provider_refund_id", "==", provider_refund_id))
        .where(filter=FieldFilter("provider", "==", provider_name))
        .limit(1)
        .get()
    )
    if not found:
        return record_unmatched(backend, provider_name, event_id, kind, "unknown refund")
    refund_ref = found[0].reference
    store_id = found[0].get("store_id")
    now = backend.now()
    dedup = event_path(provider_name, event_id)

    def build(claims: Claims) -> Plan[None]:
        refund_snapshot = refund_ref.get()
        refund = refund_snapshot.to_dict()
        order_snapshot = backend.db.document(repo.order_path(refund["order_id"])).get()
        order = repo.order_from_doc(order_snapshot.to_dict())
        status = "failed" if kind == "refund.failed" else "succeeded"
        creates = {dedup: {"type": kind, "at": now, "store_id": store_id, "refund_id": refund["id"]}}
        data = {
            "id": refund["id"],
            "order_id": order.id,
            "provider_refund_id": provider_refund_id,
            "amount": refund["provider_amount"],
        }
        if refund["status"] == status or refund["status"] == "failed":
            events = [JournalEvent("refund.event_ignored", data | {"type": kind, "status": refund["status"]})]
            return Plan(result=None, at=now, actor=PROVIDER, events=events, creates=creates)
        updates = {refund_ref.path: ({"status": status}, refund_snapshot.update_time)}
        if status == "failed":
            # only what the provider was to pay back is refundable again; card credits stand
            restored = refund_reversed(order, refund["provider_amount"], refund.get("lines") or {}, now)
            updates[repo.order_path(order.id)] = (repo.order_to_doc(restored), order_snapshot.update_time)
        events = [JournalEvent(f"refund.{status}", data)]
        return Plan(result=None, at=now, actor=PROVIDER, events=events, creates=creates, updates=updates)

    try:
        backend.writer.commit(store_id, build)
    except AlreadyWritten:
        return EventOutcome(duplicate=True)
    return EventOutcome()


def record_unmatched(backend: Backend, provider_name: str, event_id: str, kind: str, why: str) -> EventOutcome:
    """Recorded so a replay is recognised, though there is nothing of ours to change."""
    from google.api_core.exceptions import AlreadyExists

    try:
        backend.db.document(event_path(provider_name, event_id)).create(
            {"type": kind, "at": backend.now(), "ignored": why}
        )
    except AlreadyExists:
        return EventOutcome(duplicate=True)
    return EventOutcome(ignored=why)


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
        result = change_order(backend, store, snapshot.id, lambda order: expire(order, now), SCHEDULER, now)
        canceled += result.changed  # an event may have paid or canceled it meanwhile
    return canceled
