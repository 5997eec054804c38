"""Changing an existing order: read, decide (pure), commit with a precondition, refund if due.

The order is read inside the writer's attempt and updated only if it is still the version read;
if someone changed it meanwhile, the decision is made again on the fresh version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from ..adapters import giftcard_store as gc_store
from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..adapters.clock import new_id
from ..adapters.payments import provider
from .unit_of_work import Claims, Counter, Plan
from .unit_of_work import Writes
from ..domain import giftcards as gc
from ..domain.catalog import Store
from ..domain.changes import OrderChange
from ..domain.closings import sale_record
from ..domain.giftcards import CardChange
from ..domain.journal import JournalEvent
from ..domain.order_giftcards import CardOp, refund_to_cards, settle
from ..domain.orders import Order, invoice_number
from ..domain.refunds import Refund, ReportedRefund, refund_id_at_provider, refund_reversed, status_after

COUNTER = "counter"
PROVIDER = {"type": "provider"}
REFUND_CREATED_FIELDS = (
    "id",
    "order_id",
    "payment_id",
    "amount",
    "provider_amount",
    "giftcard_amount",
    "reason",
    "vat",
)


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


@dataclass(frozen=True)
class ToGiftCard:
    """A refund onto a gift card instead of the way the order was paid: an existing card of the
    store (`card_key`) or, without one, a new card with `new_code`."""

    card_key: str | None = None
    new_code: str | None = None


def change_order(
    backend: Backend,
    store: Store,
    order_id: str,
    decide: Callable[[Order], OrderChange],
    actor: Mapping[str, Any],
    now: datetime,
    event_seen: tuple[str, str, dict[str, Any]] | None = None,
    to_giftcard: ToGiftCard | None = None,
) -> Changed:
    """`event_seen`: (provider, event id, record) of the webhook event that decides this change,
    recorded in the same commit, so the event applies exactly once."""
    refund_id = new_id("re_")

    def build(claims: Claims) -> Plan[Changed]:
        current, read_at = repo.read_store_order(backend.docs, store.id, order_id)
        change = decide(current)
        journal, changed, card_ops = list(change.journal), change.order, []
        if changed is not None:
            changed, card_ops = settle(current, changed, now)
        if change.assign_invoice:
            changed, journal = with_invoice(store, claims, changed, journal, now)
        refund = refund_part(store, current, changed, change, refund_id, to_giftcard, now)
        writes = Writes(dict(actor))
        if event_seen:
            writes.event_seen(*event_seen)
        if refund:
            changed, card_ops = refund.order, card_ops + refund.card_ops
            writes.new_refund(refund.record)
            journal += refund.events
        card_changes = gc_store.apply_card_ops(backend.docs, card_ops, writes, refund.fresh if refund else {})
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
        return Plan(result, now, actor, journal + writes.events, writes)

    changed = backend.commit(store.id, build).result
    tell_provider(backend, store, changed)
    return changed


def with_invoice(
    store: Store, claims: Claims, order: Order, journal: list[JournalEvent], now: datetime
) -> tuple[Order, list[JournalEvent]]:
    """The order paid now gets the next invoice number of the year, and its journal entry says so."""
    year = store.local(now).year
    n = claims.next(Counter("invoice_numbers", str(year)), order.id)
    numbered = replace(order, invoice_number=invoice_number(store.invoice_series, year, n))
    paid = JournalEvent(
        journal[0].type, {**journal[0].data, "invoice_number": numbered.invoice_number, "sale": sale_record(numbered)}
    )
    return numbered, [paid, *journal[1:]]


@dataclass(frozen=True)
class RefundPart:
    """What a decision's refund adds to the commit."""

    id: str
    order: Order | None  # the order after the cards that paid got theirs back
    card_ops: list[CardOp]
    fresh: dict[str, Any]  # a new card the refund goes onto
    record: Refund
    events: list[JournalEvent]
    provider_amount: int
    card_key: str | None  # the card a `to: giftcard` refund goes onto
    to_send: bool  # the provider is to pay it back, right after the commit


