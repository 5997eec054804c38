"""Receipts on the in-memory backend: mailed with the commit that invoices the order (paid online, paid
by gift cards, placed to be paid at the counter) and only when the customer asked for them, once
however often the payment is reported; a correction receipt naming the original with the commit that
records a refund succeeded; the same PDFs for the holder of the order's token; and each PDF read back
with pdftotext holding what §14 (4) UStG / §33 UStDV ask of an invoice, below and above 250 €."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from test_use_cases import CART, STAFF, STORE, pay
from test_zreport_pdf import needs_pdftotext, pdf_text, squashed

from tresen.adapters import clock
from tresen.adapters import payments as payment_adapters
from tresen.adapters.mail_outbox import OUTBOX
from tresen.domain.errors import DomainError
from tresen.domain.mail import Mail
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.refunds import RefundRequest, ReportedRefund
from tresen.services import cards, receipt_downloads
from tresen.services.cards import IssueCard
from tresen.services.mail import deliver_all_due_mail
from tresen.services.order_status import ChangeStatus, change_status
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.provider_refunds import record_refund_status
from tresen.services.refunds import RefundOrder, refund_order
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

T0 = datetime(2026, 11, 23, 11, 36, 39, tzinfo=UTC)  # 12:36 in Frankfurt
ORDER_PAGE = "http://127.0.0.1:8080/?store=demo#order="
BIG_CART = (CartItem("bagel", 30, ("salmon",)), CartItem("cappuccino", 20, ("oat",)), CartItem("lemonade", 5))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)


def place(backend, method="on_site", receipt="email", items=CART, tip=0, gift_cards=(), email="anna@example.com"):
    customer = Customer("Anna Beispiel", email)
    request = OrderRequest(items, Fulfilment("pickup"), customer, method, None, tip, gift_cards, receipt)
    return place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend)


def refund_lines(backend, order_id, *lines, reason="kalt serviert"):
    request = RefundRequest(lines=lines, reason=reason)
    return refund_order(RefundOrder(STORE, order_id, request, STAFF, "supervisor", None), backend)


def delivered(backend) -> list[Mail]:
    """Every mail sent so far, after sending what is due."""
    deliver_all_due_mail(backend)
    return [mail for mail, _ in backend.mail_sender.sent]


def outbox_ids(backend) -> list[str]:
    return sorted(doc.id for doc in backend.docs.query(OUTBOX))


def missing(pdf: bytes, expected: list[str]) -> list[str]:
    """The lines of `expected` the pages do not hold, as laid out (whitespace aside: pdftotext's
    spacing is a guess)."""
    page = squashed(pdf_text(pdf, "-layout"))
    return [line for line in expected if squashed(line) not in page]


def title(pdf: bytes) -> list[str]:
    """The first line of the page: the store's name and what the document is."""
    return pdf_text(pdf, "-layout").splitlines()[0].split()


def test_an_order_paid_online_is_mailed_its_receipt_once_however_often_its_payment_is_reported(backend):
    placed = place(backend, "online").order
    assert delivered(backend) == []  # not paid yet: no invoice, no receipt
    assert pay(backend, placed, event_id="evt_paid").duplicate is False
    assert pay(backend, placed, event_id="evt_paid").duplicate is True  # the same event delivered again
    assert pay(backend, placed, event_id="evt_paid_again").duplicate is False  # another event: ignored, paid already
    [mail] = delivered(backend)
    assert (mail.id, mail.to, mail.subject) == (
        f"rcpt-{placed.id}",
        "anna@example.com",
        "Ihr Beleg DEMO-2026-000001 – Demo Café",
    )
    [attachment] = mail.attachments
    assert (attachment.filename, attachment.content_type) == ("Beleg DEMO-2026-000001.pdf", "application/pdf")
    assert attachment.content.startswith(b"%PDF-")
    assert backend.mail_sender.sent[0][1] == f"<rcpt-{placed.id}@tresen>"
    assert mail.text == (
        "Guten Tag Anna Beispiel,\n\n"
        "vielen Dank für Ihre Bestellung bei Demo Café. Ihr Beleg DEMO-2026-000001 über 8,40 € liegt dieser "
        "E-Mail als PDF bei.\n\n"
        "Ihre Bestellung und den Nachweis, dass sie im Journal des Geschäfts steht:\n"
        f"{ORDER_PAGE}{placed.id}\n\n"
        "Demo Café\nBahnhofstraße 1\n60311 Frankfurt am Main\n"
    )
    assert outbox_ids(backend) == [f"rcpt-{placed.id}"]


