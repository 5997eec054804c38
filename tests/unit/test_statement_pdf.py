"""The statement PDF read back as text (pdftotext): the store's name and address, the period, totals
per rate and method in German notation, the tie-out, the payouts, what is not paid out or differs,
every payment listed with the column titles on each page, and "Seite n von N" on every page."""

from __future__ import annotations

import re

from test_zreport_pdf import needs_pdftotext, page_text, pdf_text

from tresen.domain.statement_pdf import MAX_LISTED, render_statement


def payment(n: int, paid_out: bool = True) -> dict:
    return {
        "payment_id": f"pay_sbx_{n:020d}",
        "order_id": f"ord_{n}",
        "invoice_number": f"DEMO-2026-{n:06d}",
        "provider": "sandbox",
        "paid_at": "2026-11-17T12:03:11+01:00",
        "amount": 1840,
        "fee": 53 if paid_out else None,
        "net": 1787 if paid_out else None,
        "payout_id": "po_17" if paid_out else None,
        "arrival_date": "2026-11-20" if paid_out else None,
        "matched": paid_out,
    }


def statement(payments: int) -> dict:
    lines = [payment(n, paid_out=n % 2 == 0) for n in range(1, payments + 1)]
    return {
        "id": "stm_7q2k",
        "store_id": "demo",
        "from": "2026-11-16",
        "to": "2026-11-22",
        "created_at": "2026-11-23T09:12:00+01:00",
        "currency": "EUR",
        "store": {
            "name": "Café Lindner",
            "address": ["Bahnhofstraße 1", "60311 Frankfurt am Main"],
            "timezone": "Europe/Berlin",
        },
        "payments": lines,
        "refunds": [
            {
                "refund_id": "ref_1",
                "order_id": "ord_1",
                "invoice_number": "DEMO-2026-000001",
                "provider": "sandbox",
                "provider_refund_id": "sbx_re_ref_1",
                "created_at": "2026-11-18T10:00:00+01:00",
                "amount": 300,
                "fee": 0,
                "net": -300,
                "payout_id": "po_17",
                "arrival_date": "2026-11-20",
                "matched": True,
            }
        ],
        "unmatched": [
            {"kind": "payment", "id": "pay_sbx_00000000000000000001", "amount": 1840, "reason": "not paid out yet"}
        ],
        "mismatched": [
            {
                "kind": "payment",
                "id": "pay_x",
                "payout_id": "po_17",
                "expected": 990,
                "reported": 900,
                "reason": "the payout reports another amount",
            }
        ],
        "payouts": [
            {
                "provider": "sandbox",
                "payout_id": "po_17",
                "arrival_date": "2026-11-20",
                "amount": 123456,
                "fee": 1480,
                "items": 61,
            }
        ],
        "totals": {
            "payments": {"on_site": 2460, "online": 730000, "giftcard": 500},
            "vat": [
                {"rate": "7", "gross": 5350, "net": 5000, "vat": 350},
                {"rate": "19", "gross": 11900, "net": 10000, "vat": 1900},
            ],
            "tips": 200,
            "giftcards_sold": 2500,
            "refunds": {"amount": 300, "by_method": {"on_site": 0, "online": 300, "giftcard": 0}},
            "provider": {
                "payments": 730000,
                "refunds": 300,
                "fees": 1480,
                "net": 728220,
                "paid_out": 500000,
                "not_paid_out": 228220,
            },
        },
        "closings": {
            "z_numbers": [3, 4],
            "first_seq": 41,
            "last_seq": 388,
            "covered": True,
            "note": "Z 3–4 cover every entry of the period",
            "payments": {},
            "ties_out": True,
        },
    }


@needs_pdftotext
def test_the_statement_reads_as_an_accountant_expects():
    text = page_text(render_statement(statement(120)))
    for expected in (
        "Café Lindner",
        "Bahnhofstraße 1",
        "60311 Frankfurt am Main",
        "Geschäftstage 16.11.2026 – 22.11.2026",
        "7 % 50,00 € 3,50 € 53,50 €",
        "19 % 100,00 € 19,00 € 119,00 €",
        "Summe Umsatz 150,00 € 22,50 € 172,50 €",
        "Online 7.300,00 €",
        "Summe Zahlungen 7.329,60 €",
        "Gebühren -14,80 €",
        "Netto 7.282,20 €",
        "Z 3, Z 4",
        "Die Summen stimmen auf den Cent mit den Kassenabschlüssen überein.",
        "po_17 sandbox 20.11.2026 61 14,80 € 1.234,56 €",
        "Nicht ausgezahlt (1)",
        "noch nicht ausgezahlt",
        "Abweichungen (1)",
        "9,90 € 9,00 € Auszahlung meldet einen anderen Betrag",
        "Zahlungen (120)",
        "17.11.2026 DEMO-2026-000002 pay_sbx_00000000000000000002 18,40 € 0,53 € 17,87 € po_17",
        "17.11.2026 DEMO-2026-000119 pay_sbx_00000000000000000119 18,40 € — — noch offen",
        "Erstattungen (1)",
        "18.11.2026 DEMO-2026-000001 sbx_re_ref_1 -3,00 € 0,00 € -3,00 € po_17",
    ):
        assert expected.replace(" ", "") in text, expected


@needs_pdftotext
def test_every_page_is_numbered_and_repeats_the_list_titles():
    pages = pdf_text(render_statement(statement(300)), "-layout").split("\f")[:-1]
    assert len(pages) >= 4
    for number, page in enumerate(pages, 1):
        assert re.search(rf"Seite {number} von {len(pages)}\s*$", page.rstrip()), number
    for page in pages[1:]:
        assert "Referenz des Anbieters" in page or "Posten" in page


@needs_pdftotext
def test_a_huge_statement_lists_its_first_lines_and_says_where_the_rest_are():
    text = page_text(render_statement(statement(MAX_LISTED + 7)))
    assert f"DEMO-2026-{MAX_LISTED:06d}" in text and f"DEMO-2026-{MAX_LISTED + 1:06d}" not in text
    assert "…und7weitere:vollständiginderCSV-undJSON-Datei." in text
