"""Changing an existing order: read, decide (pure), commit with a precondition, refund if due.

The order is read inside the writer's attempt and updated only if it is still the version read;
if someone changed it meanwhile, the decision is made again on the fresh version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from ..domain import giftcards as gc
from ..domain.catalog import Store
from ..domain.changes import OrderChange
from ..domain.closings import failed_refund_record, sale_record
from ..domain.events import RefundCreated, RefundSucceeded
from ..domain.giftcards import Card, CardChange
from ..domain.journal import JournalEvent
from ..domain.money import vat_records
from ..domain.order_giftcards import CardOp, refund_to_cards, settle
from ..domain.orders import Order, invoice_number
from ..domain.payments import PaymentRecord
from ..domain.refunds import Refund, refund_id_at_provider
from ..domain.terminals import CARD_PRESENT
from ..domain.tse import PENDING
from .order_ports import OrderUnitOfWork, Version
from .provider_refunds import refund_outcome, send_refund
from .receipt_mail import mail_correction, mail_receipt
from .stock import give_back
from .tse import sign_sale
from .unit_of_work import INVOICE_NUMBERS, Claims, Counter, Plan, Writes

COUNTER = "counter"
T = TypeVar("T")


@dataclass(frozen=True)
class ToGiftCard:
    """A refund onto a gift card instead of the way the order was paid: an existing card of the
    store (`card_key`) or, without one, a new card with `new_code`."""

    card_key: str | None = None
    new_code: str | None = None


@dataclass(frozen=True)
class ChangeOrder:
    """Change the store's order as `decide` says, on the order as read."""

    store: Store
    order_id: str
    decide: Callable[[Order], OrderChange]
    actor: Mapping[str, Any]
    now: datetime
    # (provider, event id, record) of the webhook event that decides this change, recorded in the
    # same commit, so the event applies exactly once
    event_seen: tuple[str, str, dict[str, Any]] | None = None
    to_giftcard: ToGiftCard | None = None
    # the event names the payment by another id of the provider's too (a Checkout Session's
    # PaymentIntent): recorded with the change, so the refunds and payouts naming it find the order
    payment_alias: PaymentRecord | None = None


@dataclass(frozen=True)
class Changed:
    order: Order
    refund_id: str | None
    refund_amount: int
    changed: bool  # False when the decision left the order as it was
    amount_changed: bool  # amount_due moved (void, discount): the provider must expect the new one
    provider_amount: int = 0  # of the refund: what the provider (or the counter) pays back
    refund_card: CardChange | None = None  # the card a `to: giftcard` refund went onto
    refund_card_code: str | None = None  # its code, if the refund created it
    refund_to_send: bool = False  # the provider is to pay it back: asked right after the commit


def change_order(command: ChangeOrder, uow: OrderUnitOfWork) -> Changed:
    refund_id = uow.new_id("re_")
    # read before the commit, so that the store's commits do not wait for it; the version read
    # guards the write, and an attempt after a conflict reads the order afresh
    read = partial(uow.orders.read_in_store, command.store.id, command.order_id)
    first_read = [read()]

    def build(claims: Claims) -> Plan[Changed]:
        current, read_at = first_read.pop() if first_read else read()
        return changed_plan(command, uow, claims, current, read_at, refund_id)

    changed = uow.commit(command.store.id, build).result
    tell_provider(uow, command.store, changed)
    if changed.changed and changed.order.tse_status == PENDING and changed.order.payment_method == CARD_PRESENT:
        # paid or canceled at the terminal: its TSE transaction ends (nothing to do while it waits)
        changed = replace(changed, order=sign_sale(uow, changed.order))
    return changed


@dataclass(frozen=True)
class ChangeOrders:
    """Change several orders of the store in one commit (a delivery tour's), each as `decide` says on
    the order as read."""

    store: Store
    order_ids: tuple[str, ...]
    decide: Callable[[Order], OrderChange]
    actor: Mapping[str, Any]
    now: datetime