def test_an_order_placed_to_be_paid_at_the_counter_is_mailed_its_receipt_at_once(backend):
    placed = place(backend, "on_site").order
    assert (placed.status, placed.invoice_number, placed.receipt) == ("placed", "DEMO-2026-000001", "email")
    assert [mail.id for mail in delivered(backend)] == [f"rcpt-{placed.id}"]


def test_an_order_the_gift_cards_pay_in_full_is_mailed_its_receipt_at_once(backend):
    card = cards.issue_card(IssueCard(STORE, 5000, STAFF), backend)
    placed = place(backend, "online", gift_cards=((card.code, None),)).order
    assert (placed.status, placed.amount_due) == ("paid", 0)
    assert [mail.id for mail in delivered(backend)] == [f"rcpt-{placed.id}"]


def test_nothing_is_mailed_to_a_customer_who_did_not_ask_for_receipts(backend):
    online, on_site = place(backend, "online", receipt=None).order, place(backend, "on_site", receipt=None).order
    pay(backend, online)
    refund_lines(backend, on_site.id, ("L1", 1))
    refund_order(RefundOrder(STORE, online.id, RefundRequest(amount=300), STAFF, "supervisor", None), backend)
    assert (delivered(backend), outbox_ids(backend)) == ([], [])


def test_a_receipt_by_email_needs_an_address_a_mail_can_go_to(backend):
    with pytest.raises(DomainError) as refused:
        place(backend, email="anna@example..de")  # what the order's own check lets through
    assert (refused.value.code, [problem.field for problem in refused.value.errors]) == (
        "validation_failed",
        ["customer.email"],
    )
    assert place(backend, receipt=None, email="anna@example..de").order.receipt is None


def test_a_refund_paid_out_at_the_counter_is_mailed_a_correction_naming_the_original(backend):
    placed = place(backend).order
    refunded = refund_lines(backend, placed.id, ("L1", 1))
    receipt, correction = delivered(backend)
    assert (correction.id, correction.subject) == (
        f"rcpt-{refunded.id}",
        "Rechnungskorrektur zu Ihrem Beleg DEMO-2026-000001 – Demo Café",
    )
    assert correction.text.startswith(
        "Guten Tag Anna Beispiel,\n\nDemo Café hat Ihnen 2,90 € Ihrer Bestellung erstattet. Die Rechnungskorrektur "
        "zu Ihrem Beleg DEMO-2026-000001 liegt dieser E-Mail als PDF bei.\n"
    )
    [attachment] = correction.attachments
    assert attachment.filename == f"Rechnungskorrektur DEMO-2026-000001 {refunded.id}.pdf"
    assert receipt.id == f"rcpt-{placed.id}"


def pending_at_the_sandbox(monkeypatch) -> None:
    """The sandbox answers a refund `pending`, as a real provider may, and tells its outcome later."""

    def answer_pending(self, *, payment_id: str, amount: int, refund_id: str) -> ReportedRefund:
        return ReportedRefund(f"sbx_re_{refund_id}", amount, "pending", payment_id, refund_id)

    monkeypatch.setattr(payment_adapters.SandboxProvider, "refund", answer_pending)


def test_a_refund_through_the_provider_is_mailed_its_correction_once_the_provider_reports_it_succeeded(
    backend, monkeypatch
):
    placed = place(backend, "online").order
    pay(backend, placed)
    pending_at_the_sandbox(monkeypatch)
    refunded = refund_lines(backend, placed.id, ("L2", 1))
    assert [mail.id for mail in delivered(backend)] == [f"rcpt-{placed.id}"]  # the money is not back yet
    succeeded = ReportedRefund(f"sbx_re_{refunded.id}", 260, "succeeded", placed.payment.id, refunded.id)
    record_refund_status(backend, STORE, refunded.id, succeeded)
    record_refund_status(backend, STORE, refunded.id, succeeded)  # the provider tells it again
    assert [mail.id for mail in delivered(backend)] == [f"rcpt-{placed.id}", f"rcpt-{refunded.id}"]


