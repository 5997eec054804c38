"""Workplaces, card terminals, shifts and card payments at the counter, on the in-memory backend
with the sandbox's simulated reader: terminals change only between shifts; a card payment is sent
to the reader once the order exists, paid by the reader's webhook with the card's brand, canceled
at the reader, recovered by asking when its answer was lost; a shift's close reconciles each
terminal's charges with the payments the journal booked."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from test_use_cases import STAFF, STORE, journal

from support import SANDBOX_SECRET
from tresen.adapters import clock
from tresen.domain.errors import DomainError
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.signatures import sign
from tresen.domain.terminals import TerminalRegistration
from tresen.services.card_present import (
    ExpireCardPayments,
    PaymentAction,
    PresentCard,
    cancel_card_payment,
    expire_card_payments,
    present_card,
    refresh_card_payment,
)
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.shifts import CloseShift, OpenShift, close_shift, open_shift
from tresen.services.terminals import (
    CreateWorkplace,
    RegisterTerminal,
    TerminalAction,
    check_terminal,
    create_workplace,
    register_terminal,
    remove_terminal,
)
from tresen.services.webhooks import ReceiveWebhook, receive_webhook

OWNER = {"type": "staff", "uid": "owner-1", "role": "owner"}
SANDBOX_READER = TerminalRegistration("sandbox", "Simulated WisePOS E", "SIM-0001", "TID-4711")
# two croissants (7 %) and an espresso (19 %): 840 cents; a cappuccino: 380
CROISSANTS_AND_ESPRESSO = (CartItem("croissant", 2), CartItem("espresso", 1))
CAPPUCCINO = (CartItem("cappuccino", 1),)


@pytest.fixture
def till(backend):
    """A workplace with one simulated terminal: (workplace, terminal)."""
    workplace = create_workplace(CreateWorkplace(STORE, "Tresen 1", OWNER), backend)
    terminal = register_terminal(RegisterTerminal(STORE, workplace.id, SANDBOX_READER, OWNER), backend)
    return workplace, terminal


def deliver(backend, event: dict):
    raw = json.dumps(event).encode()
    headers = {"Sandbox-Signature": sign(raw, SANDBOX_SECRET, int(time.time()))}
    return receive_webhook(ReceiveWebhook("sandbox", headers, raw), backend)


def card_order(backend, terminal, items=CROISSANTS_AND_ESPRESSO):
    request = OrderRequest(
        items,
        Fulfilment("table", table="7"),
        Customer("Gast", "gast@example.com"),
        "card_present",
        terminal_id=terminal.id,
    )
    return place_order(PlaceOrder(STORE, request, STAFF), backend).order


def tap(backend, terminal, brand="visa", approve=True, amount=None, report=True):
    return present_card(PresentCard(terminal.id, brand, approve, amount, report), backend)


def current(backend, order):
    return backend.orders.read_in_store(STORE, order.id)[0]


def test_a_terminal_is_registered_and_removed_only_while_no_shift_is_open(backend, till):
    workplace, terminal = till
    assert (terminal.provider, terminal.bank_terminal_id, terminal.last_check.status) == (
        "sandbox",
        "TID-4711",
        "online",
    )
    shift = open_shift(OpenShift(STORE, workplace.id, STAFF), backend)
    with pytest.raises(DomainError) as refused:
        register_terminal(RegisterTerminal(STORE, workplace.id, SANDBOX_READER, OWNER), backend)
    assert refused.value.code == "shift_open"
    with pytest.raises(DomainError) as refused:
        remove_terminal(TerminalAction(STORE, workplace.id, terminal.id, OWNER), backend)
    assert refused.value.code == "shift_open"
    with pytest.raises(DomainError) as refused:
        open_shift(OpenShift(STORE, workplace.id, STAFF), backend)
    assert refused.value.code == "shift_open"
    close_shift(CloseShift(STORE, workplace.id, shift.id, STAFF), backend)
    removed = remove_terminal(TerminalAction(STORE, workplace.id, terminal.id, OWNER), backend)
    assert removed.removed_at is not None and backend.terminals.at_workplace(STORE, workplace.id) == []
    till_types = ("workplace.", "terminal.", "shift.")
    assert [kind for kind in journal(backend) if kind.startswith(till_types)] == [
        "workplace.created",
        "terminal.registered",
        "shift.opened",
        "shift.closed",
        "terminal.removed",
    ]


def test_the_connection_check_reports_the_reader_switched_off(backend, till):
    workplace, terminal = till
    backend.terminal_simulator.set_connection(terminal.id, False)
    check = check_terminal(TerminalAction(STORE, workplace.id, terminal.id, STAFF), backend)
    assert (check.status, check.detail) == ("offline", "simulated reader, switched off")
    assert backend.terminals.read(terminal.id)[0].last_check == check


def test_a_card_payment_is_sent_to_the_reader_and_paid_by_its_answer_with_the_brand(backend, till, reports):
    _, terminal = till
    order = card_order(backend, terminal)
    assert (order.status, order.payment.status, order.payment.terminal_id) == (
        "awaiting_payment",
        "processing",
        terminal.id,
    )
    assert backend.terminal_simulator.in_progress(terminal.reader_id) == order.payment.id
    assert tap(backend, terminal, "mastercard")["status"] == "succeeded"
    assert [event["data"]["brand"] for event in reports] == ["mastercard"]
    deliver(backend, reports[0])
    paid = current(backend, order)
    assert (paid.status, paid.payment_status, paid.payment.status, paid.payment.brand) == (
        "paid",
        "paid",
        "succeeded",
        "mastercard",
    )
    sale = backend.journal.entries(STORE)[-1]["data"]["sale"]
    assert (sale["payment_method"], sale["card_brand"], sale["terminal_id"], sale["total"]) == (
        "card_present",
        "mastercard",
        terminal.id,
        840,
    )
    assert deliver(backend, reports[0]).duplicate


def test_a_declined_card_leaves_the_order_open_and_staff_cancel_it_at_the_reader(backend, till, reports):
    _, terminal = till
    order = card_order(backend, terminal)
    tap(backend, terminal, approve=False)
    deliver(backend, reports[0])
    declined = current(backend, order)
    assert (declined.status, declined.payment.status, declined.last_payment_error) == (
        "awaiting_payment",
        "failed",
        "The card was declined.",
    )
    canceled = cancel_card_payment(PaymentAction(STORE, order.id, STAFF), backend)
    assert (canceled.status, canceled.payment.status) == ("canceled", "canceled")
    assert backend.terminal_simulator.state(order.payment.id).status == "canceled"


def test_a_cancel_after_the_customer_paid_keeps_the_payment_and_says_so(backend, till, reports):
    _, terminal = till
    order = card_order(backend, terminal)
    tap(backend, terminal, report=False)  # paid; the answer has not arrived when staff press cancel
    with pytest.raises(DomainError) as refused:
        cancel_card_payment(PaymentAction(STORE, order.id, STAFF), backend)
    assert refused.value.code == "payment_completed"
    assert current(backend, order).status == "paid"


def test_a_lost_answer_is_recovered_by_asking_the_provider_and_the_late_one_changes_nothing(backend, till, reports):
    _, terminal = till
    order = card_order(backend, terminal)
    tap(backend, terminal, "visa", report=False)
    assert current(backend, order).status == "awaiting_payment"
    assert refresh_card_payment(PaymentAction(STORE, order.id, STAFF), backend).status == "paid"
    assert refresh_card_payment(PaymentAction(STORE, order.id, STAFF), backend).status == "paid"
    assert journal(backend).count("order.paid") == 1


def test_a_second_payment_at_a_busy_reader_is_refused_there_and_the_order_says_why(backend, till, reports):
    _, terminal = till
    first, second = card_order(backend, terminal), card_order(backend, terminal, CAPPUCCINO)
    refused = current(backend, second)
    assert (refused.status, refused.payment.status) == ("awaiting_payment", "failed")
    assert (
        refused.last_payment_error
        == "The terminal could not take the payment: The simulated reader is taking another payment."
    )
    assert backend.terminal_simulator.in_progress(terminal.reader_id) == first.payment.id


def test_a_shift_with_payments_approved_declined_and_canceled_reconciles(backend, till, reports):
    workplace, terminal = till
    shift = open_shift(OpenShift(STORE, workplace.id, STAFF), backend)
    card_order(backend, terminal)
    tap(backend, terminal, "visa")
    card_order(backend, terminal, CAPPUCCINO)
    tap(backend, terminal, "mastercard")
    declined = card_order(backend, terminal, CAPPUCCINO)
    tap(backend, terminal, approve=False)
    cancel_card_payment(PaymentAction(STORE, declined.id, STAFF), backend)
    canceled = card_order(backend, terminal, CAPPUCCINO)
    cancel_card_payment(PaymentAction(STORE, canceled.id, STAFF), backend)
    card_order(backend, terminal)
    tap(backend, terminal, "visa")
    for event in reports:
        deliver(backend, event)
    closed = close_shift(CloseShift(STORE, workplace.id, shift.id, STAFF), backend)
    (reconciled,) = closed.terminals
    assert closed.matched and reconciled.mismatches == ()
    for side in (reconciled.provider, reconciled.tresen):
        assert (side.count, side.amount) == (3, 840 + 380 + 840)
        assert {brand: (t.count, t.amount) for brand, t in side.by_brand.items()} == {
            "mastercard": (1, 380),
            "visa": (2, 1680),
        }
    entry = backend.journal.entries(STORE)[-1]
    assert (entry["type"], entry["data"]["matched"], entry["data"]["terminals"][0]["tresen"]["amount"]) == (
        "shift.closed",
        True,
        2060,
    )
    assert backend.workplaces.read(STORE, workplace.id)[0].open_shift is None


def test_the_close_books_a_lost_answer_and_names_what_only_one_side_has(backend, till, reports):
    workplace, terminal = till
    shift = open_shift(OpenShift(STORE, workplace.id, STAFF), backend)
    lost = card_order(backend, terminal)
    tap(backend, terminal, "visa", report=False)  # its answer never arrives
    typed = tap(backend, terminal, "girocard", amount=1250)  # a sale typed on the terminal by itself
    never_charged = card_order(backend, terminal, CAPPUCCINO)
    tap(backend, terminal, approve=False)  # declined at the reader ...
    reports.clear()
    forged = {  # ... yet a success of it reaches Tresen: the provider never took it
        "id": "evt_forged",
        "type": "payment.succeeded",
        "created": int(time.time()),
        "data": {"payment_id": never_charged.payment.id, "amount": 380, "currency": "EUR", "brand": "visa"},
    }
    deliver(backend, forged)
    closed = close_shift(CloseShift(STORE, workplace.id, shift.id, STAFF), backend)
    (reconciled,) = closed.terminals
    assert not closed.matched
    assert current(backend, lost).status == "paid"  # recovered by asking, booked once
    assert [(m.kind, m.amount, m.provider_ref, m.order_id) for m in reconciled.mismatches] == [
        ("provider_only", 1250, typed["payment_id"], None),
        ("tresen_only", 380, None, never_charged.id),
    ]
    assert (reconciled.provider.count, reconciled.provider.amount) == (2, 840 + 1250)
    assert (reconciled.tresen.count, reconciled.tresen.amount) == (2, 840 + 380)
    assert journal(backend).count("order.paid") == 2


def test_a_shift_is_not_closed_while_its_reader_asks_for_a_card(backend, till, reports):
    workplace, terminal = till
    shift = open_shift(OpenShift(STORE, workplace.id, STAFF), backend)
    card_order(backend, terminal)
    with pytest.raises(DomainError) as refused:
        close_shift(CloseShift(STORE, workplace.id, shift.id, STAFF), backend)
    assert refused.value.code == "payment_in_progress"


def test_expiry_asks_the_provider_first_and_cancels_at_the_reader(backend, till, reports, monkeypatch):
    _, terminal = till
    waiting = card_order(backend, terminal)
    tap(backend, terminal, report=False)  # paid; its answer never arrives
    forgotten = card_order(backend, terminal, CAPPUCCINO)
    later = forgotten.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert expire_card_payments(ExpireCardPayments(), backend) == 1
    assert current(backend, waiting).status == "paid"
    assert current(backend, forgotten).status == "canceled"
    assert backend.terminal_simulator.state(forgotten.payment.id).status == "canceled"
    assert backend.terminal_simulator.in_progress(terminal.reader_id) is None
