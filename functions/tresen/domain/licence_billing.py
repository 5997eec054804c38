"""Where a licence invoice's payment stands: open, paid, overdue; the saved card's tries.

An invoice is charged to the store's saved card (off-session) by the first monthly run after it is
issued, or after a card is saved. A failed charge (the bank wants the owner present, or declines)
leaves it open; the card is tried again on days 3, 5 and 7 after the invoice was issued, and then no
more: the owner pays through the portal. Past its due date an open invoice is overdue. Billing never
stops a store taking orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from .licence_invoices import LicenceInvoice, Party, Period

RETRY_DAYS = (3, 5, 7)  # after the invoice was issued, once the first charge failed
PAY_METHODS = ("card", "paypal")
MANDATE_VERSION = "2026-12"
MANDATE_TEXT = (
    "Ich ermächtige die Betreiberin von Tresen, die monatlichen Lizenzgebühren meines Geschäfts von "
    "dieser Karte einzuziehen, bis ich die Karte im Kundenportal entferne oder ersetze. Jede Belastung "
    "wird mir vorher per Rechnung mitgeteilt."
)


def invoice_id(store_id: str, period: Period) -> str:
    """One invoice per store and month: its id says which, so issuing twice finds the first."""
    return f"li-{period.year:04d}{period.month:02d}-{store_id}"


@dataclass(frozen=True)
class SavedCard:
    """The card a store's licence fees are charged to, with the mandate its owner agreed to."""

    customer_id: str
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    accepted_by: str
    accepted_at: datetime
    mandate_version: str = MANDATE_VERSION


@dataclass(frozen=True)
class InvoiceAccount:
    """An issued invoice and its payment."""

    id: str
    invoice: LicenceInvoice
    status: str = "open"  # open | paid
    paid_at: datetime | None = None
    paid_with: str | None = None  # card | card_on_file | paypal
    payment_reference: str | None = None
    charge_attempts: int = 0
    next_charge_on: date | None = None  # None after the last failed try
    checkouts: dict[str, dict] = field(default_factory=dict)  # method → the open checkout {id, url, expires_at}
    pdf_sha256: str = ""

    def status_on(self, day: date) -> str:
        if self.status == "open" and day > self.invoice.due_on:
            return "overdue"
        return self.status

    def charge_due(self, day: date) -> bool:
        """Whether the saved card (if any) is to be charged on `day`."""
        if self.status != "open":
            return False
        if self.charge_attempts == 0:
            return True
        return self.next_charge_on is not None and self.next_charge_on <= day

    def paid_by(self, method: str, reference: str, at: datetime) -> InvoiceAccount:
        return replace(self, status="paid", paid_at=at, paid_with=method, payment_reference=reference, checkouts={})

    def charge_failed(self) -> InvoiceAccount:
        """One more failed try of the saved card, and the day of the next (None: no more)."""
        attempts = self.charge_attempts + 1
        retry = RETRY_DAYS[attempts - 1] if attempts <= len(RETRY_DAYS) else None
        next_on = self.invoice.issued_on + timedelta(days=retry) if retry is not None else None
        return replace(self, charge_attempts=attempts, next_charge_on=next_on)

    def with_checkout(self, method: str, checkout: dict) -> InvoiceAccount:
        return replace(self, checkouts=self.checkouts | {method: checkout})


@dataclass(frozen=True)
class BillingProfile:
    """Whom the platform bills for a store, for which plan, and how it is paid."""

    store_id: str
    plan: str
    recipient: Party
    billing_email: str
    stripe_customer: str | None = None
    card: SavedCard | None = None
    # a card being saved through Checkout: {session_id, accepted_by, accepted_at} of the mandate agreed
    card_setup: dict | None = None