def change_orders(
    command: ChangeOrders, uow: OrderUnitOfWork, along: Callable[[list[Changed]], Plan[T]]
) -> tuple[list[Changed], T]:
    """Every order changed as `change_order` changes one, and what `along(changed)` plans beside them
    (the tour they move with), all or nothing: a refusal of any one changes none."""
    reads = [partial(uow.orders.read_in_store, command.store.id, order_id) for order_id in command.order_ids]
    first_reads = [[read() for read in reads]]  # before the commit, as change_order reads
    refund_ids = [uow.new_id("re_") for _ in reads]

    def build(claims: Claims) -> Plan[tuple[list[Changed], T]]:
        plans = []
        orders = first_reads.pop() if first_reads else [read() for read in reads]
        for (current, read_at), refund_id in zip(orders, refund_ids, strict=True):
            one = ChangeOrder(command.store, current.id, command.decide, command.actor, command.now)
            plans.append(changed_plan(one, uow, claims, current, read_at, refund_id))
        changed = [plan.result for plan in plans]
        beside = along(changed)
        writes = Writes(command.actor)
        writes.ops = [op for plan in (*plans, beside) for op in plan.writes.ops]
        events = [event for plan in (*plans, beside) for event in plan.events]
        return Plan((changed, beside.result), command.now, command.actor, events, writes)

    changed, result = uow.commit(command.store.id, build).result
    for each in changed:
        tell_provider(uow, command.store, each)
    return changed, result


def changed_plan(
    command: ChangeOrder, uow: OrderUnitOfWork, claims: Claims, current: Order, read_at: Version, refund_id: str
) -> Plan[Changed]:
    """The decision on the order as read, with its card effects, its refund and its journal."""
    store, now, to_giftcard = command.store, command.now, command.to_giftcard
    change = command.decide(current)
    journal, changed, card_ops = list(change.journal), change.order, []
    if changed is not None:
        changed, card_ops = settle(current, changed, now)
    if change.assign_invoice:
        changed, journal = with_invoice(store, claims, changed, journal, now)
    refund = refund_part(uow, store, current, changed, change, refund_id, to_giftcard, now)
    writes = Writes(command.actor)
    if change.assign_invoice:
        mail_receipt(store, changed, writes)
    if command.event_seen:
        writes.event_seen(*command.event_seen)
    if command.payment_alias:
        writes.payment_alias(command.payment_alias)
    if refund:
        changed, card_ops = refund.order, card_ops + refund.card_ops
        writes.new_refund(refund.record)
        journal += refund.events
        if refund.record.status == "succeeded":  # paid out at once: the counter, gift cards, the provider's report
            mail_correction(store, current, refund.record, writes)
    if changed is not None:  # what it took from the stock and no longer holds goes back
        changed, returned = give_back(uow, current, changed, change, refund.id if refund else None, writes, now)
        journal += returned
    card_changes = uow.cards.apply(card_ops, writes, refund.fresh if refund else {})
    if changed is not None:
        writes.order(changed, read_at)
    amount_changed = bool(changed and current.payment and changed.amount_due != current.amount_due)
    if amount_changed:  # our record of the payment expects what the customer now owes (else: mismatch)
        writes.payment_amount(current.payment.id, changed.amount_due)
    result = Changed(
        changed or current,
        refund.id if refund else None,
        change.refund_amount,
        changed is not None,
        amount_changed,
        refund.provider_amount if refund else 0,
        card_changes[refund.card_key] if refund and refund.card_key else None,
        to_giftcard.new_code if to_giftcard else None,
        refund_to_send=bool(refund and refund.to_send),
    )
    return Plan(result, now, command.actor, journal + writes.events, writes)


def with_invoice(
    store: Store, claims: Claims, order: Order, journal: list[JournalEvent], now: datetime
) -> tuple[Order, list[JournalEvent]]:
    """The order paid now gets the next invoice number of the year, and its journal entry says so."""
    year = store.local(now).year
    n = claims.next(Counter(INVOICE_NUMBERS, str(year)), order.id)
    numbered = replace(order, invoice_number=invoice_number(store.invoice_series, year, n), invoiced_at=now)
    paid = JournalEvent(
        journal[0].type, {**journal[0].data, "invoice_number": numbered.invoice_number, "sale": sale_record(numbered)}
    )
    return numbered, [paid, *journal[1:]]


def tell_provider(uow: OrderUnitOfWork, store: Store, changed: Changed) -> None:
    """After the commit: ask the provider to pay a refund back, or to expect the new amount due (a
    payment at the old amount meanwhile is a mismatch, never marked paid)."""
    if changed.refund_to_send:
        send_refund(uow, store.id, changed.refund_id)
    if changed.amount_changed:
        payment = changed.order.payment
        uow.provider(payment.provider, store.id).update_amount(payment_id=payment.id, amount=changed.order.amount_due)


@dataclass(frozen=True)
class RefundPart:
    """What a decision's refund adds to the commit."""

    id: str
    order: Order | None  # the order after the cards that paid got theirs back
    card_ops: list[CardOp]
    fresh: dict[str, Card]  # a new card the refund goes onto
    record: Refund
    events: list[JournalEvent]
    provider_amount: int
    card_key: str | None  # the card a `to: giftcard` refund goes onto
    to_send: bool  # the provider is to pay it back, right after the commit


