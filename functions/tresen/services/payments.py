"""Provider payment events: applied exactly once, in the same commit as their dedup record."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..adapters.clock import new_id
from ..adapters.payments import provider
from ..adapters.store_writer import AlreadyWritten, Claims, Counter, Plan
from ..domain.journal import JournalEvent
from ..domain.orders import invoice_number
from ..domain.payments import PaymentEvent, decide

SYSTEM = {"type": "provider"}


@dataclass(frozen=True)
class EventOutcome:
    duplicate: bool = False
    ignored: str | None = None


def event_path(provider_name: str, event_id: str) -> str:
    return f"webhook_events/{provider_name}:{event_id}"


def handle_payment_event(backend: Backend, event: PaymentEvent) -> EventOutcome:
    from google.api_core.exceptions import AlreadyExists

    dedup = event_path(event.provider, event.id)
    payment = backend.db.document(f"payments/{event.payment_id}").get()
    if not payment.exists or payment.get("provider") != event.provider:
        try:  # recorded so a replay is recognised, but there is no order to change
            backend.db.document(dedup).create({"type": event.type, "at": backend.now(), "ignored": "unknown payment"})
        except AlreadyExists:
            return EventOutcome(duplicate=True)
        return EventOutcome(ignored="unknown payment")
    store_id, order_id = payment.get("store_id"), payment.get("order_id")
    store, _ = backend.catalog.get(store_id)
    now = backend.now()
    refund_id = new_id("re_")

    def build(claims: Claims) -> Plan[int]:
        snapshot = backend.db.document(repo.order_path(order_id)).get()
        order = repo.order_from_doc(snapshot.to_dict())
        decision = decide(order, event, now)
        journal = [decision.journal]
        changed = decision.order
        if decision.assign_invoice:
            year = store.local(now).year  # the invoice is issued now, when the order is paid
            number = claims.next(Counter("invoice_numbers", str(year)), order_id)
            changed = replace(changed, invoice_number=invoice_number(store.invoice_series, year, number))
            journal = [
                JournalEvent(decision.journal.type, {**decision.journal.data, "invoice_number": changed.invoice_number})
            ]
        creates = {dedup: {"type": event.type, "at": now, "store_id": store_id, "order_id": order_id}}
        if decision.refund_amount:
            creates[f"refunds/{refund_id}"] = {
                "id": refund_id,
                "store_id": store_id,
                "order_id": order_id,
                "payment_id": event.payment_id,
                "provider": event.provider,
                "amount": decision.refund_amount,
                "status": "pending",
                "reason": "paid_after_close",
                "created_at": now,
            }
            journal.append(
                JournalEvent(
                    "refund.created",
                    {
                        "refund_id": refund_id,
                        "order_id": order_id,
                        "payment_id": event.payment_id,
                        "amount": decision.refund_amount,
                        "reason": "paid_after_close",
                    },
                )
            )
        updates = {}
        if changed is not None:
            updates[repo.order_path(order_id)] = (repo.order_to_doc(changed), snapshot.update_time)
        return Plan(
            result=decision.refund_amount, at=now, actor=SYSTEM, events=journal, creates=creates, updates=updates
        )

    try:
        refund_amount = backend.writer.commit(store_id, build).result
    except AlreadyWritten:
        return EventOutcome(duplicate=True)
    if refund_amount:
        send_refund(backend, store_id, order_id, refund_id, event.payment_id, event.provider, refund_amount)
    return EventOutcome()


def send_refund(
    backend: Backend, store_id: str, order_id: str, refund_id: str, payment_id: str, provider_name: str, amount: int
) -> None:
    """Ask the provider to pay back (idempotent by our refund id) and journal its answer.

    If the call fails the refund stays `pending` and the order's journal shows it was created.
    """
    result = provider(provider_name).refund(payment_id=payment_id, amount=amount, refund_id=refund_id)
    ref = backend.db.document(f"refunds/{refund_id}")

    def build(claims: Claims) -> Plan[None]:
        snapshot = ref.get()
        return Plan(
            result=None,
            at=backend.now(),
            actor=SYSTEM,
            events=[
                JournalEvent(
                    f"refund.{result.status}",
                    {
                        "refund_id": refund_id,
                        "order_id": order_id,
                        "provider_refund_id": result.id,
                        "amount": amount,
                    },
                )
            ],
            updates={ref.path: ({"status": result.status, "provider_refund_id": result.id}, snapshot.update_time)},
        )

    backend.writer.commit(store_id, build)