def test_a_refund_that_fails_is_mailed_no_correction(backend, monkeypatch):
    placed = place(backend, "online")
    order = placed.order
    pay(backend, order)
    pending_at_the_sandbox(monkeypatch)
    refunded = refund_lines(backend, order.id, ("L2", 1))
    failed = ReportedRefund(f"sbx_re_{refunded.id}", 260, "failed", order.payment.id, refunded.id)
    record_refund_status(backend, STORE, refunded.id, failed)
    assert [mail.id for mail in delivered(backend)] == [f"rcpt-{order.id}"]
    with pytest.raises(DomainError) as missing:
        receipt_downloads.correction(backend, order.id, refunded.id, placed.access_token)
    assert missing.value.code == "not_found"


def test_the_receipts_downloaded_with_the_token_are_the_ones_mailed(backend):
    placed = place(backend)
    order, token = placed.order, placed.access_token
    refunded = refund_lines(backend, order.id, ("L1", 2))
    receipt, correction = delivered(backend)
    assert receipt_downloads.receipt(backend, order.id, token) == receipt.attachments[0]
    assert receipt_downloads.correction(backend, order.id, refunded.id, token) == correction.attachments[0]
    with pytest.raises(DomainError) as wrong_token:
        receipt_downloads.receipt(backend, order.id, "not-the-token")
    other = place(backend)
    with pytest.raises(DomainError) as other_order:
        receipt_downloads.correction(backend, other.order.id, refunded.id, other.access_token)
    assert (wrong_token.value.code, other_order.value.code) == ("order_not_found", "not_found")


def test_an_order_not_paid_yet_has_no_receipt_to_download(backend):
    placed = place(backend, "online")
    with pytest.raises(DomainError) as unpaid:
        receipt_downloads.receipt(backend, placed.order.id, placed.access_token)
    assert unpaid.value.code == "order_not_paid"


@needs_pdftotext
def test_a_small_invoice_holds_every_field_a_kleinbetragsrechnung_needs_and_more(backend):
    placed = place(backend, "on_site", tip=150)
    pdf = receipt_downloads.receipt(backend, placed.order.id, placed.access_token).content
    expected = [
        "Demo Café",
        "Bahnhofstraße 1",
        "60311 Frankfurt am Main",
        "Nr. DEMO-2026-000001",
        "Rechnungsnummer DEMO-2026-000001",
        "Rechnungsdatum 23.11.2026",
        "Leistungsdatum 23.11.2026",
        "Bestellung Nr. 1 vom 23.11.2026, 12:36 Uhr (Abholung)",
        "Steuernummer 045 234 56789",
        "Menge Artikel Einzelpreis USt Betrag",
        "2 Butter-Croissant 2,90 € 7 % 5,80 €",
        "1 Espresso 2,60 € 19 % 2,60 €",
        "Summe der Artikel 8,40 €",
        "Trinkgeld (ohne Umsatzsteuer) 1,50 €",
        "Gesamtbetrag 9,90 €",
        "Umsatzsteuer Netto USt Brutto",
        "7 % 5,42 € 0,38 € 5,80 €",
        "19 % 2,18 € 0,42 € 2,60 €",
        "Summe 7,60 € 0,80 € 8,40 €",
        "Zahlung vor Ort an der Kasse 9,90 €",
        f"{ORDER_PAGE}{placed.order.id}",
    ]
    assert missing(pdf, expected) == []
    assert title(pdf) == ["Demo", "Café", "Kleinbetragsrechnung"]
    assert missing(pdf, ["Rechnungsempfänger", "USt-IdNr."]) == ["Rechnungsempfänger", "USt-IdNr."]


