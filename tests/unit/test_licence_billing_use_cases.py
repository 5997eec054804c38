"""Licence billing in milliseconds, on the in-memory backend with Stripe and PayPal faked: each store's
invoice issued once and numbered gap-free in the platform's journal, saved cards charged off-session
and retried on days 3, 5 and 7, invoices paid once by whichever provider says so."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_portal_use_cases import PORTAL, open_store

from fake_billing import FakePayPal, FakeStripeBilling
from tresen.adapters.identity_directory import MemoryIdentityDirectory
from tresen.config import DEV_ISSUER
from tresen.domain.errors import DomainError
from tresen.domain.licence_invoices import Party
from tresen.domain.payments import BillingEvent
from tresen.services.billing_ports import SavedCard
from tresen.services.licence_invoicing import RunLicenceBilling, run_licence_billing
from tresen.services.licence_payments import (
    ReceivePayPalWebhook,
    StartCardSetup,
    StartPayment,
    apply_billing_event,
    billing_of,
    receive_paypal_webhook,
    start_card_setup,
    start_payment,
)
from tresen.services.mail import deliver_all_due_mail
from tresen.services.paypal_ports import PayPalEvent
from tresen.services.store_runs import WalkStores

ISSUER = Party(**DEV_ISSUER)
OWNER = {"type": "staff", "uid": "owner-1", "role": "owner"}
FIRST_OF_DECEMBER = date(2026, 12, 1)


@pytest.fixture
def billing(backend):
    backend.identity = MemoryIdentityDirectory()
    backend.stripe_billing = FakeStripeBilling()
    backend.paypal = FakePayPal()
    open_store(backend, "cafe-nord", "nord@example.de", "business")
    open_store(backend, "cafe-sued", "sued@example.de", "enterprise")
    return backend


def run(uow, on: date = FIRST_OF_DECEMBER):
    return run_licence_billing(RunLicenceBilling(on, ISSUER, PORTAL), uow)


def platform_entries(uow, kind: str) -> list[dict]:
    return [entry["data"] for entry in uow.journal.entries("platform") if entry["type"] == kind]


def mails_to(uow, to: str) -> list:
    deliver_all_due_mail(uow)
    return [mail for mail, _ in uow.mail_sender.sent if mail.to == to]


def save_card(uow, store_id: str, setup_intent: str = "seti_1") -> None:
    start_card_setup(StartCardSetup(store_id, PORTAL, OWNER), uow)
    uow.stripe_billing.cards[setup_intent] = SavedCard(f"cus_{store_id}", "pm_1", "visa", "4242", 12, 2030)
    event = BillingEvent(
        "stripe", f"evt_{setup_intent}", "checkout.session.completed", "card_saved", store_id, setup_intent
    )
    assert apply_billing_event(event, uow).duplicate is False


def test_each_store_is_invoiced_once_a_month_numbered_without_gaps(billing):
    first = run(billing)
    again = run(billing)

    assert first.period == "2026-11"
    assert sorted(first.issued) == ["TRESEN-2026-000001", "TRESEN-2026-000002"]
    assert again.issued == []
    issued = platform_entries(billing, "licence_invoice.issued")
    assert sorted(
        (entry["store_id"], entry["net"], entry["vat"], entry["gross"], entry["einvoice"]) for entry in issued
    ) == [
        ("cafe-nord", 7900, 1501, 9401, False),
        ("cafe-sued", 24900, 4731, 29631, True),
    ]
    january = run(billing, date(2027, 1, 1))
    assert sorted(january.issued) == ["TRESEN-2027-000001", "TRESEN-2027-000002"]  # a series per year


def test_the_invoice_mail_carries_its_pdf_as_issued(billing):
    run(billing)
    [account] = billing.licence_invoices.of_store("cafe-nord")
    [mail] = [mail for mail in mails_to(billing, "nord@example.de") if mail.subject.startswith("Rechnung")]

    [attachment] = mail.attachments
    assert attachment.filename == f"{account.invoice.number}.pdf"
    assert attachment.content == billing.licence_invoices.pdf(account.id)
    assert attachment.content.startswith(b"%PDF")
    assert f"?store=cafe-nord&invoice={account.id}" in mail.text  # no card yet: a link to pay


def test_a_saved_card_is_charged_by_the_next_run(billing):
    run(billing)
    save_card(billing, "cafe-nord")

    charged = run(billing, FIRST_OF_DECEMBER + timedelta(days=1))

    [account] = billing.licence_invoices.of_store("cafe-nord")
    assert charged.paid == [account.invoice.number]
    assert (account.status, account.paid_with) == ("paid", "card_on_file")
    [saved] = platform_entries(billing, "billing.card_saved")
    assert (saved["store_id"], saved["brand"], saved["last4"], saved["accepted_by"]) == (
        "cafe-nord",
        "visa",
        "4242",
        "owner-1",
    )
    [paid] = platform_entries(billing, "licence_invoice.paid")
    assert (paid["number"], paid["method"], paid["amount"]) == (account.invoice.number, "card_on_file", 9401)
    assert run(billing, FIRST_OF_DECEMBER + timedelta(days=2)).paid == []  # paid once
    assert billing_of("cafe-nord", billing).profile.card.last4 == "4242"


def test_a_declined_card_is_retried_on_days_3_5_and_7_and_the_owner_is_told_each_time(billing):
    save_card(billing, "cafe-nord")
    billing.stripe_billing.charge_outcome = "declined"

    tries = {}
    for day in range(0, 10):
        outcome = run(billing, FIRST_OF_DECEMBER + timedelta(days=day))
        if outcome.failed:
            tries[day] = outcome.failed

    assert sorted(tries) == [0, 3, 5, 7]
    failed = [
        entry for entry in platform_entries(billing, "licence_invoice.payment_failed") if "nord" in entry["invoice_id"]
    ]
    assert [(entry["attempt"], entry["next_attempt_on"]) for entry in failed] == [
        (1, "2026-12-04"),
        (2, "2026-12-06"),
        (3, "2026-12-08"),
        (4, None),
    ]
    assert len({key for key in billing.stripe_billing.charges if "cafe-nord" in key}) == 4  # one key per try
    dunning = [
        mail for mail in mails_to(billing, "nord@example.de") if mail.subject.startswith("Zahlung fehlgeschlagen")
    ]
    assert len(dunning) == 4
    assert "Ihr Geschäft nimmt weiter Bestellungen an." in dunning[0].text
    [account] = billing.licence_invoices.of_store("cafe-nord")
    assert account.status_on(date(2026, 12, 15)) == "open"
    assert account.status_on(date(2026, 12, 16)) == "overdue"


def test_paying_by_card_answers_one_checkout_and_the_webhook_pays_it_once(billing):
    run(billing)
    [account] = billing.licence_invoices.of_store("cafe-sued")

    url = start_payment(StartPayment("cafe-sued", account.id, "card", PORTAL, OWNER), billing)
    again = start_payment(StartPayment("cafe-sued", account.id, "card", PORTAL, OWNER), billing)

    assert url == again == "https://checkout.test/pay/1"
    asked = billing.stripe_billing.checkouts[0]
    assert (asked["invoice_number"], asked["amount"], asked["currency"]) == (account.invoice.number, 29631, "EUR")
    short = BillingEvent(
        "stripe", "evt_short", "checkout.session.completed", "invoice_paid", account.id, "pi_9", "card", 100
    )
    apply_billing_event(short, billing)
    assert billing.licence_invoices.get(account.id)[0].status == "open"  # not its amount
    paid = BillingEvent(
        "stripe", "evt_paid", "checkout.session.completed", "invoice_paid", account.id, "pi_1", "card", 29631
    )
    assert apply_billing_event(paid, billing).duplicate is False
    assert apply_billing_event(paid, billing).duplicate is True
    assert billing.licence_invoices.get(account.id)[0].status == "paid"
    assert len(platform_entries(billing, "licence_invoice.paid")) == 1
    with pytest.raises(DomainError) as refused:
        start_payment(StartPayment("cafe-sued", account.id, "paypal", PORTAL, OWNER), billing)
    assert refused.value.code == "invoice_paid"


def test_paypal_is_captured_when_approved_and_pays_when_captured(billing):
    run(billing)
    [account] = billing.licence_invoices.of_store("cafe-nord")
    url = start_payment(StartPayment("cafe-nord", account.id, "paypal", PORTAL, OWNER), billing)
    assert url == "https://paypal.test/checkoutnow?token=PAYPAL-ORDER-1"
    events = billing.paypal.events
    events[b"approved"] = PayPalEvent("WH-1", "CHECKOUT.ORDER.APPROVED", "PAYPAL-ORDER-1", None, account.id, 9401)
    events[b"captured"] = PayPalEvent("WH-2", "PAYMENT.CAPTURE.COMPLETED", "PAYPAL-ORDER-1", "CAP-1", account.id, 9401)

    receive_paypal_webhook(ReceivePayPalWebhook({}, b"approved"), billing)
    assert billing.paypal.captured == ["PAYPAL-ORDER-1"]
    assert billing.licence_invoices.get(account.id)[0].status == "open"
    receive_paypal_webhook(ReceivePayPalWebhook({}, b"captured"), billing)
    assert receive_paypal_webhook(ReceivePayPalWebhook({}, b"captured"), billing).duplicate is True

    paid = billing.licence_invoices.get(account.id)[0]
    assert (paid.status, paid.paid_with, paid.payment_reference) == ("paid", "paypal", "CAP-1")
    with pytest.raises(DomainError) as forged:
        receive_paypal_webhook(ReceivePayPalWebhook({}, b"forged"), billing)
    assert forged.value.code == "invalid_signature"


def test_another_stores_invoice_is_not_found(billing):
    run(billing)
    [account] = billing.licence_invoices.of_store("cafe-sued")
    with pytest.raises(DomainError) as hidden:
        start_payment(StartPayment("cafe-nord", account.id, "card", PORTAL, OWNER), billing)
    assert hidden.value.code == "invoice_not_found"


def test_a_run_cut_off_goes_on_where_it_stopped_and_invoices_each_store_once(billing, monkeypatch):
    handled = [0.0]  # the run's clock: one second a store
    get = billing.billing_profiles.get

    def ticking(store_id: str):
        handled[0] += 1
        return get(store_id)

    monkeypatch.setattr(billing.billing_profiles, "get", ticking)
    command = RunLicenceBilling(FIRST_OF_DECEMBER, ISSUER, PORTAL)

    def invocation(budget: float):
        walk = WalkStores("2026-12-01", budget=budget, page_size=1, workers=1, clock=lambda: handled[0])
        return run_licence_billing(command, billing, walk)

    cut = invocation(budget=1)
    rest = invocation(budget=100)
    again = invocation(budget=100)
    assert (cut.issued, cut.walked.done) == (["TRESEN-2026-000001"], False)
    assert (rest.issued, rest.walked.done) == (["TRESEN-2026-000002"], True)
    assert (again.issued, again.walked.handled, rest.walked.run.counts) == ([], 0, {"issued": 2})
    assert [account.invoice.number for account in billing.licence_invoices.of_store("cafe-nord")] == [
        "TRESEN-2026-000001"
    ]