def refund_part(
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
        card_key, op, fresh = refund_card_op(store, to_giftcard, change.refund_amount, current.id, refund_id, now)
        card_ops.append(op)
    elif made_at_provider:  # its money has left already: nothing to send, no card to credit
        provider_amount = change.refund_amount
        refund_id = refund_id_at_provider(current.payment.provider, made_at_provider.id)
    else:
        changed, card_ops, provider_amount = refund_to_cards(changed, change.refund_amount, refund_id, now)
    record, events = refund_record(store, current, change, refund_id, provider_amount, bool(to_giftcard), now)
    to_send = record.status == "pending" and not made_at_provider
    return RefundPart(refund_id, changed, card_ops, fresh, record, events, provider_amount, card_key, to_send)


def tell_provider(backend: Backend, store: Store, changed: Changed) -> None:
    """After the commit: ask the provider to pay a refund back, or to expect the new amount due (a
    payment at the old amount meanwhile is a mismatch, never marked paid)."""
    if changed.refund_to_send:
        send_refund(backend, store.id, changed.refund_id)
    if changed.amount_changed:
        payment = changed.order.payment
        provider(payment.provider).update_amount(payment_id=payment.id, amount=changed.order.amount_due)


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
    created = {k: v for k, v in repo.refund_to_doc(refund).items() if k in REFUND_CREATED_FIELDS}
    created["method"] = current.payment_method  # how `provider_amount` goes back: for the closing
    if reported:
        # the amount is capped by what was left to refund; what the provider reported stays beside it
        known = {"provider_refund_id": reported.id, "provider_reported_amount": reported.amount}
        refund = replace(refund, status=reported.status, **known)
        created |= known
        outcome = (
            [] if reported.status == "pending" else [JournalEvent(f"refund.{reported.status}", provider_answer(refund))]
        )
        return refund, [JournalEvent("refund.created", created), *outcome]
    events = [JournalEvent("refund.created", created)]
    if refund.status == "succeeded":
        paid_out = {
            "id": refund_id,
            "order_id": current.id,
            "amount": change.refund_amount,
            "paid_out_at": COUNTER if provider_amount else "giftcard",
        }
        events.append(JournalEvent("refund.succeeded", paid_out))
    return refund, events


def refund_card_op(store: Store, target: ToGiftCard, amount: int, order_id: str, refund_id: str, now: datetime):
    """(card key, the op crediting the refund, the new card if one is created)."""
    if target.card_key:
        op = CardOp(target.card_key, partial(gc.refund, amount=amount, now=now, order_id=order_id, refund_id=refund_id))
        return target.card_key, op, {}
    key = gc_store.keyed_hash(target.new_code)
    card = gc_store.new_pending_card(store, target.new_code, now)
    activate = partial(gc.activate, amount=amount, now=now, type_="refund", order_id=order_id, refund_id=refund_id)
    return key, CardOp(key, activate), {key: card}


def send_refund(backend: Backend, store_id: str, refund_id: str) -> None:
    """Ask the provider to pay back (idempotent by our refund id) and record its answer.

    If the call fails the refund stays `pending`; its `refund.created` entry is already journaled.
    """
    refund, _ = repo.read_refund(backend.docs, refund_id)
    answer = provider(refund.provider).refund(
        payment_id=refund.payment_id, amount=refund.provider_amount, refund_id=refund_id
    )
    record_refund_status(backend, store_id, refund_id, answer)


def record_refund_status(backend: Backend, store_id: str, refund_id: str, reported: ReportedRefund) -> None:
    """What the provider says about a refund we hold (its answer to our request, or a webhook, in
    any order): the provider's refund id, and a status that only moves forward. A failure, even
    after success, makes what the provider was to pay back refundable again; card credits stand.
    A report that tells nothing new changes and journals nothing."""
    now = backend.now()

    def build(claims: Claims) -> Plan[None]:
        refund, read_at = repo.read_refund(backend.docs, refund_id)
        status = status_after(refund.status, reported.status)
        if status == refund.status and refund.provider_refund_id == reported.id:
            return Plan(result=None, at=now, actor=PROVIDER, events=[])
        writes = Writes(PROVIDER)
        writes.refund_status(refund_id, status, reported.id, read_at)
        if status == "failed" and refund.status != "failed" and refund.provider_amount:
            order, order_read_at = repo.read_store_order(backend.docs, store_id, refund.order_id)
            writes.order(refund_reversed(order, refund.provider_amount, refund.lines, now), order_read_at)
        answer = provider_answer(replace(refund, status=status, provider_refund_id=reported.id))
        return Plan(None, now, PROVIDER, [JournalEvent(f"refund.{status}", answer)], writes)

    backend.commit(store_id, build)


def provider_answer(refund: Refund) -> dict[str, Any]:
    """The journal's record of what the provider said about a refund."""
    return {
        "id": refund.id,
        "order_id": refund.order_id,
        "provider_refund_id": refund.provider_refund_id,
        "amount": refund.provider_amount,
    }
