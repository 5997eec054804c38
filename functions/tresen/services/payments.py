"""Provider events: each takes effect once; what can never be applied is said so, never guessed.

A payment event and its record of the event seen are committed together. A refund event may report
several refunds (Stripe's `charge.refunded`): each is applied by itself, keyed by the provider's
refund id with a status that only moves forward, so applying one twice changes nothing — and the
event is recorded once all of them are applied.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from ..domain.errors import DomainError
from ..domain.payments import PaymentEvent, PaymentRecord, RefundEvent, decide, refund_made_at_provider
from ..domain.refunds import Refund, ReportedRefund, paid, refund_id_at_provider
from ..domain.workflow import expire
from .documents import Conflict
from .order_changes import ChangeOrder, change_order
from .order_ports import OrderUnitOfWork
from .provider_refunds import PROVIDER, record_refund_status
from .unit_of_work import AlreadyWritten, RetryLater, Writes

SCHEDULER = {"type": "system", "job": "expire"}
UNKNOWN_PAYMENT = "unknown payment"
UNKNOWN_ACCOUNT = "unknown_account"  # a Connect event of an account no store has


@dataclass(frozen=True)
class EventOutcome:
    duplicate: bool = False
    ignored: str | None = None  # a type we do not handle
    unprocessable: str | None = None  # why it can never be applied: the caller parks it


def event_record(kind: str | None, status: str, now: datetime, **details: Any) -> dict[str, Any]:
    """What the record of an event seen keeps: status `processed`, `ignored` or `unprocessable`."""
    return {"type": kind, "status": status, "received_at": now, **details}


def record_once(uow: OrderUnitOfWork, provider_name: str, event_id: str, record: dict[str, Any]) -> bool:
    """Creates the event's record; False if it exists (a replay)."""
    writes = Writes(PROVIDER)
    writes.event_seen(provider_name, event_id, record)
    try:
        uow.commit_writes(writes)
    except Conflict:
        return False
    return True


def known_payment(
    uow: OrderUnitOfWork, provider_name: str, payment_id: str | None, store_id: str | None = None
) -> PaymentRecord | None:
    """Our record of this provider's payment (of the store whose account the event came from, if
    it came from one), or None."""
    payment = uow.payments.read(payment_id) if payment_id is not None else None
    return payment if payment and ours(payment, provider_name, store_id) else None


def ours(payment: PaymentRecord, provider_name: str, store_id: str | None) -> bool:
    return payment.provider == provider_name and store_id in (None, payment.store_id)


def handle_payment_event(event: PaymentEvent, uow: OrderUnitOfWork, store_id: str | None = None) -> EventOutcome:
    """Applied once: a delivery of an event recorded already is a duplicate before anything is
    decided (the record created with the change is what guarantees it). `store_id`: the store of
    the connected account the event came from."""
    payment, seen = uow.payments.read_unless_seen(event.payment_id, event.provider, event.id)
    if seen:
        return EventOutcome(duplicate=True)
    if payment is None or not ours(payment, event.provider, store_id):
        return EventOutcome(unprocessable=UNKNOWN_PAYMENT)
    now = uow.now()
    store, _ = uow.catalog.get(payment.store_id)
    record = event_record(event.type, "processed", now, store_id=store.id, order_id=payment.order_id)
    seen = (event.provider, event.id, record)
    try:
        alias = replace(payment, id=event.paid_with) if event.paid_with else None
        decision = partial(decide, event=event, now=now)
        change = ChangeOrder(store, payment.order_id, decision, PROVIDER, now, seen, payment_alias=alias)
        change_order(change, uow)
    except AlreadyWritten:
        return EventOutcome(duplicate=True)
    return EventOutcome()


def handle_refund_event(event: RefundEvent, uow: OrderUnitOfWork, store_id: str | None = None) -> EventOutcome:
    """Every refund the event reports: a refund we hold moves its status forward; one we do not
    hold was made at the provider and becomes a refund of the order."""
    if uow.provider_events.seen(event.provider, event.id):
        return EventOutcome(duplicate=True)
    reported = event.refunds
    if reported is None:
        payment = known_payment(uow, event.provider, event.payment_id, store_id)
        if payment is None:
            return EventOutcome(unprocessable=unknown_or_awaited(uow, event.provider, event.payment_id, store_id))
        reported = uow.provider(event.provider, payment.store_id).refunds_of(event.payment_id)
    for refund in reported:
        unprocessable = apply_reported_refund(uow, event.provider, refund, store_id)
        if unprocessable:
            return EventOutcome(unprocessable=unprocessable)
    record = event_record(event.type, "processed", uow.now(), refunds=[refund.id for refund in reported])
    return EventOutcome(duplicate=not record_once(uow, event.provider, event.id, record))


