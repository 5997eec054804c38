"""A store's customers: their record, their consent to be written to, and what erasing one leaves.

E-mail and phone are each unique within a store; they are claimed under keyed pseudonyms (the
store's key, as in the journal), so no document id spells out a person. Consent is a history per
channel: the current state is the newest entry, and a channel never asked about has none — "never
asked" is not "withdrawn".

Erasure (GDPR Art. 17) removes the record, its consents and the person's name, e-mail and phone from
their orders — except what tax law makes the merchant keep: the recipient's name on an invoice over
250 € gross (§ 14 (4) UStG; below that, a small-amount invoice needs none, § 33 UStDV), kept as long
as invoices are (8 years after the year of the invoice, § 147 (3) AO).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from .contacts import contact_key
from .customer_fields import FIELDS, CustomerFields

CHANNELS = ("email", "sms")
CONSENT_STATES = ("granted", "withdrawn")
SMALL_INVOICE_LIMIT = 25_000  # cents, gross: up to this an invoice needs no recipient's name
INVOICE_RETENTION_YEARS = 8
RETENTION_REASON = (
    "the recipient's name on an invoice over 250 EUR (§ 14 (4) UStG), kept 8 years after the year of the invoice "
    "(§ 147 (3) AO)"
)


@dataclass(frozen=True)
class Address:
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str = "DE"


@dataclass(frozen=True)
class Consent:
    """One statement of a person's consent to be written to on a channel, as it was recorded."""

    channel: str  # email | sms
    state: str  # granted | withdrawn
    at: datetime
    source: str  # where it was given: "counter", "ordering page", "import", …
    wording: str  # what the person was shown
    by: dict[str, Any]  # who recorded it (the journal's actor)


@dataclass(frozen=True)
class Customer:
    id: str
    store_id: str
    fields: CustomerFields
    address: Address | None
    consents: tuple[Consent, ...]  # oldest first
    version: int
    created_at: datetime
    updated_at: datetime

    def consent(self, channel: str) -> Consent | None:
        """The current state of a channel: its newest statement, or None if never asked."""
        return next((c for c in reversed(self.consents) if c.channel == channel), None)

    @property
    def contacts(self) -> tuple[str, ...]:
        """The e-mail and phone that identify the person within the store (normalised)."""
        return tuple(value for value in (self.fields.email, self.fields.phone) if value)


def edited(customer: Customer, fields: CustomerFields, address: Address | None, now: datetime) -> Customer | None:
    """The record with new fields, the next version; None if nothing changes (a retried PATCH)."""
    if fields == customer.fields and address == customer.address:
        return None
    return replace(customer, fields=fields, address=address, version=customer.version + 1, updated_at=now)


def with_consent(customer: Customer, consent: Consent) -> Customer:
    return replace(
        customer, consents=(*customer.consents, consent), version=customer.version + 1, updated_at=consent.at
    )


def imported(customer: Customer | None, fields: CustomerFields) -> CustomerFields:
    """A row's fields over an existing record: a cell left empty in the file keeps what is there, so
    a shop's list without phone numbers does not erase the ones staff typed in."""
    if customer is None:
        return fields
    kept = {
        name: getattr(fields, name) if getattr(fields, name) is not None else getattr(customer.fields, name)
        for name in FIELDS
    }
    return replace(customer.fields, **kept)


def record_contact_keys(pii_key: bytes, fields: CustomerFields) -> tuple[str, ...]:
    """The keys a record claims in its store: its e-mail and its phone, each unique there."""
    pairs = (("email", fields.email), ("phone", fields.phone))
    return tuple(contact_key(pii_key, kind, value) for kind, value in pairs if value)


@dataclass(frozen=True)
class Retained:
    """What of an erased person an order keeps, until when, and why."""

    order_id: str
    until: date
    reason: str


def retention(order_id: str, invoice_number: str | None, total: int, invoice_year: int) -> Retained | None:
    """Whether the law makes the merchant keep the person's name on this order's invoice."""
    if invoice_number is None or total <= SMALL_INVOICE_LIMIT:
        return None
    return Retained(order_id, date(invoice_year + INVOICE_RETENTION_YEARS, 12, 31), RETENTION_REASON)


@dataclass(frozen=True)
class ImportDecision:
    """What one row of an imported list does: `create`, `update`, `unchanged`, or `error` (`reason`)."""

    kind: str
    customer: Customer | None = None  # the record after the row
    before: Customer | None = None  # the record before it (an update)
    reason: str | None = None


def import_decision(
    row_fields: CustomerFields, matched: list[Customer], new_customer: Customer, consent: Consent | None
) -> ImportDecision:
    """A row against the records its e-mail, then its phone, belong to (in that order, at most one
    each): a new record, the matched one with the row's fields over it, or the reason it cannot be."""
    if len({customer.id for customer in matched}) > 1:
        return ImportDecision("error", reason="the e-mail and the phone belong to two different customers")
    existing = matched[0] if matched else None
    fields = imported(existing, row_fields)
    if existing is None:
        created = replace(new_customer, fields=fields)
        return ImportDecision("create", with_consent(created, consent) if consent else created)
    changed = edited(existing, fields, existing.address, new_customer.updated_at)
    current = existing.consent(consent.channel) if consent else None
    if consent and (current is None or current.state != consent.state):
        changed = with_consent(changed or existing, consent)
    return ImportDecision("update", changed, existing) if changed else ImportDecision("unchanged", existing)
