"""Licence invoices: each plan's net, VAT and gross to the cent, VAT rounded half up once, the month
billed across year ends, the number series, and which invoices need an e-invoice.

The platform, the merchants and `invoice_for` are shared with test_licence_invoice_pdf.py and
test_einvoice.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tresen.domain.licence_invoices import (
    EINVOICE_ABOVE,
    PLANS,
    LicenceInvoice,
    Party,
    Period,
    invoice_number,
    issue_licence_invoice,
    needs_einvoice,
    parse_invoice_number,
    vat_of,
)

PLATFORM = Party(
    name="Tresen Plattform GmbH",
    street="Torstraße 109",
    postal_code="10119",
    city="Berlin",
    tax_number="37/123/45678",
    vat_id="DE312345678",
    email="rechnungen@tresen.example",
)
CAFE = Party(
    name="Café Lindner GmbH",
    street="Bahnhofstraße 1",
    postal_code="60311",
    city="Frankfurt am Main",
    vat_id="DE298765432",
)
KIOSK = Party(name="Kiosk am Markt", street="Marktplatz 3", postal_code="04109", city="Leipzig")


def invoice_for(plan_id: str, recipient: Party = CAFE, issuer: Party = PLATFORM, **changes) -> LicenceInvoice:
    """December 2026's licence, issued on 2 January 2027 as the year's 17th invoice (unless `changes`
    say otherwise)."""
    terms = {
        "number": invoice_number(2027, 17),
        "store_id": "cafe-lindner",
        "issued_on": date(2027, 1, 2),
        "period": Period(2026, 12),
        "plan": PLANS[plan_id],
        "issuer": issuer,
        "recipient": recipient,
    }
    return issue_licence_invoice(**(terms | changes))


# -- Amounts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "name", "net", "vat", "gross"),
    [
        ("starter", "Tresen Starter", 2900, 551, 3451),
        ("business", "Tresen Business", 7900, 1501, 9401),  # 15.01
        ("enterprise", "Tresen Enterprise", 24900, 4731, 29631),  # 47.31
    ],
)
def test_each_plan_bills_its_monthly_net_with_19_percent_vat(plan, name, net, vat, gross):
    invoice = invoice_for(plan)
    assert (invoice.plan.name, invoice.net, invoice.vat_rate, invoice.vat, invoice.gross) == (name, net, 19, vat, gross)
    assert invoice.currency == "EUR"
    assert invoice.service == f"Lizenz {name}, Dezember 2026"


def test_vat_is_rounded_half_up_to_the_cent():
    assert vat_of(50) == 10  # 9.5 → 10
    assert vat_of(150) == 29  # 28.5 → 29
    assert vat_of(2) == 0  # 0.38 → 0
    assert vat_of(3) == 1  # 0.57 → 1
    assert vat_of(0) == 0
    assert vat_of(7900) == 1501


@given(st.integers(0, 10**7))
def test_gross_is_net_plus_vat_and_vat_is_19_percent_rounded_half_up_once(net):
    invoice = invoice_for("business", plan=replace(PLANS["business"], monthly_net=net))
    exact = Decimal(net) * Decimal("0.19")
    assert invoice.vat == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert invoice.gross == invoice.net + invoice.vat
    assert invoice.net == net


# -- The month billed and the dates ---------------------------------------------------------------


def test_december_is_billed_in_january_of_the_next_year():
    issued_on = date(2027, 1, 2)
    period = Period.of(issued_on).previous()
    assert period == Period(2026, 12)
    assert (period.first_day, period.last_day, period.label, period.in_words) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
        "2026-12",
        "Dezember 2026",
    )
    invoice = invoice_for("business")
    assert (invoice.period, invoice.issued_on, invoice.due_on) == (period, issued_on, date(2027, 1, 16))
    assert invoice.payment_terms == "Zahlbar ohne Abzug bis zum 16.01.2027."


def test_a_period_is_a_calendar_month():
    assert Period(2028, 2).last_day == date(2028, 2, 29)  # a leap year
    assert Period(2027, 2).last_day == date(2027, 2, 28)
    assert Period(2026, 11).last_day == date(2026, 11, 30)
    assert Period(2026, 11).previous() == Period(2026, 10)
    assert Period.of(date(2026, 3, 31)) == Period(2026, 3)
    with pytest.raises(ValueError):
        Period(2026, 13)


def test_the_payment_days_set_the_due_date():
    invoice = invoice_for("starter", issued_on=date(2026, 12, 20), period=Period(2026, 11), payment_days=30)
    assert invoice.due_on == date(2027, 1, 19)
    with pytest.raises(ValueError):
        invoice_for("starter", payment_days=-1)


# -- Numbers ------------------------------------------------------------------------------------------


def test_invoice_numbers_are_the_platform_series():
    assert invoice_number(2026, 1) == "TRESEN-2026-000001"
    assert invoice_number(2027, 999_999) == "TRESEN-2027-999999"
    assert parse_invoice_number("TRESEN-2026-000042") == (2026, 42)
    assert parse_invoice_number(invoice_number(2031, 123_456)) == (2031, 123_456)


@pytest.mark.parametrize("number", ["TRESEN-2026-42", "TRESEN-2026-000000", "DEMO-2026-000001", "TRESEN-2026-0000001"])
def test_other_numbers_are_refused(number):
    with pytest.raises(ValueError):
        parse_invoice_number(number)


@pytest.mark.parametrize(("year", "n"), [(2026, 0), (2026, 1_000_000), (999, 1)])
def test_a_number_outside_the_series_cannot_be_made(year, n):
    with pytest.raises(ValueError):
        invoice_number(year, n)


def test_an_invoice_needs_a_number_of_the_series():
    with pytest.raises(ValueError):
        invoice_for("starter", number="2026-17")


# -- The issuer's tax numbers -----------------------------------------------------------------------


def test_the_issuer_needs_a_tax_number_or_a_vat_id():
    with pytest.raises(ValueError, match="Steuernummer"):
        invoice_for("starter", issuer=replace(PLATFORM, tax_number=None, vat_id=None))
    assert invoice_for("starter", issuer=replace(PLATFORM, vat_id=None)).issuer.tax_number == "37/123/45678"
    assert invoice_for("starter", issuer=replace(PLATFORM, tax_number=None)).issuer.vat_id == "DE312345678"


# -- E-invoices -----------------------------------------------------------------------------------------


def test_an_einvoice_is_needed_above_250_euros_gross():
    assert EINVOICE_ABOVE == 25000
    assert [needs_einvoice(invoice_for(plan)) for plan in PLANS] == [False, False, True]
    business = invoice_for("business")
    assert needs_einvoice(replace(business, gross=25000)) is False
    assert needs_einvoice(replace(business, gross=25001)) is True
