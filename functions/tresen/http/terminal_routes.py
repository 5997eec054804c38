"""Workplaces, card terminals and shifts; a card payment at the terminal cancelled or asked after;
the sandbox's simulated reader — routes and their models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from werkzeug.wrappers import Response

from ..config import settings
from ..domain.terminals import CARD_BRANDS, TERMINAL_PROVIDERS, CardTotals, Shift, Terminal, TerminalCheck
from ..domain.terminals import TerminalRegistration as Registration
from ..services import order_views, shifts, terminals
from ..services.card_present import (
    PaymentAction,
    PresentCard,
    cancel_card_payment,
    present_card,
    refresh_card_payment,
    switch_reader,
)
from ..services.cash_register import CashRegisterReport, cash_register_report
from ..services.shifts import CloseShift, OpenShift, ShiftQuery
from ..services.terminals import CreateWorkplace, RegisterTerminal, TerminalAction, WorkplaceView
from . import models as m
from . import present
from .present import local_time
from .problems import ApiProblem
from .router import STAFF_ROLES, UNKNOWN, Call, current_uow, route, staff

UNKNOWN.update(workplace="workplace_not_found", terminal="terminal_not_found", shift="shift_not_found")
DENIED = ("unauthenticated", "forbidden")
OWNER = staff("owner")
SUPERVISORS = staff("owner", "supervisor")
STAFF = staff("owner", "supervisor", "staff")
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
DeviceText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class WorkplaceIn(m.Inbound):
    name: Name = Field(description="what staff call the till, e.g. Tresen 1")


class TerminalIn(m.Inbound):
    provider: Literal[TERMINAL_PROVIDERS] = Field(description="stripe_terminal, or sandbox (dev)")
    model: DeviceText = Field(description="the device's model, e.g. BBPOS WisePOS E")
    serial_number: DeviceText
    terminal_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None = Field(
        None, description="the terminal id (TID) the acquiring bank gave it"
    )
    registration_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = Field(
        None, description="stripe_terminal: the pairing code the reader shows"
    )


class CheckOut(m.Outbound):
    status: Literal["online", "offline"]
    checked_at: datetime
    detail: str


class TerminalOut(m.Outbound):
    id: str
    workplace_id: str
    provider: str
    model: str
    serial_number: str
    terminal_id: str | None = Field(description="the bank's terminal id (TID), as registered")
    reader_id: str = Field(description="the provider's id of the reader")
    status: Literal["online", "offline", "removed"] = Field(description="as last checked; removed once taken out")
    registered_at: datetime
    removed_at: datetime | None
    last_check: CheckOut | None


class WorkplaceOut(m.Outbound):
    id: str
    name: str
    open_shift_id: str | None = Field(description="the shift open on it now")
    terminals: list[TerminalOut]
    created_at: datetime


class WorkplaceList(m.Outbound):
    data: list[WorkplaceOut]


class BrandOut(m.Outbound):
    count: int
    amount: int


class CardTotalsOut(m.Outbound):
    count: int
    amount: int
    by_brand: dict[str, BrandOut]


class MismatchOut(m.Outbound):
    kind: Literal["provider_only", "tresen_only", "amount"]
    amount: int = Field(description="the provider's amount (tresen_only: Tresen's)")
    provider_ref: str | None = None
    order_id: str | None = None
    tresen_amount: int | None = Field(None, description="amount: what Tresen holds")


class TerminalReconciliationOut(m.Outbound):
    terminal_id: str
    provider: CardTotalsOut = Field(description="the card payments the provider took on it during the shift")
    tresen: CardTotalsOut = Field(description="the card payments Tresen booked on it during the shift")
    matched: bool
    mismatches: list[MismatchOut]


class ShiftOut(m.Outbound):
    id: str
    workplace_id: str
    status: Literal["open", "closed"]
    opened_at: datetime
    opened_by: str = Field(description="the user id (or API key) that opened it")
    closed_at: datetime | None = None
    closed_by: str | None = None
    matched: bool | None = Field(None, description="closed: every terminal's totals matched")
    terminals: list[TerminalReconciliationOut] = Field(default_factory=list, description="closed: per terminal")


class ShiftList(m.Outbound):
    data: list[ShiftOut]


class ShiftsQuery(m.Model):
    limit: int = Field(20, ge=1, le=100)


class PresentIn(m.Inbound):
    brand: Literal[CARD_BRANDS] = "visa"
    outcome: Literal["approve", "decline"] = "approve"
    amount: m.Cents | None = Field(
        None, description="with no payment pending: a sale typed on the terminal itself, which Tresen never hears of"
    )
    webhook: bool = Field(True, description="false: the reader's answer is lost on its way to Tresen")


class PresentedOut(m.Outbound):
    terminal_id: str
    payment_id: str
    status: Literal["succeeded", "failed"]
    brand: str
    amount: int


class ConnectionIn(m.Inbound):
    online: bool


def zone_of(store_id: str):
    return current_uow().catalog.get(store_id)[0].zone  # cached: the use case has just read the store


def check_out(check: TerminalCheck | None, zone) -> CheckOut | None:
    if check is None:
        return None
    return CheckOut(status=check.status, checked_at=local_time(check.checked_at, zone), detail=check.detail)


def terminal_out(terminal: Terminal) -> TerminalOut:
    zone = zone_of(terminal.store_id)
    status = "removed" if terminal.removed_at else terminal.last_check.status if terminal.last_check else "offline"
    return TerminalOut(
        id=terminal.id,
        workplace_id=terminal.workplace_id,
        provider=terminal.provider,
        model=terminal.model,
        serial_number=terminal.serial_number,
        terminal_id=terminal.bank_terminal_id,
        reader_id=terminal.reader_id,
        status=status,
        registered_at=local_time(terminal.registered_at, zone),
        removed_at=local_time(terminal.removed_at, zone),
        last_check=check_out(terminal.last_check, zone),
    )


def workplace_out(view: WorkplaceView) -> WorkplaceOut:
    workplace = view.workplace
    return WorkplaceOut(
        id=workplace.id,
        name=workplace.name,
        open_shift_id=workplace.open_shift,
        terminals=[terminal_out(terminal) for terminal in view.terminals],
        created_at=local_time(workplace.created_at, zone_of(workplace.store_id)),
    )


def who(actor: Any) -> str | None:
    if actor is None:
        return None
    return actor.get("uid") or actor.get("key_id") or actor.get("type")


def totals_out(totals: CardTotals) -> CardTotalsOut:
    brands = {brand: BrandOut(count=t.count, amount=t.amount) for brand, t in totals.by_brand.items()}
    return CardTotalsOut(count=totals.count, amount=totals.amount, by_brand=brands)


def shift_out(shift: Shift) -> ShiftOut:
    zone = zone_of(shift.store_id)
    closed = shift.closed_at is not None
    return ShiftOut(
        id=shift.id,
        workplace_id=shift.workplace_id,
        status="closed" if closed else "open",
        opened_at=local_time(shift.opened_at, zone),
        opened_by=who(shift.opened_by),
        closed_at=local_time(shift.closed_at, zone),
        closed_by=who(shift.closed_by),
        matched=shift.matched if closed else None,
        terminals=[
            TerminalReconciliationOut(
                terminal_id=terminal.terminal_id,
                provider=totals_out(terminal.provider),
                tresen=totals_out(terminal.tresen),
                matched=terminal.matched,
                mismatches=[MismatchOut(**vars(mismatch)) for mismatch in terminal.mismatches],
            )
            for terminal in shift.terminals
        ],
    )


@route(
    "POST",
    "/v1/stores/{store}/workplaces",
    summary="Set up a workplace: a till where staff take payments, with its card terminals",
    tag="staff",
    access=OWNER,
    body=WorkplaceIn,
    response=WorkplaceOut,
    present=workplace_out,
    status=201,
    errors=(*DENIED, "store_not_found", "validation_failed"),
)
def create_workplace(call: Call) -> WorkplaceView:
    body: WorkplaceIn = call.body
    command = CreateWorkplace(call.params["store"], body.name, call.caller.actor())
    return WorkplaceView(terminals.create_workplace(command, call.uow), ())


@route(
    "GET",
    "/v1/stores/{store}/workplaces",
    summary="The store's workplaces with their terminals and open shifts",
    tag="staff",
    access=staff(*STAFF_ROLES),
    response=WorkplaceList,
    errors=(*DENIED, "store_not_found"),
)
def list_workplaces(call: Call) -> WorkplaceList:
    return WorkplaceList(data=[workplace_out(view) for view in terminals.workplaces(call.uow, call.params["store"])])


@route(
    "POST",
    "/v1/stores/{store}/workplaces/{workplace}/terminals",
    summary="Register a card terminal at the workplace (only while no shift is open there)",
    tag="staff",
    access=SUPERVISORS,
    body=TerminalIn,
    response=TerminalOut,
    present=terminal_out,
    status=201,
    errors=(
        *DENIED,
        "store_not_found",
        "workplace_not_found",
        "shift_open",
        "validation_failed",
        "provider_not_ready",
        "store_address_required",
        "registration_refused",
        "service_unavailable",
    ),
)
def register_terminal(call: Call) -> Terminal:
    body: TerminalIn = call.body
    registration = Registration(body.provider, body.model, body.serial_number, body.terminal_id, body.registration_code)
    command = RegisterTerminal(call.params["store"], call.params["workplace"], registration, call.caller.actor())
    return terminals.register_terminal(command, call.uow)


def terminal_action(call: Call) -> TerminalAction:
    return TerminalAction(call.params["store"], call.params["workplace"], call.params["terminal"], call.caller.actor())


@route(
    "DELETE",
    "/v1/stores/{store}/workplaces/{workplace}/terminals/{terminal}",
    summary="Take a card terminal out of use (only while no shift is open there); its record is kept",
    tag="staff",
    access=SUPERVISORS,
    status=204,
    errors=(*DENIED, "workplace_not_found", "terminal_not_found", "shift_open"),
)
def remove_terminal(call: Call) -> Response:
    terminals.remove_terminal(terminal_action(call), call.uow)
    return Response(status=204)


@route(
    "POST",
    "/v1/stores/{store}/workplaces/{workplace}/terminals/{terminal}/check",
    summary="Check the terminal's connection with its provider (never blocks a sale)",
    tag="staff",
    access=STAFF,
    response=CheckOut,
    errors=(*DENIED, "workplace_not_found", "terminal_not_found"),
)
def check_terminal(call: Call) -> CheckOut:
    check = terminals.check_terminal(terminal_action(call), call.uow)
    return check_out(check, zone_of(call.params["store"]))


@route(
    "POST",
    "/v1/stores/{store}/workplaces/{workplace}/shifts",
    summary="Open a shift at the workplace",
    tag="staff",
    access=STAFF,
    response=ShiftOut,
    present=shift_out,
    status=201,
    errors=(*DENIED, "workplace_not_found", "shift_open"),
)
def open_shift(call: Call) -> Shift:
    command = OpenShift(call.params["store"], call.params["workplace"], call.caller.actor())
    return shifts.open_shift(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/workplaces/{workplace}/shifts",
    summary="The workplace's shifts, newest first, each closed one with its reconciliation",
    tag="staff",
    access=staff(*STAFF_ROLES),
    query=ShiftsQuery,
    response=ShiftList,
    errors=(*DENIED, "workplace_not_found", "validation_failed"),
)
def list_shifts(call: Call) -> ShiftList:
    query = ShiftQuery(call.params["store"], call.params["workplace"], call.query.limit)
    return ShiftList(data=[shift_out(shift) for shift in shifts.shifts(query, call.uow)])


@route(
    "GET",
    "/v1/stores/{store}/workplaces/{workplace}/shifts/{shift}",
    summary="One shift, with its reconciliation once closed",
    tag="staff",
    access=staff(*STAFF_ROLES),
    response=ShiftOut,
    present=shift_out,
    errors=(*DENIED, "workplace_not_found", "shift_not_found"),
)
def get_shift(call: Call) -> Shift:
    return shifts.shift(call.uow, call.params["store"], call.params["workplace"], call.params["shift"])


@route(
    "POST",
    "/v1/stores/{store}/workplaces/{workplace}/shifts/{shift}/close",
    summary="Close the shift: each terminal's totals from its provider reconciled with Tresen's",
    tag="staff",
    access=STAFF,
    response=ShiftOut,
    present=shift_out,
    status=201,
    errors=(*DENIED, "workplace_not_found", "shift_not_found", "shift_closed", "payment_in_progress"),
)
def close_shift(call: Call) -> Shift:
    params = call.params
    command = CloseShift(params["store"], params["workplace"], params["shift"], call.caller.actor())
    return shifts.close_shift(command, call.uow)


def payment_action(call: Call) -> PaymentAction:
    return PaymentAction(call.params["store"], call.params["order"], call.caller.actor())


@route(
    "POST",
    "/v1/stores/{store}/orders/{order}/payment/cancel",
    summary="Cancel a card payment at the terminal: the reader stops asking, the order is canceled",
    tag="staff",
    access=STAFF,
    response=m.OrderOut,
    present=present.order_out,
    errors=(*DENIED, "order_not_found", "not_a_card_payment", "payment_not_cancelable", "payment_completed"),
)
def cancel_payment(call: Call):
    cancel_card_payment(payment_action(call), call.uow)
    return order_views.order_view_for_staff(call.uow, call.params["store"], call.params["order"])


@route(
    "POST",
    "/v1/stores/{store}/orders/{order}/payment/refresh",
    summary="Ask the provider how a card payment at the terminal ended, and apply it (a lost answer)",
    tag="staff",
    access=STAFF,
    response=m.OrderOut,
    present=present.order_out,
    errors=(*DENIED, "order_not_found", "not_a_card_payment", "service_unavailable"),
)
def refresh_payment(call: Call):
    refresh_card_payment(payment_action(call), call.uow)
    return order_views.order_view_for_staff(call.uow, call.params["store"], call.params["order"])


def sandbox_only() -> None:
    if not settings().sandbox_enabled:
        raise ApiProblem("not_found", "The sandbox is not enabled.")


@route(
    "POST",
    "/v1/sandbox/terminals/{terminal}/present",
    summary="The customer taps a card on the simulated reader (dev mode only)",
    tag="sandbox",
    body=PresentIn,
    response=PresentedOut,
    errors=("not_found", "no_payment_pending", "terminal_busy", "validation_failed"),
)
def sandbox_present(call: Call) -> PresentedOut:
    sandbox_only()
    body: PresentIn = call.body
    command = PresentCard(call.params["terminal"], body.brand, body.outcome == "approve", body.amount, body.webhook)
    return PresentedOut(**present_card(command, call.uow))


@route(
    "POST",
    "/v1/sandbox/terminals/{terminal}/connection",
    summary="Switch the simulated reader on or off (dev mode only)",
    tag="sandbox",
    body=ConnectionIn,
    status=204,
    errors=("not_found", "validation_failed"),
)
def sandbox_connection(call: Call) -> Response:
    sandbox_only()
    switch_reader(call.uow, call.params["terminal"], call.body.online)
    return Response(status=204)


class RegisteredTerminalOut(m.Outbound):
    id: str
    workplace_id: str
    provider: str
    model: str
    serial_number: str
    terminal_id: str | None = Field(description="the bank's terminal id (TID)")
    acquired_at: datetime = Field(description="registered with Tresen")
    decommissioned_at: datetime | None = Field(description="removed from use")


class TseClientOut(m.Outbound):
    client_id: str
    serial_number: str = Field(description="the till's serial number, as the TSE and DSFinV-K name it")
    workplace_id: str | None = Field(description="null: the store's counter (orders of the ordering page)")
    registered_at: datetime


class TseDeviceOut(m.Outbound):
    tss_id: str
    provider: str = Field(description="fiskaly SIGN DE (a cloud TSE)")
    serial_number: str = Field(description="the TSE's serial number (hex SHA-256 of its public key)")
    signature_algorithm: str
    public_key: str
    acquired_at: datetime = Field(description="created and initialized")
    decommissioned_at: datetime | None
    clients: list[TseClientOut]


class RegisterWorkplaceOut(m.Outbound):
    id: str
    name: str
    acquired_at: datetime = Field(description="set up in Tresen")


class CashRegisterReportOut(m.Outbound):
    store_id: str
    software: str = Field(description="the cash-register software: Tresen (cloud)")
    workplaces: list[RegisterWorkplaceOut]
    terminals: list[RegisteredTerminalOut]
    tse: list[TseDeviceOut] = Field(description="the store's TSE (none before its first sale on site)")


def cash_register_out(report: CashRegisterReport) -> CashRegisterReportOut:
    zone = zone_of(report.store_id)
    tse = report.tse
    devices = (
        [
            TseDeviceOut(
                tss_id=tse.tss_id,
                provider="fiskaly SIGN DE",
                serial_number=tse.serial_number,
                signature_algorithm=tse.signature_algorithm,
                public_key=tse.public_key,
                acquired_at=local_time(tse.installed_at, zone),
                decommissioned_at=None,
                clients=[
                    TseClientOut(
                        client_id=client.client_id,
                        serial_number=client.serial_number,
                        workplace_id=client.workplace_id,
                        registered_at=local_time(client.registered_at, zone),
                    )
                    for client in sorted(tse.clients.values(), key=lambda c: (c.registered_at, c.client_id))
                ],
            )
        ]
        if tse
        else []
    )
    return CashRegisterReportOut(
        store_id=report.store_id,
        software="Tresen (cloud)",
        workplaces=[
            RegisterWorkplaceOut(id=wp.id, name=wp.name, acquired_at=local_time(wp.created_at, zone))
            for wp in report.workplaces
        ],
        terminals=[
            RegisteredTerminalOut(
                id=terminal.id,
                workplace_id=terminal.workplace_id,
                provider=terminal.provider,
                model=terminal.model,
                serial_number=terminal.serial_number,
                terminal_id=terminal.bank_terminal_id,
                acquired_at=local_time(terminal.registered_at, zone),
                decommissioned_at=local_time(terminal.removed_at, zone),
            )
            for terminal in report.terminals
        ],
        tse=devices,
    )


@route(
    "GET",
    "/v1/stores/{store}/cash-register-report",
    summary="The register of the store's tills, card terminals and TSE for the tax office (§146a (4) AO)",
    tag="staff",
    access=OWNER,
    response=CashRegisterReportOut,
    present=cash_register_out,
    errors=(*DENIED, "store_not_found"),
)
def cash_register(call: Call) -> CashRegisterReport:
    return cash_register_report(call.uow, call.params["store"])
