"""The Z-report PDF: German amounts, and what a person reads off the page (through poppler's pdftotext)."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess

import pytest

from tresen.domain.zreport_pdf import format_day, format_euro, format_moment, format_rate, render_zreport

CLOSING = {
    "store_id": "demo",
    "z_number": 12,
    "business_day": "2026-11-23",
    "closed_at": "2026-11-24T05:00:03+01:00",
    "first_seq": 1041,
    "last_seq": 1187,
    "currency": "EUR",
    "closed_by": {"type": "staff", "uid": "u1", "role": "supervisor"},
    "counts": {
        "orders_placed": 61,
        "orders_on_site": 23,
        "sales": 58,
        "canceled": 2,
        "rejected": 1,
        "refunds": 3,
        "voids": 4,
        "discounts": 2,
        "giftcards_sold": 5,
        "giftcards_redeemed": 6,
    },
    "sales": {"gross": 123456, "net": 108000, "tax": 15456},
    "vat": [
        {"rate": "7", "gross": 53500, "net": 50000, "tax": 3500},
        {"rate": "19", "gross": 69956, "net": 58787, "tax": 11169},
    ],
    "payments": {"on_site": 40000, "online": 80000, "giftcard": 9000},
    "tips": 1250,
    "refunds": {
        "count": 3,
        "amount": 4500,
        "vat": [
            {"rate": "7", "gross": 1070, "net": 1000, "tax": 70},
            {"rate": "19", "gross": 3430, "net": 2882, "tax": 548},
        ],
        "by_method": {"online": 3000, "on_site": 500, "giftcard": 1000},
    },
    "voids": {"count": 4, "amount": 2100},
    "discounts": {"count": 2, "amount": 800},
    "giftcards": {"sold": 12500, "redeemed": 9000},
    "checkpoint": {
        "origin": "tresen/demo-tresen/demo",
        "size": 1187,
        "root": "pX5C3ZzYj0qzP6sB8e1nUVG8xQmC7m4yYgSpKfkVZxk=",
        "key_id": "d999cf3b",
        "note": "tresen/demo-tresen/demo\n1187\npX5C3ZzYj0qzP6sB8e1nUVG8xQmC7m4yYgSpKfkVZxk=\n\n"
        "\u2014 tresen/demo-tresen 2ZnPOxW6vXvC1q4tTQn0yq3mO8Q8wqk6a1L1y0xq3zP0o2nH1pQ+uW8v3o8cJ9d9q0C3cQk1t7n9v7o4b2"
        "Pq9f1C6y8dA==\n",
    },
    "previous_hash": "9f2c7a4be1d0c3f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3",
    "hash": "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809",
}
STORE = {"id": "demo", "name": "Café Tresen", "timezone": "Europe/Berlin", "address": ("Hauptstraße 1", "10115 Berlin")}

PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(
    PDFTOTEXT is None, reason="pdftotext is not installed (Debian: apt-get install poppler-utils)"
)
A4_WIDTH, MARGIN = 595.28, 16 / 25.4 * 72  # points


def pdf_text(pdf: bytes, *options: str) -> str:
    return subprocess.run([PDFTOTEXT, *options, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def squashed(text: str) -> str:
    """`text` without whitespace: pdftotext's spacing is a guess ("7 %" may come out as "7%")."""
    return re.sub(r"\s+", "", text)


def page_text(pdf: bytes) -> str:
    """The text of the pages, row by row as laid out, without whitespace."""
    return squashed(pdf_text(pdf, "-layout"))


def words(pdf: bytes) -> list[tuple[float, float, str]]:
    """(xMin, xMax, word) of every word on every page."""
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', pdf_text(pdf, "-bbox")
    )
    return [(float(x_min), float(x_max), word) for x_min, x_max, word in found]


def pages(pdf: bytes) -> int:
    return pdf_text(pdf, "-bbox").count("<page ")