def apply_reported_refund(
    uow: OrderUnitOfWork, provider_name: str, reported: ReportedRefund, store_id: str | None = None
) -> str | None:
    """Applies what the provider says about one refund; returns why it cannot be, if so."""
    held = held_refund(uow, provider_name, reported)
    if held is not None and store_id not in (None, held.store_id):
        return UNKNOWN_PAYMENT  # another store's refund, reported from this account
    if held is None:
        try:
            return record_refund_made_at_provider(uow, provider_name, reported, store_id)
        except AlreadyWritten:  # another event about the same refund recorded it first
            held, _ = uow.refunds.read(refund_id_at_provider(provider_name, reported.id))
    record_refund_status(uow, held.store_id, held.id, reported)
    return None


def held_refund(uow: OrderUnitOfWork, provider_name: str, reported: ReportedRefund) -> Refund | None:
    """Our refund for a provider's refund, or None. Ours by the id Tresen gave it first: between
    the provider's answer and our commit of it, our refund does not know the provider's id yet.
    Then one made at the provider (by its derived id), then ours by the provider's id."""
    if reported.tresen_refund_id:
        ours = uow.refunds.read(reported.tresen_refund_id)
        if ours and ours[0].provider == provider_name and ours[0].provider_refund_id in (None, reported.id):
            return ours[0]
    made_there = uow.refunds.read(refund_id_at_provider(provider_name, reported.id))
    return made_there[0] if made_there else uow.refunds.by_provider_id(provider_name, reported.id)


def record_refund_made_at_provider(
    uow: OrderUnitOfWork, provider_name: str, reported: ReportedRefund, store_id: str | None
) -> str | None:
    """A refund made outside Tresen becomes a refund of the order, created once under an id
    derived from the provider's (a second event about it raises AlreadyWritten)."""
    payment = known_payment(uow, provider_name, reported.payment_id, store_id)
    if payment is None:
        return unknown_or_awaited(uow, provider_name, reported.payment_id, store_id)
    order_id = payment.order_id
    order, _ = uow.orders.read_in_store(payment.store_id, order_id)
    if order.payment_status == "mismatch":
        return "refund of a payment whose amount did not match its order"
    if not paid(order):
        # the provider refunded a payment whose success has not reached us yet: it will
        raise RetryLater(f"order {order_id} is not paid yet")
    store, _ = uow.catalog.get(payment.store_id)
    now = uow.now()
    made_there = ChangeOrder(
        store, order_id, lambda order: refund_made_at_provider(order, reported, now), PROVIDER, now
    )
    change_order(made_there, uow)
    return None


def unknown_or_awaited(uow: OrderUnitOfWork, provider_name: str, payment_id: str | None, store_id: str | None) -> str:
    """UNKNOWN_PAYMENT, unless the provider says the payment is one of our orders' (a Checkout
    Session's PaymentIntent, known to us once the session's completion arrives): then RetryLater."""
    named = uow.provider(provider_name, store_id).order_of(payment_id) if payment_id else None
    if named is None or not all(isinstance(part, str) for part in named) or store_id not in (None, named[0]):
        return UNKNOWN_PAYMENT
    try:
        order, _ = uow.orders.read_in_store(*named)
    except DomainError:  # no such order: the metadata was typed by someone
        return UNKNOWN_PAYMENT
    if order.payment is None or order.payment.provider != provider_name:
        return UNKNOWN_PAYMENT
    raise RetryLater(f"order {order.id} has not heard of its payment's completion yet")


@dataclass(frozen=True)
class ExpireOrders:
    limit: int = 500  # orders per run: the scheduler runs it again soon


def expire_orders(command: ExpireOrders, uow: OrderUnitOfWork) -> int:
    """Cancel online orders left unpaid past their window; returns how many were canceled."""
    now = uow.now()
    canceled = 0
    for order in uow.orders.unpaid_past(now, command.limit):
        if order.payment and order.payment.terminal_id:
            continue  # the reader's payment is canceled first (services/card_present.py)
        store, _ = uow.catalog.get(order.store_id)
        result = change_order(ChangeOrder(store, order.id, lambda current: expire(current, now), SCHEDULER, now), uow)
        canceled += result.changed  # an event may have paid or canceled it meanwhile
    return canceled
