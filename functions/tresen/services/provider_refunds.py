"""Refunds and the provider: asking it to pay one back, and recording what it says about one.

Its answer to our request and its webhooks about the same refund arrive in any order and more than
once; the refund's status only moves forward, so the last word is the furthest one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..domain.closings import failed_refund_record
from ..domain.events import RefundFailed, RefundPending, RefundSucceeded
from ..domain.journal import JournalEvent
from ..domain.refunds import Refund, ReportedRefund, refund_reversed, status_after
from .order_ports import OrderUnitOfWork
from .receipt_mail import mail_correction_of
from .unit_of_work import Claims, Plan, Writes

PROVIDER = {"type": "provider"}  # the actor of what a provider's answer or event changes
OUTCOMES = {"pending": RefundPending, "succeeded": RefundSucceeded, "failed": RefundFailed}


def send_refund(uow: OrderUnitOfWork, store_id: str, refund_id: str) -> None:
    """Ask the provider to pay back (idempotent by our refund id) and record its answer.

    If the call fails the refund stays `pending`; its `refund.created` entry is already journaled.
    """
    refund, _ = uow.refunds.read(refund_id)
    answer = uow.provider(refund.provider, store_id).refund(
        payment_id=refund.payment_id, amount=refund.provider_amount, refund_id=refund_id
    )
    record_refund_status(uow, store_id, refund_id, answer)


def record_refund_status(uow: OrderUnitOfWork, store_id: str, refund_id: str, reported: ReportedRefund) -> None:
    """What the provider says about a refund we hold (its answer to our request, or a webhook, in
    any order): the provider's refund id, and a status that only moves forward. A failure, even
    after success, makes what the provider was to pay back refundable again; card credits stand.
    A report that tells nothing new changes and journals nothing."""
    now = uow.now()

    def build(claims: Claims) -> Plan[None]:
        refund, read_at = uow.refunds.read(refund_id)
        status = status_after(refund.status, reported.status)
        if status == refund.status and refund.provider_refund_id == reported.id:
            return Plan(result=None, at=now, actor=PROVIDER, events=[])
        writes = Writes(PROVIDER)
        writes.refund_status(refund_id, status, reported.id, read_at)
        answered = replace(refund, status=status, provider_refund_id=reported.id)
        if status == "succeeded" and refund.status != "succeeded":  # the money is back
            mail_correction_of(uow, store_id, answered, writes)
        failed = None
        if status == "failed" and refund.status != "failed" and refund.provider_amount:
            order, order_read_at = uow.orders.read_in_store(store_id, refund.order_id)
            writes.order(refund_reversed(order, refund.provider_amount, refund.lines, now), order_read_at)
            failed = failed_refund_record(refund, order.payment_method)  # for the closing
        return Plan(None, now, PROVIDER, [refund_outcome(answered, failed)], writes)

    uow.commit(store_id, build)


def refund_outcome(refund: Refund, failed_refund: dict[str, Any] | None = None) -> JournalEvent:
    """The journal's record of what the provider said about a refund: its status now. A failure
    that gave money back carries what it gave back (`failed_refund`), for the closing."""
    answer = {
        "id": refund.id,
        "order_id": refund.order_id,
        "provider_refund_id": refund.provider_refund_id,
        "amount": refund.provider_amount,
    }
    if failed_refund:
        answer["failed_refund"] = failed_refund
    return JournalEvent.of(OUTCOMES[refund.status](**answer))
