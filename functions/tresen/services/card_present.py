"""Card payments at a terminal: started with the order, sent to the reader after its commit, their
outcome taken from the provider's webhook — or, where that answer was lost, asked of the provider.

The reader is asked to take a payment only once the order exists: a reader that shows an amount
before the order is committed could take money for an order that never was. Whatever the provider
says — its webhook, or its answer when asked — becomes a payment event applied through the same
path as every provider event (services/payments.py `handle_payment_event`): recorded once under its
id, never moving an order backwards. An answer asked of the provider is recorded under an id
derived from the payment and its state, so asking twice applies it once, and the webhook that
arrives after it finds the order paid and changes nothing. Nothing here ever sends a payment to a
reader a second time after its outcome is known: a lost answer is recovered by asking, never by
charging again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.catalog import Store
from ..domain.errors import DomainError, FieldError
from ..domain.orders import Order, PaymentRef
from ..domain.payments import PaymentEvent, ReaderEvent
from ..domain.terminals import CARD_PRESENT, PAYMENT_PROVIDER, Terminal
from ..domain.workflow import expire
from .order_changes import ChangeOrder, change_order
from .payments import UNKNOWN_PAYMENT, EventOutcome, ExpireOrders, expire_orders, handle_payment_event, known_payment
from .terminal_ports import CardPresentRequest, CardPresentState, CardReader, TerminalRefused, TerminalUnitOfWork

log = logging.getLogger(__name__)
# the terminal provider of a payment provider's card payments at a terminal
TERMINAL_PROVIDER = {payments: terminals for terminals, payments in PAYMENT_PROVIDER.items()}
SCHEDULER = {"type": "system", "job": "expire"}


def terminal_for_payment(uow: TerminalUnitOfWork, store_id: str, terminal_id: str | None) -> Terminal:
    """The store's terminal in use that an order names to be paid at."""
    found = uow.terminals.read(terminal_id) if terminal_id else None
    if found is None or found[0].store_id != store_id or found[0].removed_at is not None:
        problem = FieldError("payment.terminal_id", "not a terminal of this store" if terminal_id else "required")
        raise DomainError("validation_failed", "A card payment at the counter names its terminal.", [problem])
    return found[0]


def start_card_payment(
    uow: TerminalUnitOfWork, store: Store, terminal: Terminal, order_id: str, amount: int
) -> PaymentRef:
    """The provider's payment for the order, before the order's commit; not yet at the reader."""
    reader = uow.card_reader(terminal.provider, store.id)
    payment_id = reader.create_payment(CardPresentRequest(order_id, store.id, terminal.id, amount, store.currency))
    return PaymentRef(payment_id, reader.payment_provider, "processing", terminal_id=terminal.id)


def send_to_reader(uow: TerminalUnitOfWork, store: Store, order: Order) -> None:
    """After the order's commit: the reader asks the customer for the card. A reader that cannot
    take it (busy, offline, the provider unreachable) leaves the order open with the reason, as a
    declined card does; staff cancel it or ask again."""
    terminal, reader = reader_of(uow, order)
    try:
        reader.present(terminal.reader_id, order.payment.id)
    except (TerminalRefused, ConnectionError) as refused:
        log.warning("order %s: the terminal %s did not take the payment: %s", order.id, terminal.id, refused)
        failed = PaymentEvent(
            provider=order.payment.provider,
            id=f"present-{order.payment.id}",
            type="payment.failed",
            payment_id=order.payment.id,
            error=f"The terminal could not take the payment: {refused}",
        )
        handle_payment_event(failed, uow, store.id)


def reader_of(uow: TerminalUnitOfWork, order: Order) -> tuple[Terminal, CardReader]:
    found = uow.terminals.read(order.payment.terminal_id)
    if found is None:
        raise DomainError("not_found", f"Order {order.id} names a terminal that does not exist.")
    terminal = found[0]
    return terminal, uow.card_reader(terminal.provider, order.store_id)


def state_event(payment: PaymentRef, state: CardPresentState, event_id: str | None = None) -> PaymentEvent | None:
    """What the provider's answer says, as a payment event (None while the payment is still at the
    reader). Without a provider's event id, its id is derived from the payment and its state."""
    kind = {"succeeded": "payment.succeeded", "failed": "payment.failed", "canceled": "payment.canceled"}.get(
        state.status
    )
    if kind is None:
        return None
    return PaymentEvent(
        provider=payment.provider,
        id=event_id or f"asked-{payment.id}-{state.status}",
        type=kind,
        payment_id=payment.id,
        amount=state.amount,
        currency=state.currency,
        error=state.error,
        brand=state.brand,
    )


def apply_state(uow: TerminalUnitOfWork, store_id: str, payment: PaymentRef, state: CardPresentState) -> None:
    event = state_event(payment, state)
    if event is not None:
        handle_payment_event(event, uow, store_id)


def card_order(uow: TerminalUnitOfWork, store_id: str, order_id: str) -> Order:
    order, _ = uow.orders.read_in_store(store_id, order_id)
    if order.payment_method != CARD_PRESENT or order.payment is None or order.payment.terminal_id is None:
        raise DomainError("not_a_card_payment", f"Order {order_id} is not paid by card at a terminal.")
    return order


