"""Changing an existing order: read, decide (pure), commit with a precondition, refund if due.

The order is read inside the writer's attempt and updated only if it is still the version read;
if someone changed it meanwhile, the decision is made again on the fresh version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..adapters.clock import new_id
from ..adapters.payments import provider
from ..adapters.store_writer import Claims, Counter, Plan
from ..domain.catalog import Store
from ..domain.changes import OrderChange
from ..domain.errors import DomainError
from ..domain.journal import JournalEvent
from ..domain.orders import Order, invoice_number

COUNTER = "counter"


@dataclass(frozen=True)
class Changed:
    order: Order
    refund_id: str | None
    refund_amount: int
    changed: bool  # False when the decision left the order as it was
    amount_changed: bool  # amount_due moved (void, discount): the provider must expect the new one


def change_order(
    backend: Backend,
    store: Store,
    order_id: str,
    decide: Callable[[Order], OrderChange],
    actor: Mapping[str, Any],
    now: datetime,
    creates: dict[str, dict[str, Any]] | None = None,
    before_commit: list[Callable[[Any, Any], None]] | None = None,
) -> Changed:
    refund_id = new_id("re_")

    def build(claims: Claims) -> Plan[Changed]:
        snapshot = backend.db.document(repo.order_path(order_id)).get()
        if not snapshot.exists or snapshot.get("store_id") != store.id:
            raise DomainError("order_not_found", f"Store {store.id} has no order {order_id!r}.")
        current = repo.order_from_doc(snapshot.to_dict())
        change = decide(current)
        journal, changed = list(change.journal), change.order
        if change.assign_invoice:
            year = store.local(now).year  # the invoice is issued now, when the order is paid
            n = claims.next(Counter("invoice_numbers", str(year)), order_id)
            changed = replace(changed, invoice_number=invoice_number(store.invoice_series, year, n))
            journal[0] = JournalEvent(journal[0].type, {**journal[0].data, "invoice_number": changed.invoice_number})
        plan_creates = dict(creates or {})
        if change.refund_amount:
            refund = {
                "id": refund_id,
                "store_id": store.id,
                "order_id": order_id,
                # an on-site order was paid at the counter: its refund is paid out there, at once
                "payment_id": current.payment.id if current.payment else None,
                "provider": current.payment.provider if current.payment else COUNTER,
                "amount": change.refund_amount,
                "status": "pending" if current.payment else "succeeded",
                "reason": change.refund_reason,
                "created_at": now,
                "vat": [{"rate": v.rate, "net": v.net, "tax": v.tax, "gross": v.gross} for v in change.refund_vat],
                "lines": change.refund_lines,
            }
            plan_creates[f"refunds/{refund_id}"] = refund
            journal.append(
                JournalEvent(
                    "refund.created",
                    {k: refund[k] for k in ("id", "order_id", "payment_id", "amount", "reason", "vat")},
                )
            )
            if not current.payment:
                paid_out = {
                    "id": refund_id,
                    "order_id": order_id,
                    "amount": change.refund_amount,
                    "paid_out_at": COUNTER,
                }
                journal.append(JournalEvent("refund.succeeded", paid_out))
        updates = {}
        if changed is not None:
            updates[repo.order_path(order_id)] = (repo.order_to_doc(changed), snapshot.update_time)
        amount_changed = bool(changed and current.payment and changed.amount_due != current.amount_due)
        if amount_changed:  # our record of the payment expects what the customer now owes (else: mismatch)
            updates[f"payments/{current.payment.id}"] = ({"amount": changed.amount_due}, None)
        result = Changed(
            changed or current,
            refund_id if change.refund_amount else None,
            change.refund_amount,
            changed is not None,
            amount_changed,
        )
        return Plan(result=result, at=now, actor=actor, events=journal, creates=plan_creates, updates=updates)

    changed = backend.writer.commit(store.id, build, before_commit).result
    if changed.refund_id and changed.order.payment_method == "online":
        send_refund(backend, store.id, changed.refund_id)
    if changed.amount_changed:
        # after the commit: a payment at the old amount meanwhile is a mismatch, never marked paid
        payment = changed.order.payment
        provider(payment.provider).update_amount(payment_id=payment.id, amount=changed.order.amount_due)
    return changed


def send_refund(backend: Backend, store_id: str, refund_id: str) -> None:
    """Ask the provider to pay back (idempotent by our refund id) and journal its answer.

    If the call fails the refund stays `pending`; its `refund.created` entry is already journaled.
    """
    ref = backend.db.document(f"refunds/{refund_id}")
    refund = ref.get().to_dict()
    result = provider(refund["provider"]).refund(
        payment_id=refund["payment_id"], amount=refund["amount"], refund_id=refund_id
    )

    def build(claims: Claims) -> Plan[None]:
        snapshot = ref.get()
        return Plan(
            result=None,
            at=backend.now(),
            actor={"type": "provider"},
            events=[
                JournalEvent(
                    f"refund.{result.status}",
                    {
                        "id": refund_id,
                        "order_id": refund["order_id"],
                        "provider_refund_id": result.id,
                        "amount": refund["amount"],
                    },
                )
            ],
            updates={ref.path: ({"status": result.status, "provider_refund_id": result.id}, snapshot.update_time)},
        )

    backend.writer.commit(store_id, build)
