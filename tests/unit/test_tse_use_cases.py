"""Sales taken on site signed by the store's TSE, on the in-memory backend with a TSE in memory: a
sale at the counter signed right after it is placed, a card payment at a terminal started then and
finished when paid (or canceled with the order), online sales never; a TSE that is down leaves the
sale `failed` and the job signs it once it is back, once; the TSS and each till made once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from test_terminal_use_cases import CAPPUCCINO, card_order, deliver, tap, till  # noqa: F401  (fixture)
from test_use_cases import STAFF, STORE, journal, order

from tresen.adapters import clock
from tresen.adapters.memory_tse import MemoryTse
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.tse import qr_time, transaction_id
from tresen.services.card_present import PaymentAction, cancel_card_payment
from tresen.services.mail import deliver_all_due_mail
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.tse import finish_unsigned_sales

TSE_TYPES = ("tse.",)


@pytest.fixture
def tse(backend) -> MemoryTse:
    backend.tse = MemoryTse()
    return backend.tse


def current(backend, placed):
    return backend.orders.read_in_store(STORE, placed.id)[0]


def tse_entries(backend) -> list[dict]:
    return [entry for entry in backend.journal.entries(STORE) if entry["type"].startswith(TSE_TYPES)]


def test_a_sale_at_the_counter_is_signed_right_after_it_is_placed(backend, tse):
    placed = order(backend, "on_site")  # two croissants (7 %) and an espresso (19 %): 840 cents
    signed = current(backend, placed)
    assert signed.tse_status == "signed"
    record = signed.tse
    assert (record["state"], record["transaction_number"], record["client_id"]) == (
        "FINISHED",
        1,
        "tresen-demo-counter",
    )
    assert record["process_data"] == "Beleg^2.60_5.80_0.00_0.00_0.00^8.40:Bar"
    assert record["qr_code"] == ";".join(
        (
            "V0",
            "tresen-demo-counter",
            "Kassenbeleg-V1",
            "Beleg^2.60_5.80_0.00_0.00_0.00^8.40:Bar",
            "1",
            str(record["signature_counter"]),
            qr_time(datetime.fromisoformat(record["start"])),
            qr_time(datetime.fromisoformat(record["end"])),
            "memory-SHA384",
            "unixTime",
            record["signature"],
            record["public_key"],
        )
    )
    assert [entry["type"] for entry in tse_entries(backend)] == ["tse.installed", "tse.client_registered", "tse.signed"]
    signed_entry = tse_entries(backend)[-1]["data"]
    assert (signed_entry["order_id"], signed_entry["transaction_id"]) == (placed.id, transaction_id(placed.id))
    assert {name: signed_entry[name] for name in record} == record  # the journal carries what the order does


def test_an_online_sale_has_no_tse_transaction(backend, tse):
    placed = order(backend, "online")
    assert (current(backend, placed).tse_status, current(backend, placed).tse) == (None, None)
    assert tse.transactions == {} and tse_entries(backend) == []


def test_a_card_payment_is_started_when_placed_and_finished_when_paid(backend, tse, till, reports):  # noqa: F811
    workplace, terminal = till
    placed = card_order(backend, terminal)
    assert current(backend, placed).tse_status == "pending"
    (started,) = tse.transactions.values()
    assert started.signed is None
    tap(backend, terminal, "visa")
    deliver(backend, reports.pop())
    paid = current(backend, placed)
    assert (paid.status, paid.tse_status, paid.tse["state"]) == ("paid", "signed", "FINISHED")
    assert paid.tse["process_data"] == "Beleg^2.60_5.80_0.00_0.00_0.00^8.40:Unbar"
    assert paid.tse["client_id"] == f"tresen-demo-{workplace.id}".replace("_", "-")


def test_a_card_payment_canceled_cancels_its_transaction(backend, tse, till, reports):  # noqa: F811
    _, terminal = till
    placed = card_order(backend, terminal, CAPPUCCINO)
    cancel_card_payment(PaymentAction(STORE, placed.id, STAFF), backend)
    canceled = current(backend, placed)
    assert (canceled.status, canceled.tse_status, canceled.tse["state"]) == ("canceled", "signed", "CANCELLED")


def test_a_tse_down_never_stops_a_sale_and_the_job_signs_it_once_when_back(backend, tse, monkeypatch):
    tse.down = True
    placed = order(backend, "on_site")
    failed = current(backend, placed)
    assert (failed.status, failed.invoice_number is not None, failed.tse_status) == ("placed", True, "failed")
    assert finish_unsigned_sales(backend) == {"signed": 0, "failed": 1}
    assert [entry["type"] for entry in tse_entries(backend)] == ["tse.failed"]  # one failure, recorded once
    tse.down = False
    later = clock.now() + timedelta(minutes=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert finish_unsigned_sales(backend) == {"signed": 1, "failed": 0}
    assert finish_unsigned_sales(backend) == {"signed": 0, "failed": 0}
    assert (current(backend, placed).tse_status, tse.signings) == ("signed", 1)
    assert [entry["type"] for entry in tse_entries(backend)][-1] == "tse.signed"


def test_a_finish_whose_answer_was_lost_is_signed_once(backend, tse, monkeypatch):
    tse.lose_next_answer = True  # the TSE signs, its answer never reaches Tresen
    placed = order(backend, "on_site")
    assert (current(backend, placed).tse_status, tse.signings) == ("failed", 1)
    later = clock.now() + timedelta(minutes=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert finish_unsigned_sales(backend) == {"signed": 1, "failed": 0}
    (transaction,) = tse.transactions.values()
    assert current(backend, placed).tse["signature_counter"] == transaction.signed.signature_counter
    assert tse.signings == 1


def test_the_tss_is_installed_once_and_each_till_registered_once(backend, tse):
    for _ in range(3):
        order(backend, "on_site")
    kinds = [entry["type"] for entry in tse_entries(backend)]
    assert (kinds.count("tse.installed"), kinds.count("tse.client_registered"), kinds.count("tse.signed")) == (1, 1, 3)
    counters = [entry["data"]["signature_counter"] for entry in tse_entries(backend) if entry["type"] == "tse.signed"]
    assert counters == sorted(counters) and len(set(counters)) == 3


def test_the_receipt_of_a_sale_on_site_is_mailed_with_its_signature(backend, tse):
    request = OrderRequest(
        (CartItem("croissant", 2), CartItem("espresso", 1)),
        Fulfilment("pickup"),
        Customer("Anna", "anna@example.com"),
        "on_site",
        receipt="email",
    )
    placed = place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend).order
    assert deliver_all_due_mail(backend).sent == 1
    ((mail, _),) = backend.mail_sender.sent
    assert (mail.to, current(backend, placed).tse_status) == ("anna@example.com", "signed")
    assert journal(backend).index("tse.signed") > journal(backend).index("order.placed")


def test_the_register_names_every_till_terminal_and_the_tse_with_their_days(backend, tse, till, reports):  # noqa: F811
    from test_terminal_use_cases import OWNER

    from tresen.services.cash_register import cash_register_report
    from tresen.services.terminals import TerminalAction, remove_terminal

    workplace, terminal = till
    assert cash_register_report(backend, STORE).tse is None  # no sale on site yet
    order(backend, "on_site")
    remove_terminal(TerminalAction(STORE, workplace.id, terminal.id, OWNER), backend)
    report = cash_register_report(backend, STORE)
    assert [(wp.id, wp.name) for wp in report.workplaces] == [(workplace.id, "Tresen 1")]
    [listed] = report.terminals
    assert (listed.serial_number, listed.bank_terminal_id, listed.removed_at is not None) == (
        "SIM-0001",
        "TID-4711",
        True,
    )
    assert (report.tse.serial_number, list(report.tse.clients.values())[0].serial_number) == (
        next(iter(tse.tsss.values())).serial_number,
        "tresen-demo-counter",
    )
