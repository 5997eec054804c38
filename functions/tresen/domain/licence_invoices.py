"""Licence invoices: what the platform bills a store each month for its plan, as §14 (4) UStG wants it.

An invoice is a value: the platform (issuer) bills the merchant (recipient) one month of one plan,
net in integer cents, VAT at 19 % rounded half up once on the net, gross = net + VAT. Its number is
from the platform's gap-free series `TRESEN-YYYY-NNNNNN`, claimed elsewhere; here it is only
formatted and read. Gross amounts over EINVOICE_ABOVE need an EN 16931 e-invoice besides the PDF
(a Kleinbetragsrechnung up to 250 € does not): `einvoice.py` builds it, `licence_invoice_pdf.py`
draws the page.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

VAT_RATE = 19  # percent: software licences are standard rated
EINVOICE_ABOVE = 25000  # cents gross: up to this, a Kleinbetragsrechnung needs no e-invoice
NUMBER = re.compile(r"TRESEN-(?P<year>\d{4})-(?P<n>\d{6})")
MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    monthly_net: int  # cents


PLANS: dict[str, Plan] = {
    plan.id: plan
    for plan in (
        Plan("starter", "Tresen Starter", 2900),
        Plan("business", "Tresen Business", 7900),
        Plan("enterprise", "Tresen Enterprise", 24900),
    )
}


@dataclass(frozen=True)
class Party:
    """Who issues or receives an invoice, with the full address §14 asks for; `country` is ISO 3166-1
    alpha-2, `vat_id` the USt-IdNr. with its country prefix ("DE123456789")."""

    name: str
    street: str
    postal_code: str
    city: str
    country: str = "DE"
    tax_number: str | None = None
    vat_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Period:
    """A calendar month billed: the Leistungszeitraum."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"no month {self.month}")

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def label(self) -> str:
        """The month as "2026-11"."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def in_words(self) -> str:
        """The month as a German reads it: "November 2026"."""
        return f"{MONTHS[self.month - 1]} {self.year}"

    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)


@dataclass(frozen=True)
class LicenceInvoice:
    number: str
    store_id: str
    issued_on: date
    due_on: date
    period: Period
    plan: Plan
    issuer: Party
    recipient: Party
    net: int  # cents
    vat_rate: int  # percent
    vat: int  # cents
    gross: int  # cents
    currency: str = "EUR"

    @property
    def service(self) -> str:
        """The kind of service, as the invoice line names it: "Lizenz Tresen Business, November 2026"."""
        return f"Lizenz {self.plan.name}, {self.period.in_words}"

    @property
    def payment_terms(self) -> str:
        return f"Zahlbar ohne Abzug bis zum {german_date(self.due_on)}."


def invoice_number(year: int, n: int) -> str:
    """The n-th invoice of `year` in the platform's series: `invoice_number(2026, 42) == "TRESEN-2026-000042"`."""
    if not 1000 <= year <= 9999 or not 1 <= n <= 999_999:
        raise ValueError(f"no invoice number for year {year}, n {n}")
    return f"TRESEN-{year:04d}-{n:06d}"


def parse_invoice_number(number: str) -> tuple[int, int]:
    """The year and n of an invoice number; ValueError if it is not one of the series."""
    match = NUMBER.fullmatch(number)
    if match is None or int(match["n"]) == 0:
        raise ValueError(f"not an invoice number of the series: {number!r}")
    return int(match["year"]), int(match["n"])


def vat_of(net: int) -> int:
    """19 % of `net` cents, rounded half up to the cent (integers only, no floats)."""
    return (net * VAT_RATE * 2 + 100) // 200


def issue_licence_invoice(
    *,
    number: str,
    store_id: str,
    issued_on: date,
    period: Period,
    plan: Plan,
    issuer: Party,
    recipient: Party,
    payment_days: int = 14,
) -> LicenceInvoice:
    """The invoice for one month of `plan`, due `payment_days` after it is issued.

    ValueError if the number is not of the series, if the issuer has neither a tax number nor a VAT
    id (an invoice without either does not entitle the recipient to deduct the VAT), or if the
    invoice needs an e-invoice and the issuer has no VAT id (EN 16931 identifies a seller by it;
    a tax number alone breaks rule BR-CO-26)."""
    parse_invoice_number(number)
    if not (issuer.tax_number or issuer.vat_id):
        raise ValueError("the issuer needs a tax number (Steuernummer) or a VAT id (USt-IdNr.)")
    if payment_days < 0:
        raise ValueError(f"payment_days must not be negative, not {payment_days}")
    vat = vat_of(plan.monthly_net)
    invoice = LicenceInvoice(
        number=number,
        store_id=store_id,
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=payment_days),
        period=period,
        plan=plan,
        issuer=issuer,
        recipient=recipient,
        net=plan.monthly_net,
        vat_rate=VAT_RATE,
        vat=vat,
        gross=plan.monthly_net + vat,
    )
    if needs_einvoice(invoice) and not issuer.vat_id:
        raise ValueError(f"an e-invoice of {invoice.gross} cents gross needs the issuer's VAT id (USt-IdNr.)")
    return invoice


def needs_einvoice(invoice: LicenceInvoice) -> bool:
    return invoice.gross > EINVOICE_ABOVE


def german_date(day: date) -> str:
    """A day as a German reads it: "01.12.2026"."""
    return f"{day:%d.%m.%Y}"
