"""A store's customer records: made, found, changed under optimistic versions, their consent recorded,
everything about a person handed out (GDPR Art. 15/20), and a person erased (Art. 17).

E-mail and phone are claimed create-only with the record (domain/customers.py), so of twenty
concurrent creates with one e-mail exactly one succeeds and the others learn who holds it. Every
change is journaled with pseudonyms only; the records themselves may be erased, the journal never
held them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..domain.customer_fields import FIELDS, CustomerFields, customer_fields
from ..domain.customers import (
    Address,
    Consent,
    Customer,
    Retained,
    edited,
    record_contact_keys,
    retention,
    with_consent,
)
from ..domain.errors import DomainError, FieldError
from ..domain.events import CustomerConsentRecorded, CustomerCreated, CustomerErased, CustomerUpdated
from ..domain.journal import JournalEvent
from ..domain.orders import Customer as OrderCustomer
from ..domain.orders import Order
from .customer_ports import CustomerQuery
from .documents import Conflict
from .order_ports import OrderCursor, OrderUnitOfWork, Version, catalog_or_404
from .passkeys import approved_actor
from .unit_of_work import AlreadyWritten, Claims, Plan, RetryLater, Writes

PROTECTED = "customer_data"  # the passkey action of creating, changing, erasing and importing
ERASED_NAME = "(gelöscht)"  # what an erased person's order says instead of their name
ERASE_BATCH = 200  # orders scrubbed per commit


@dataclass(frozen=True)
class Staff:
    """Who acts, and the passkey they offered."""

    actor: Mapping[str, Any]
    role: str
    passkey: str | None = None


@dataclass(frozen=True)
class CreateCustomer:
    store_id: str
    values: Mapping[str, str | None]  # the record's fields as sent (customer_fields checks them)
    address: Address | None
    staff: Staff


@dataclass(frozen=True)
class EditCustomer:
    store_id: str
    customer_id: str
    values: Mapping[str, str | None]  # only the fields to change (None: clear it)
    address: Address | None | bool  # False: leave it as it is
    expected_version: int | None  # If-Match; None: whatever the record is now
    staff: Staff


@dataclass(frozen=True)
class RecordConsent:
    store_id: str
    customer_id: str
    channel: str
    state: str
    source: str
    wording: str
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class ExportCustomer:
    store_id: str
    customer_id: str
    staff: Staff


@dataclass(frozen=True)
class EraseCustomer:
    store_id: str
    customer_id: str
    staff: Staff


@dataclass(frozen=True)
class Erased:
    customer_id: str
    retained: tuple[Retained, ...]


def checked(values: Mapping[str, str | None]) -> CustomerFields:
    fields, problems = customer_fields(values)
    if problems:
        raise DomainError(
            "validation_failed", "Some fields are invalid.", [FieldError(name, message) for name, message in problems]
        )
    return fields


def exists(customer_id: str) -> DomainError:
    return DomainError(
        "customer_exists",
        "A customer of this store already has this e-mail address or phone number.",
        extra={"existing_id": customer_id},
    )


def create_customer(command: CreateCustomer, uow: OrderUnitOfWork) -> Customer:
    store, _ = catalog_or_404(uow, command.store_id)
    actor = approved_actor(uow, store.id, PROTECTED, command.staff.actor, command.staff.role, command.staff.passkey)
    fields = checked(command.values)
    pii_key = uow.stores.pii_key(store.id)
    keys = record_contact_keys(pii_key, fields)
    if held := uow.customers.holders(store.id, keys):
        raise exists(next(iter(held.values())))
    now = uow.now()
    customer = Customer(uow.new_id("cus_"), store.id, fields, command.address, (), 1, now, now)

    def build(_claims: Claims) -> Plan[Customer]:
        writes = Writes(actor)
        writes.new_customer(customer, keys)
        pseudonyms = dict(key.split(":", 1) for key in keys)  # `email:…`, `phone:…`
        created = CustomerCreated(customer_id=customer.id, email=pseudonyms.get("email"), phone=pseudonyms.get("phone"))
        return Plan(customer, now, actor, [JournalEvent.of(created)], writes)

    try:
        return uow.commit(store.id, build).result
    except AlreadyWritten:  # another record claimed one of the contacts meanwhile
        held = uow.customers.holders(store.id, keys)
        raise exists(next(iter(held.values()), "")) from None


def read_customer(uow: OrderUnitOfWork, store_id: str, customer_id: str) -> tuple[Customer, Version]:
    catalog_or_404(uow, store_id)
    found = uow.customers.read(store_id, customer_id)
    if found is None:
        raise DomainError("customer_not_found", f"Store {store_id} has no customer {customer_id!r}.")
    return found


def search_customers(
    uow: OrderUnitOfWork, store_id: str, query: CustomerQuery, after: str | None, limit: int
) -> list[Customer]:
    catalog_or_404(uow, store_id)
    return uow.customers.search(store_id, query, after, limit)


def edit_customer(command: EditCustomer, uow: OrderUnitOfWork) -> Customer:
    """The changed record, the next version; `version_mismatch` if it is not the version expected.
    A change that changes nothing answers the record as it is and journals nothing."""
    store, _ = catalog_or_404(uow, command.store_id)
    actor = approved_actor(uow, store.id, PROTECTED, command.staff.actor, command.staff.role, command.staff.passkey)
    pii_key = uow.stores.pii_key(store.id)
    now = uow.now()
    claimed: list[str] = []  # the contacts the last attempt took: on a clash, who holds them

    def build(_claims: Claims) -> Plan[Customer]:
        current, read_at = read_customer(uow, store.id, command.customer_id)
        if command.expected_version is not None and command.expected_version != current.version:
            raise DomainError("version_mismatch", f"The record is at version {current.version}.")
        values = {name: command.values.get(name, value_of(current.fields, name)) for name in FIELDS}
        address = current.address if command.address is False else command.address
        changed = edited(current, checked(values), address, now)
        writes = Writes(actor)
        if changed is None:
            return Plan(current, now, actor, [], writes)
        before, after = set(record_contact_keys(pii_key, current.fields)), record_contact_keys(pii_key, changed.fields)
        claimed[:] = [key for key in after if key not in before]
        writes.customer(changed, read_at, tuple(claimed), tuple(before - set(after)))
        names = [name for name in FIELDS if getattr(current.fields, name) != getattr(changed.fields, name)]
        names += ["address"] if current.address != changed.address else []
        updated = CustomerUpdated(customer_id=changed.id, fields=names, version=changed.version)
        return Plan(changed, now, actor, [JournalEvent.of(updated)], writes)

    try:
        return uow.commit(store.id, build).result
    except AlreadyWritten:
        held = uow.customers.holders(store.id, claimed)
        raise exists(next(iter(held.values()), "")) from None


def value_of(fields: CustomerFields, name: str) -> str | None:
    """A field as it would be sent again (a birthday as its ISO date)."""
    value = getattr(fields, name)
    return value.isoformat() if name == "birthday" and value else value


def record_consent(command: RecordConsent, uow: OrderUnitOfWork) -> Consent:
    store, _ = catalog_or_404(uow, command.store_id)
    now = uow.now()
    consent = Consent(command.channel, command.state, now, command.source, command.wording, dict(command.actor))

    def build(_claims: Claims) -> Plan[Consent]:
        current, read_at = read_customer(uow, store.id, command.customer_id)
        writes = Writes(command.actor)
        writes.customer(with_consent(current, consent), read_at, (), ())
        recorded = CustomerConsentRecorded(
            customer_id=current.id, channel=consent.channel, state=consent.state, source=consent.source
        )
        return Plan(consent, now, command.actor, [JournalEvent.of(recorded)], writes)

    return uow.commit(store.id, build).result


def customer_orders(
    uow: OrderUnitOfWork, store_id: str, customer_id: str, after: OrderCursor | None, limit: int
) -> list[Order]:
    customer, _ = read_customer(uow, store_id, customer_id)
    keys = record_contact_keys(uow.stores.pii_key(store_id), customer.fields)
    return [order for order, _ in uow.orders.of_contacts(store_id, keys, after, limit)]


def export_customer(command: ExportCustomer, uow: OrderUnitOfWork) -> tuple[Customer, list[Order]]:
    """Everything held about the person: the record with its consent history, and their orders."""
    store_id, staff = command.store_id, command.staff
    catalog_or_404(uow, store_id)
    approved_actor(uow, store_id, PROTECTED, staff.actor, staff.role, staff.passkey)
    customer, _ = read_customer(uow, store_id, command.customer_id)
    keys = record_contact_keys(uow.stores.pii_key(store_id), customer.fields)
    orders, after = [], None
    while page := uow.orders.of_contacts(store_id, keys, after, ERASE_BATCH):
        orders += [order for order, _ in page]
        after = OrderCursor(page[-1][0].created_at, page[-1][0].id)
    return customer, orders


def erase_customer(command: EraseCustomer, uow: OrderUnitOfWork) -> Erased:
    """The record, its consents and its claims go; the person's name, e-mail and phone leave their
    orders — but for a name tax law keeps on an invoice. Orders first, batch by batch (a retry finds
    the ones done unlinked already), the record last, with its journal entry."""
    store, staff = catalog_or_404(uow, command.store_id)[0], command.staff
    actor = approved_actor(uow, store.id, PROTECTED, staff.actor, staff.role, staff.passkey)
    customer, _ = read_customer(uow, store.id, command.customer_id)
    keys = record_contact_keys(uow.stores.pii_key(store.id), customer.fields)
    now = uow.now()
    scrubbed: list[str] = []
    retained: list[Retained] = []
    while page := uow.orders.of_contacts(store.id, keys, None, ERASE_BATCH):
        writes = Writes(actor)
        for order, read_at in page:
            kept = retention(order.id, order.invoice_number, order.totals.total, order.created_at.year)
            writes.order(scrubbed_order(order, kept, now), read_at)
            scrubbed.append(order.id)
            retained += [kept] if kept else []
        try:
            uow.commit_writes(writes)
        except Conflict:  # an order changed meanwhile: the client retries, the done ones stay done
            raise RetryLater("an order of the person changed meanwhile") from None

    def build(_claims: Claims) -> Plan[Erased]:
        writes = Writes(actor)
        writes.customer_erased(customer, keys)
        erased = CustomerErased(customer_id=customer.id, orders=len(scrubbed), retained=len(retained))
        return Plan(Erased(customer.id, tuple(retained)), now, actor, [JournalEvent.of(erased)], writes)

    return uow.commit(store.id, build).result


def scrubbed_order(order: Order, kept: Retained | None, now: datetime) -> Order:
    """The order without the person: no e-mail, no phone, no link; the name only where kept."""
    name = order.customer.name if kept else ERASED_NAME
    return replace(order, customer=OrderCustomer(name=name, email="", phone=None), contact_keys=(), updated_at=now)