@needs_pdftotext
def test_an_invoice_over_250_euros_names_the_recipient_and_the_store_s_tax_numbers(backend):
    seed_store(SeedStore(replace(DEMO_STORE, vat_id="DE298765432"), DEMO_PRODUCTS), backend)
    card = cards.issue_card(IssueCard(STORE, 5000, STAFF), backend)
    placed = place(backend, "online", items=BIG_CART, gift_cards=((card.code, None),))
    pay(backend, placed.order)
    [mail] = delivered(backend)
    pdf = mail.attachments[0].content
    expected = [
        "Nr. DEMO-2026-000001",
        "Rechnungsnummer DEMO-2026-000001",
        "Rechnungsdatum 23.11.2026",
        "Leistungsdatum 23.11.2026",
        "Steuernummer 045 234 56789",
        "USt-IdNr. DE298765432",
        "Rechnungsempfänger Anna Beispiel",
        "30 Bagel mit Frischkäse 8,00 € 7 % 240,00 €",
        "+ Mit Lachs",
        "20 Cappuccino 4,30 € 19 % 86,00 €",
        "+ Hafermilch",
        "5 Hausgemachte Limonade 4,50 € 19 % 22,50 €",
        "Gesamtbetrag 348,50 €",
        "7 % 224,30 € 15,70 € 240,00 €",
        "19 % 91,18 € 17,32 € 108,50 €",
        f"Gutschein …{card.card.last4} 50,00 €",
        "Online bezahlt über Sandbox (Test) 298,50 €",
        f"{ORDER_PAGE}{placed.order.id}",
    ]
    assert missing(pdf, expected) == []
    assert title(pdf) == ["Demo", "Café", "Rechnung"]


@needs_pdftotext
def test_the_correction_names_the_original_and_takes_back_the_refunded_lines_and_their_vat(backend):
    placed = place(backend, "on_site")
    refunded = refund_lines(backend, placed.order.id, ("L2", 1), ("L1", 1))
    pdf = receipt_downloads.correction(backend, placed.order.id, refunded.id, placed.access_token).content
    expected = [
        "zu Rechnung DEMO-2026-000001",
        "Korrektur zu Rechnung DEMO-2026-000001 vom 23.11.2026",
        f"Korrekturbeleg {refunded.id}",
        "Datum 23.11.2026",
        "Steuernummer 045 234 56789",
        "Grund kalt serviert",
        "-1 Butter-Croissant 2,90 € 7 % -2,90 €",
        "-1 Espresso 2,60 € 19 % -2,60 €",
        "Erstattungsbetrag -5,50 €",
        "7 % -2,71 € -0,19 € -2,90 €",
        "19 % -2,18 € -0,42 € -2,60 €",
        "Summe -4,89 € -0,61 € -5,50 €",
        "An der Kasse ausgezahlt 5,50 €",
    ]
    assert missing(pdf, expected) == []
    page = squashed(pdf_text(pdf, "-layout"))
    assert page.index("Butter-Croissant") < page.index("Espresso")  # in the order's order, however asked for


@needs_pdftotext
def test_the_correction_of_a_rejected_order_takes_back_all_of_its_vat(backend):
    placed = place(backend, "online", tip=100)
    pay(backend, placed.order)
    change_status(ChangeStatus(STORE, placed.order.id, "rejected", STAFF, "ausverkauft"), backend)
    receipt, correction = delivered(backend)
    refund_id = re.fullmatch(r"rcpt-(re_\w+)", correction.id)[1]
    pdf = correction.attachments[0].content
    expected = [
        f"Korrekturbeleg {refund_id}",
        "Grund Bestellung abgelehnt",
        "-2 Butter-Croissant 2,90 € 7 % -5,80 €",
        "-1 Espresso 2,60 € 19 % -2,60 €",
        "Ohne Umsatzsteuer (Trinkgeld, Gutscheine) -1,00 €",
        "Erstattungsbetrag -9,40 €",
        "Summe -7,60 € -0,80 € -8,40 €",
        "Zurück über Sandbox (Test) 9,40 €",
    ]
    assert missing(pdf, expected) == []
    assert (title(pdf), receipt.id) == (["Demo", "Café", "Rechnungskorrektur"], f"rcpt-{placed.order.id}")


def test_the_receipt_is_the_same_bytes_whenever_it_is_made(backend, monkeypatch):
    placed = place(backend)
    [mail] = delivered(backend)
    pdf = mail.attachments[0].content
    # the one date the file carries is the invoice's own: none is the time it was rendered at
    assert re.findall(rb"D:\d{14}|\d{4}-\d\d-\d\dT\d\d:\d\d", pdf) == [b"D:20261123113639"]
    monkeypatch.setattr(clock, "now", lambda: datetime(2027, 3, 1, tzinfo=UTC))
    assert receipt_downloads.receipt(backend, placed.order.id, placed.access_token) == mail.attachments[0]