def refund_part(
    uow: OrderUnitOfWork,
    store: Store,
    current: Order,
    changed: Order | None,
    change: OrderChange,
    refund_id: str,
    to_giftcard: ToGiftCard | None,
    now: datetime,
) -> RefundPart | None:
    made_at_provider = change.provider_refund
    if not (change.refund_amount or made_at_provider):
        return None
    card_ops, fresh, card_key, provider_amount = [], {}, None, 0
    if to_giftcard:
        card_key, op, fresh = refund_card_op(uow, store, to_giftcard, change.refund_amount, current.id, refund_id, now)
        card_ops.append(op)
    elif made_at_provider:  # its money has left already: nothing to send, no card to credit
        provider_amount = change.refund_amount
        refund_id = refund_id_at_provider(current.payment.provider, made_at_provider.id)
    else:
        changed, card_ops, provider_amount = refund_to_cards(changed, change.refund_amount, refund_id, now)
    record, events = refund_record(store, current, change, refund_id, provider_amount, bool(to_giftcard), now)
    to_send = record.status == "pending" and not made_at_provider
    return RefundPart(refund_id, changed, card_ops, fresh, record, events, provider_amount, card_key, to_send)


def refund_record(
    store: Store,
    current: Order,
    change: OrderChange,
    refund_id: str,
    provider_amount: int,
    to_giftcard: bool,
    now: datetime,
) -> tuple[Refund, list[JournalEvent]]:
    """The refund and its journal entries: `refund.created`, then its outcome if that is
    known at once (paid out at the counter or onto cards; for a refund made at the provider, what
    the provider reported)."""
    reported = change.provider_refund
    refund = Refund(
        id=refund_id,
        store_id=store.id,
        order_id=current.id,
        # an on-site order was paid at the counter: its refund is paid out there, at once
        payment_id=current.payment.id if current.payment else None,
        provider=current.payment.provider if current.payment else COUNTER,
        amount=change.refund_amount,
        provider_amount=provider_amount,
        giftcard_amount=change.refund_amount - provider_amount,
        to="giftcard" if to_giftcard else "original",
        status="pending" if current.payment and provider_amount else "succeeded",
        reason=change.refund_reason,
        created_at=now,
        vat=change.refund_vat,
        lines=change.refund_lines,
    )
    if reported:
        # the amount is capped by what was left to refund; what the provider reported stays beside it
        refund = replace(
            refund, status=reported.status, provider_refund_id=reported.id, provider_reported_amount=reported.amount
        )
        created = refund_created(refund, current.payment_method)
        if reported.status == "pending":
            return refund, [created]
        failed = None
        if reported.status == "failed" and provider_amount:  # it moved no money: the closing adds it back
            failed = failed_refund_record(refund, current.payment_method)
        return refund, [created, refund_outcome(refund, failed)]
    events = [refund_created(refund, current.payment_method)]
    if refund.status == "succeeded":
        paid_out_at = COUNTER if provider_amount else "giftcard"
        paid_out = RefundSucceeded(id=refund_id, order_id=current.id, amount=refund.amount, paid_out_at=paid_out_at)
        events.append(JournalEvent.of(paid_out))
    return refund, events


def refund_created(refund: Refund, payment_method: str) -> JournalEvent:
    """`method`: how `provider_amount` goes back, for the closing. A refund made at the provider
    keeps what the provider reported beside what was refunded."""
    reported = (
        {"provider_refund_id": refund.provider_refund_id, "provider_reported_amount": refund.provider_reported_amount}
        if refund.provider_reported_amount is not None
        else {}
    )
    created = RefundCreated(
        id=refund.id,
        order_id=refund.order_id,
        payment_id=refund.payment_id,
        amount=refund.amount,
        provider_amount=refund.provider_amount,
        giftcard_amount=refund.giftcard_amount,
        reason=refund.reason,
        vat=vat_records(refund.vat),
        method=payment_method,
        **reported,
    )
    return JournalEvent.of(created)


def refund_card_op(
    uow: OrderUnitOfWork, store: Store, target: ToGiftCard, amount: int, order_id: str, refund_id: str, now: datetime
) -> tuple[str, CardOp, dict[str, Card]]:
    """(card key, the op crediting the refund, the new card if one is created)."""
    if target.card_key:
        op = CardOp(target.card_key, partial(gc.refund, amount=amount, now=now, order_id=order_id, refund_id=refund_id))
        return target.card_key, op, {}
    key, card = uow.cards.new_pending(store, target.new_code, now)
    activate = partial(gc.activate, amount=amount, now=now, type_="refund", order_id=order_id, refund_id=refund_id)
    return key, CardOp(key, activate), {key: card}
