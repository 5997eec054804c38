"""Customer records on the staff side: made, searched, read, changed under If-Match, their consent,
their orders, everything about a person (owner) and erasure (owner) — routes and their models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from ..domain.customer_fields import FIELDS, normalize_email, normalize_phone
from ..domain.customers import CHANNELS, CONSENT_STATES, Address, Consent, Customer
from ..domain.errors import DomainError, FieldError
from ..services import customers
from ..services.customer_ports import CustomerQuery
from ..services.customers import (
    CreateCustomer,
    EditCustomer,
    EraseCustomer,
    Erased,
    ExportCustomer,
    RecordConsent,
    Staff,
)
from ..services.order_views import OrderPage, OrderView, decode_cursor, encode_cursor
from . import models as m
from .present import local_time, order_page_out
from .router import STAFF_ROLES, UNKNOWN, Call, current_uow, route, staff

UNKNOWN["customer"] = "customer_not_found"
DENIED = ("unauthenticated", "forbidden")
PASSKEY = ("passkey_required", "passkey_invalid", "passkey_locked")
STAFF = staff("owner", "supervisor", "staff")
OWNER = staff("owner")
Text = Annotated[str, StringConstraints(max_length=2000)]  # customer_fields checks each field's own limit


class AddressIn(m.Inbound):
    street: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "DE"


class CustomerRecordIn(m.Inbound):
    given_name: Text | None = None
    family_name: Text | None = None
    email: Text | None = Field(None, description="stored lower-cased; unique within the store")
    phone: Text | None = Field(None, description="stored in E.164 (German numbers without +49 are read as such)")
    company: Text | None = None
    birthday: Text | None = Field(None, description="YYYY-MM-DD (or DD.MM.YYYY)")
    note: Text | None = None
    address: AddressIn | None = None


class ConsentIn(m.Inbound):
    channel: Literal[CHANNELS]
    state: Literal[CONSENT_STATES]
    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    wording: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ConsentOut(m.Model):
    channel: str
    state: str
    at: datetime
    source: str
    wording: str
    by: dict[str, Any]


class ChannelOut(m.Model):
    state: Literal["granted", "withdrawn", "never_asked"]
    history: list[ConsentOut] = Field(description="oldest first")


class AddressOut(m.Model):
    street: str | None
    postal_code: str | None
    city: str | None
    country: str


class CustomerRecordOut(m.Model):
    id: str
    store_id: str
    given_name: str | None
    family_name: str | None
    email: str | None
    phone: str | None
    company: str | None
    birthday: date | None
    note: str | None
    address: AddressOut | None
    consents: dict[str, ChannelOut] = Field(description="per channel (email, sms): its state now and its history")
    version: int = Field(description="send it as If-Match to change the record")
    created_at: datetime
    updated_at: datetime


class CustomerList(m.Model):
    data: list[CustomerRecordOut]
    next_cursor: str | None
    has_more: bool


class CustomerSearch(m.Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Annotated[str, StringConstraints(pattern=r"^cus_[A-Za-z0-9]{1,60}$")] | None = None


class RetainedOut(m.Model):
    order_id: str
    until: date
    reason: str


class ErasedOut(m.Model):
    erased: bool
    retained: list[RetainedOut] = Field(description="what tax law keeps of the person, on which order, until when")


class CustomerExport(m.Model):
    customer: CustomerRecordOut
    orders: list[m.OrderOut]


def consent_out(consent: Consent, zone) -> ConsentOut:
    return ConsentOut(**(vars(consent) | {"at": local_time(consent.at, zone)}))


def record_out(customer: Customer) -> CustomerRecordOut:
    store, _ = current_uow().catalog.get(customer.store_id)  # cached: the use case has just read it
    fields, zone = customer.fields, store.zone
    channels = {}
    for channel in CHANNELS:
        history = [consent_out(c, zone) for c in customer.consents if c.channel == channel]
        current = customer.consent(channel)
        channels[channel] = ChannelOut(state=current.state if current else "never_asked", history=history)
    return CustomerRecordOut(
        id=customer.id,
        store_id=customer.store_id,
        **{name: getattr(fields, name) for name in FIELDS},
        address=AddressOut(**vars(customer.address)) if customer.address else None,
        consents=channels,
        version=customer.version,
        created_at=local_time(customer.created_at, zone),
        updated_at=local_time(customer.updated_at, zone),
    )


def staff_of(call: Call) -> Staff:
    return Staff(call.caller.actor(), call.caller.role, call.request.headers.get("X-Passkey"))


def values_of(body: CustomerRecordIn, sent: set[str]) -> dict[str, str | None]:
    return {name: getattr(body, name) for name in FIELDS if name in sent}


def address_of(body: AddressIn | None) -> Address | None:
    return Address(**body.model_dump()) if body else None


def search_query(q: str | None) -> CustomerQuery:
    """An e-mail (it has an @), a phone number (digits, +, spaces), else the prefix of a name."""
    if not q:
        return CustomerQuery("all")
    try:
        if "@" in q:
            return CustomerQuery("email", normalize_email(q))
        if q.lstrip("+").replace(" ", "").replace("/", "").replace("-", "").isdigit():
            return CustomerQuery("phone", normalize_phone(q))
    except ValueError:
        raise DomainError("validation_failed", "Not a valid search.", [FieldError("query.q", "unreadable")]) from None
    return CustomerQuery("name", q.split()[0].casefold()[:20])


@route(
    "POST",
    "/v1/stores/{store}/customers",
    summary="Make a customer record (passkey `customer_data` where the store protects it)",
    tag="staff",
    access=STAFF,
    headers=("X-Passkey",),
    body=CustomerRecordIn,
    response=CustomerRecordOut,
    present=record_out,
    status=201,
    errors=(*DENIED, *PASSKEY, "store_not_found", "validation_failed", "customer_exists"),
)
def create(call: Call) -> Customer:
    body: CustomerRecordIn = call.body
    command = CreateCustomer(
        call.params["store"], values_of(body, set(FIELDS)), address_of(body.address), staff_of(call)
    )
    return customers.create_customer(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/customers",
    summary="Search the store's customers by name prefix, e-mail or phone",
    tag="staff",
    access=STAFF,
    query=CustomerSearch,
    response=CustomerList,
    errors=(*DENIED, "store_not_found", "validation_failed"),
)
def search(call: Call) -> CustomerList:
    q: CustomerSearch = call.query
    found = customers.search_customers(call.uow, call.params["store"], search_query(q.q), q.cursor, q.limit + 1)
    page = found[: q.limit]
    more = len(found) > q.limit
    return CustomerList(data=[record_out(c) for c in page], next_cursor=page[-1].id if more else None, has_more=more)


@route(
    "GET",
    "/v1/stores/{store}/customers/{customer}",
    summary="One customer record, with its consent per channel",
    tag="staff",
    access=STAFF,
    response=CustomerRecordOut,
    present=record_out,
    errors=(*DENIED, "store_not_found", "customer_not_found"),
)
def read(call: Call) -> Customer:
    return customers.read_customer(call.uow, call.params["store"], call.params["customer"])[0]


@route(
    "PATCH",
    "/v1/stores/{store}/customers/{customer}",
    summary="Change fields of a customer record (If-Match: its version; passkey `customer_data` where protected)",
    tag="staff",
    access=STAFF,
    headers=("X-Passkey", "If-Match"),
    body=CustomerRecordIn,
    response=CustomerRecordOut,
    present=record_out,
    errors=(*DENIED, *PASSKEY, "customer_not_found", "validation_failed", "customer_exists", "version_mismatch"),
)
def edit(call: Call) -> Customer:
    body: CustomerRecordIn = call.body
    sent = body.model_fields_set
    command = EditCustomer(
        call.params["store"],
        call.params["customer"],
        values_of(body, sent),
        address_of(body.address) if "address" in sent else False,
        expected_version(call.request.headers.get("If-Match")),
        staff_of(call),
    )
    return customers.edit_customer(command, call.uow)


def expected_version(header: str | None) -> int | None:
    """`If-Match: 3` or `"3"` (an ETag's quotes); none: the change applies to whatever is there."""
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise DomainError("validation_failed", "If-Match is the record's version.", [FieldError("If-Match", value)])
    return int(value)


@route(
    "DELETE",
    "/v1/stores/{store}/customers/{customer}",
    summary="Erase a person (GDPR Art. 17): what tax law keeps is listed",
    tag="staff",
    access=OWNER,
    headers=("X-Passkey",),
    response=ErasedOut,
    present=lambda erased: ErasedOut(erased=True, retained=[RetainedOut(**vars(r)) for r in erased.retained]),
    errors=(*DENIED, *PASSKEY, "customer_not_found"),
)
def erase(call: Call) -> Erased:
    command = EraseCustomer(call.params["store"], call.params["customer"], staff_of(call))
    return customers.erase_customer(command, call.uow)


@route(
    "POST",
    "/v1/stores/{store}/customers/{customer}/consents",
    summary="Record a person's consent to be written to on a channel, or its withdrawal",
    tag="staff",
    access=STAFF,
    body=ConsentIn,
    response=ConsentOut,
    status=201,
    errors=(*DENIED, "customer_not_found", "validation_failed"),
)
def consent(call: Call) -> ConsentOut:
    body: ConsentIn = call.body
    store_id = call.params["store"]
    command = RecordConsent(
        store_id, call.params["customer"], body.channel, body.state, body.source, body.wording, call.caller.actor()
    )
    recorded = customers.record_consent(command, call.uow)
    return consent_out(recorded, call.uow.catalog.get(store_id)[0].zone)


@route(
    "GET",
    "/v1/stores/{store}/customers/{customer}/orders",
    summary="The customer's orders (its e-mail or phone), newest first",
    tag="staff",
    access=staff(*STAFF_ROLES),
    query=m.PageQuery,
    response=m.OrderPage,
    present=order_page_out,
    errors=(*DENIED, "customer_not_found", "validation_failed"),
)
def orders(call: Call) -> OrderPage:
    q: m.PageQuery = call.query
    customer_id = call.params["customer"]
    after = decode_cursor(q.cursor) if q.cursor else None
    found = customers.customer_orders(call.uow, call.params["store"], customer_id, after, q.limit + 1)
    page = found[: q.limit]
    views = [OrderView(order, customer_id=customer_id) for order in page]
    return OrderPage(views, encode_cursor(page[-1]) if len(found) > q.limit else None)


@route(
    "GET",
    "/v1/stores/{store}/customers/{customer}/export",
    summary="Everything held about the person (GDPR Art. 15/20): record, consent history, orders",
    tag="staff",
    access=OWNER,
    headers=("X-Passkey",),
    response=CustomerExport,
    errors=(*DENIED, *PASSKEY, "customer_not_found"),
)
def export(call: Call) -> CustomerExport:
    command = ExportCustomer(call.params["store"], call.params["customer"], staff_of(call))
    customer, found = customers.export_customer(command, call.uow)
    page = order_page_out(OrderPage([OrderView(order, customer_id=customer.id) for order in found], None))
    return CustomerExport(customer=record_out(customer), orders=page.data)