def awaiting(order: Order) -> bool:
    return order.status == "awaiting_payment" and order.payment_status == "unpaid"


@dataclass(frozen=True)
class PaymentAction:
    store_id: str
    order_id: str
    actor: Mapping[str, Any]


def cancel_card_payment(command: PaymentAction, uow: TerminalUnitOfWork) -> Order:
    """Staff cancel the payment at the reader: the order is canceled. If the customer paid before
    the cancel reached the reader, the payment stands: the order is paid, and the answer says so."""
    order = card_order(uow, command.store_id, command.order_id)
    if not awaiting(order):
        raise DomainError("payment_not_cancelable", f"Order {order.id} is {order.status}: its payment is over.")
    terminal, reader = reader_of(uow, order)
    state = reader.cancel(terminal.reader_id, order.payment.id)
    apply_state(uow, command.store_id, order.payment, state)
    if state.status == "succeeded":
        raise DomainError(
            "payment_completed", f"The card was charged before the cancel reached the reader: order {order.id} is paid."
        )
    return uow.orders.read_in_store(command.store_id, order.id)[0]


def refresh_card_payment(command: PaymentAction, uow: TerminalUnitOfWork) -> Order:
    """The payment's outcome asked of the provider and applied: what staff do when the reader's
    answer does not arrive."""
    order = card_order(uow, command.store_id, command.order_id)
    if awaiting(order):
        _, reader = reader_of(uow, order)
        apply_state(uow, command.store_id, order.payment, reader.state(order.payment.id))
    return uow.orders.read_in_store(command.store_id, order.id)[0]


def handle_reader_event(event: ReaderEvent, uow: TerminalUnitOfWork, store_id: str | None) -> EventOutcome:
    """A reader's action ended (Stripe Terminal): a success is applied with what the provider says
    the payment collected, with which card; a failure with its reason."""
    payment = known_payment(uow, event.provider, event.payment_id, store_id)
    if payment is None:
        return EventOutcome(unprocessable=UNKNOWN_PAYMENT)
    ref = PaymentRef(payment.id, payment.provider, "processing")
    if event.succeeded:
        reader = uow.card_reader(TERMINAL_PROVIDER[payment.provider], payment.store_id)
        state = reader.state(payment.id)
        if state.status != "succeeded":  # the provider says otherwise: its word, asked now, counts
            log.warning("payment %s: the reader reported success, the provider says %s", payment.id, state.status)
    else:
        state = CardPresentState(payment.id, "failed", error=event.error or "the reader's action failed")
    applied = state_event(ref, state, event_id=event.id)
    if applied is None:
        return EventOutcome(ignored=f"the payment is {state.status}")
    return handle_payment_event(applied, uow, payment.store_id)


@dataclass(frozen=True)
class ExpireCardPayments:
    limit: int = 500


def expire_card_payments(command: ExpireCardPayments, uow: TerminalUnitOfWork) -> int:
    """Card orders left unpaid past their window: the provider is asked first — one it says was
    paid is paid, never canceled — and the reader's payment canceled before the order is."""
    now = uow.now()
    canceled = 0
    for order in uow.orders.unpaid_past(now, command.limit):
        if order.payment_method != CARD_PRESENT or order.payment is None or order.payment.terminal_id is None:
            continue
        terminal, reader = reader_of(uow, order)
        state = reader.state(order.payment.id)
        if state.status not in ("succeeded", "canceled"):
            state = reader.cancel(terminal.reader_id, order.payment.id)
        if state.status == "succeeded":
            apply_state(uow, order.store_id, order.payment, state)
            continue
        store, _ = uow.catalog.get(order.store_id)
        expired = change_order(ChangeOrder(store, order.id, lambda current: expire(current, now), SCHEDULER, now), uow)
        canceled += expired.changed
    return canceled


def expire_unpaid_orders(uow: TerminalUnitOfWork) -> int:
    """Every order left unpaid past its window, online (services/payments.py) and by card at a
    terminal: how many were canceled."""
    return expire_orders(ExpireOrders(), uow) + expire_card_payments(ExpireCardPayments(), uow)


@dataclass(frozen=True)
class PresentCard:
    """The customer at a simulated reader (dev mode): a card tapped, approved or declined; `report`
    False loses the reader's answer on its way to Tresen."""

    terminal_id: str
    brand: str
    approve: bool
    amount: int | None = None
    report: bool = True


def present_card(command: PresentCard, uow: TerminalUnitOfWork) -> dict[str, Any]:
    try:
        return uow.terminal_simulator.present_card(
            command.terminal_id, command.brand, command.approve, command.amount, command.report
        )
    except TerminalRefused as refused:
        raise DomainError(refused.code, str(refused)) from None


def switch_reader(uow: TerminalUnitOfWork, terminal_id: str, online: bool) -> None:
    try:
        uow.terminal_simulator.set_connection(terminal_id, online)
    except TerminalRefused as refused:
        raise DomainError(refused.code, str(refused)) from None