def zeroed(value):
    """`value` with every number 0."""
    if isinstance(value, dict):
        return {key: zeroed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [zeroed(item) for item in value]
    return 0 if isinstance(value, int) else value


# -- Formatting -----------------------------------------------------------------------------------


def test_amounts_are_written_the_german_way():
    assert format_euro(123456) == "1.234,56 €"
    assert format_euro(0) == "0,00 €"
    assert format_euro(5) == "0,05 €"
    assert format_euro(100) == "1,00 €"
    assert format_euro(99999) == "999,99 €"
    assert format_euro(123456789) == "1.234.567,89 €"
    assert format_euro(-5) == "-0,05 €"
    assert format_euro(-123456) == "-1.234,56 €"


def test_rates_days_and_times():
    assert format_rate("7") == "7 %"
    assert format_rate("5.5") == "5,5 %"
    assert format_day("2026-11-23") == "Montag, 23.11.2026"
    assert format_day(None) == "—"
    assert format_moment("2026-11-24T04:00:03Z", "Europe/Berlin") == "24.11.2026, 05:00:03 Uhr (Europe/Berlin)"
    assert format_moment("2026-07-01T03:00:00+00:00", "Europe/Berlin") == "01.07.2026, 05:00:00 Uhr (Europe/Berlin)"
    assert format_moment("2026-11-24T05:00:03+01:00", "No/Such_Zone") == "24.11.2026, 05:00:03 Uhr (UTC+01:00)"
    assert format_moment("", "Europe/Berlin") == "—"


# -- The document ---------------------------------------------------------------------------------


def test_it_is_a_pdf_and_the_same_closing_gives_the_same_bytes():
    pdf = render_zreport(CLOSING, STORE)
    assert pdf.startswith(b"%PDF-")
    assert render_zreport(copy.deepcopy(CLOSING), dict(STORE)) == pdf


@needs_pdftotext
def test_the_page_reads_as_a_z_report():
    pdf = render_zreport(CLOSING, STORE)
    text = page_text(pdf)
    for expected in (
        "Café Tresen",
        "Hauptstraße 1",
        "10115 Berlin",
        "Z-Bericht Nr. 12",
        "Montag, 23.11.2026",
        "24.11.2026, 05:00:03 Uhr (Europe/Berlin)",
        "Journal-Einträge 1041 bis 1187",
        "Mitarbeiter u1 (supervisor)",
        "1.234,56 €",
        # VAT per rate: rate, net, VAT, gross; then the total
        "7 % 500,00 € 35,00 € 535,00 €",
        "19 % 587,87 € 111,69 € 699,56 €",
        "Summe Umsatz 1.080,00 € 154,56 € 1.234,56 €",
        "Bar 400,00 €",
        "Karte (Terminal) 0,00 €",
        "Online 800,00 €",
        "Gutschein 90,00 €",
        "Summe Zahlungen 1.290,00 €",
        "Trinkgeld (für das Personal, kein Umsatz) 12,50 €",
        "Rückerstattungen 3 45,00 €",
        "davon Online 30,00 €",
        "19 % 28,82 € 5,48 € 34,30 €",
        "Summe Rückerstattungen 38,82 € 6,18 € 45,00 €",
        "Entwertungen (Voids) 4 21,00 €",
        "Rabatte 2 8,00 €",
        "Verkauft (Mehrzweckgutscheine, kein Umsatz) 5 125,00 €",
        "Eingelöst 6 90,00 €",
        "Bestellungen aufgegeben 61",
        "davon vor Ort 23",
        "Storniert 2",
        "Abgelehnt 1",
        "Origin tresen/demo-tresen/demo",
        "Größe (Einträge) 1187",
        "Root (Base64) pX5C3ZzYj0qzP6sB8e1nUVG8xQmC7m4yYgSpKfkVZxk=",
        "Key-ID d999cf3b",
        "Hash voriger Abschluss 9f2c7a4be1d0c3f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3",
    ):
        assert squashed(expected) in text, expected
    assert pages(pdf) == 1
    assert "Seite" not in text
    assert "Fehlgeschlagene" not in text  # a day without failed refunds has no section of them


@needs_pdftotext
def test_failed_refunds_have_their_own_section_added_back():
    failed = {
        "count": 1,
        "amount": 1177,
        "vat": [{"rate": "7", "gross": 1177, "net": 1100, "tax": 77}],
        "by_method": {"on_site": 0, "online": 1177, "giftcard": 0},
    }
    text = page_text(render_zreport(dict(CLOSING, failed_refunds=failed), STORE))
    for expected in (
        "Summe Rückerstattungen 38,82 € 6,18 € 45,00 €",
        "Fehlgeschlagene Rückerstattungen (zurückgebucht)",
        "Vom Zahlungsdienstleister nicht ausgezahlt 1 11,77 €",
        "davon Online 11,77 €",
        "7 % 11,00 € 0,77 € 11,77 €",
        "Summe zurückgebucht 11,00 € 0,77 € 11,77 €",
        "Entwertungen (Voids) 4 21,00 €",
    ):
        assert squashed(expected) in text, expected


@needs_pdftotext
def test_a_closing_of_zeros_or_of_nothing_renders():
    zero = page_text(render_zreport(zeroed(CLOSING), STORE))
    assert squashed("Summe Umsatz 0,00 € 0,00 € 0,00 €") in zero
    assert squashed("Summe Zahlungen 0,00 €") in zero
    text = page_text(render_zreport({"z_number": 1}, {"name": "Kiosk"}))
    for expected in ("Z-Bericht Nr. 1", "Summe Umsatz 0,00 € 0,00 € 0,00 €", "Rückerstattungen 0 0,00 €"):
        assert squashed(expected) in text, expected
    assert "None" not in text
    assert render_zreport({}, {}).startswith(b"%PDF-")


@needs_pdftotext
def test_a_closing_stored_before_the_tax_was_called_tax_prints_the_same_figures():
    older = copy.deepcopy(CLOSING)
    for row in [older["sales"], *older["vat"], *older["refunds"]["vat"]]:
        row["vat"] = row.pop("tax")
    text = page_text(render_zreport(older, STORE))
    for expected in (
        "7 % 500,00 € 35,00 € 535,00 €",
        "Summe Umsatz 1.080,00 € 154,56 € 1.234,56 €",
        "Summe Rückerstattungen 38,82 € 6,18 € 45,00 €",
    ):
        assert squashed(expected) in text, expected


@needs_pdftotext
def test_other_rates_and_methods_are_listed_too():
    closing = dict(CLOSING, vat=[*CLOSING["vat"], {"rate": "5.5", "gross": 1055, "net": 1000, "tax": 55}])
    closing["payments"] = dict(CLOSING["payments"], voucher_x=700)
    text = page_text(render_zreport(closing, STORE))
    assert squashed("5,5 % 10,00 € 0,55 € 10,55 €") in text
    assert squashed("voucher_x 7,00 €") in text


@needs_pdftotext
def test_long_values_wrap_inside_the_page_and_a_long_report_numbers_its_pages():
    closing = copy.deepcopy(CLOSING)
    closing["vat"] = [
        {"rate": str(rate), "gross": 107 * rate, "net": 100 * rate, "tax": 7 * rate} for rate in range(60)
    ]
    closing["checkpoint"]["origin"] = "tresen/" + "x" * 300
    closing["checkpoint"]["root"] = "QUJD" * 40
    pdf = render_zreport(closing, dict(STORE, name="Gaststätte " * 12))
    for x_min, x_max, word in words(pdf):
        assert x_min >= MARGIN - 1 and x_max <= A4_WIDTH - MARGIN + 1, word
    text, count = page_text(pdf), pages(pdf)
    assert count > 1
    assert all(squashed(f"Seite {page} von {count}") in text for page in range(1, count + 1))
    assert "QUJD" * 40 in text  # wrapped, but all of it


@needs_pdftotext
def test_the_example_fits_the_margins():
    for x_min, x_max, word in words(render_zreport(CLOSING, STORE)):
        assert x_min >= MARGIN - 1 and x_max <= A4_WIDTH - MARGIN + 1, word
