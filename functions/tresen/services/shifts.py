"""Shifts at a workplace: opened, and closed with the reconciliation of each of its terminals.

A shift's close reconciles each terminal: the charges its provider took while the shift was open,
against the card payments Tresen's journal booked in that time. A charge of Tresen's own payment
whose answer never arrived is first recovered by asking the provider (services/card_present.py),
so a lost webhook shows as what it is — a payment taken once and booked once. Opening and closing
write the workplace guarded by the version read, as its terminals' changes do (services/terminals.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..domain.errors import DomainError
from ..domain.events import ShiftClosed, ShiftOpened
from ..domain.journal import JournalEvent
from ..domain.terminals import (
    CARD_PRESENT,
    BookedCardPayment,
    ProviderCharge,
    Shift,
    Terminal,
    TerminalReconciliation,
    Workplace,
    open_shift_of,
    opened,
    reconcile,
)
from .card_present import apply_state, awaiting
from .terminal_ports import TerminalUnitOfWork, Version
from .terminals import on_workplace, workplace_or_404
from .unit_of_work import Plan, Writes

JOURNAL_PAGE = 1000  # entries read at once when a shift's bookings are gathered


@dataclass(frozen=True)
class OpenShift:
    store_id: str
    workplace_id: str
    actor: Mapping[str, Any]


def open_shift(command: OpenShift, uow: TerminalUnitOfWork) -> Shift:
    """`shift_open` if one is open there. Its bookings are the journal's entries from the head read
    now on."""
    journal_from = uow.journal.head(command.store_id).seq
    now = uow.now()
    shift_id = uow.new_id("shift_")

    def plan(workplace: Workplace, read_at: Version) -> Plan[Shift]:
        shift = Shift(shift_id, workplace.store_id, workplace.id, now, dict(command.actor), journal_from)
        writes = Writes(command.actor)
        writes.workplace(opened(workplace, shift.id), read_at)
        writes.shift(shift)
        journaled = ShiftOpened(shift_id=shift.id, workplace_id=workplace.id)
        return Plan(shift, now, command.actor, [JournalEvent.of(journaled)], writes)

    return on_workplace(uow, command.store_id, command.workplace_id, plan)


@dataclass(frozen=True)
class CloseShift:
    store_id: str
    workplace_id: str
    shift_id: str
    actor: Mapping[str, Any]


def shift_or_404(uow: TerminalUnitOfWork, store_id: str, workplace_id: str, shift_id: str) -> tuple[Shift, Version]:
    found = uow.shifts.read(store_id, shift_id)
    if found is None or found[0].workplace_id != workplace_id:
        raise DomainError("shift_not_found", f"Workplace {workplace_id!r} has no shift {shift_id!r}.")
    return found


def close_shift(command: CloseShift, uow: TerminalUnitOfWork) -> Shift:
    """`payment_in_progress` while a reader of the workplace is asking a customer for a card: the
    payment is finished or canceled first, so it belongs to one shift."""
    workplace, _ = workplace_or_404(uow, command.store_id, command.workplace_id)
    shift, _ = shift_or_404(uow, command.store_id, workplace.id, command.shift_id)
    open_shift_of(workplace, shift.id)
    terminals = uow.terminals.at_workplace(command.store_id, workplace.id)
    now = uow.now()
    charges = {terminal.id: provider_charges(uow, terminal, shift.opened_at, now) for terminal in terminals}
    booked = booked_card_payments(uow, shift, {terminal.id for terminal in terminals})
    reconciled = tuple(
        reconcile(terminal.id, charges[terminal.id], unbooked(uow, charges[terminal.id], booked) + booked[terminal.id])
        for terminal in terminals
    )

    def plan(current: Workplace, read_at: Version) -> Plan[Shift]:
        open_shift_of(current, shift.id)
        closed = replace(shift, closed_at=now, closed_by=dict(command.actor), terminals=reconciled)
        writes = Writes(command.actor)
        writes.workplace(replace(current, open_shift=None), read_at)
        writes.shift(closed, shift_read_at(uow, closed))
        return Plan(closed, now, command.actor, [closed_event(closed)], writes)

    return on_workplace(uow, command.store_id, workplace.id, plan)


def shift_read_at(uow: TerminalUnitOfWork, shift: Shift) -> Version:
    return shift_or_404(uow, shift.store_id, shift.workplace_id, shift.id)[1]


def provider_charges(
    uow: TerminalUnitOfWork, terminal: Terminal, since: datetime, until: datetime
) -> list[ProviderCharge]:
    """The charges the terminal's provider took between `since` and `until`. A charge of a payment
    Tresen started whose order still waits for it is an answer lost on its way: asking the provider
    books it now."""
    reader = uow.card_reader(terminal.provider, terminal.store_id)
    if reader.in_progress(terminal.reader_id) is not None:
        raise DomainError(
            "payment_in_progress",
            f"Terminal {terminal.model} {terminal.serial_number} is taking a payment: finish or cancel it first.",
        )
    charges = reader.charges(terminal.reader_id, since, until)
    for charge in charges:
        payment = uow.payments.read(charge.ref)
        if payment is None or payment.store_id != terminal.store_id:
            continue
        order, _ = uow.orders.read_in_store(payment.store_id, payment.order_id)
        if awaiting(order) and order.payment is not None:
            apply_state(uow, terminal.store_id, order.payment, reader.state(charge.ref))
    return charges


def booked_card_payments(
    uow: TerminalUnitOfWork, shift: Shift, terminal_ids: set[str]
) -> dict[str, list[BookedCardPayment]]:
    """The card payments at these terminals that the journal booked while the shift was open
    (`order.paid` entries after the shift's first seq), per terminal."""
    booked: dict[str, list[BookedCardPayment]] = {terminal_id: [] for terminal_id in terminal_ids}
    seq = shift.journal_from
    while True:
        entries = uow.journal.entries_after(shift.store_id, seq, JOURNAL_PAGE)
        for entry in entries:
            sale = entry["data"].get("sale") if entry["type"] == "order.paid" else None
            if sale and sale["payment_method"] == CARD_PRESENT and sale.get("terminal_id") in terminal_ids:
                data = entry["data"]
                booked[sale["terminal_id"]].append(
                    BookedCardPayment(
                        data["payment_id"], data["order_id"], sale["terminal_id"], data["amount"], sale["card_brand"]
                    )
                )
        if len(entries) < JOURNAL_PAGE:
            return booked
        seq = entries[-1]["seq"]


def unbooked(
    uow: TerminalUnitOfWork, charges: list[ProviderCharge], booked: dict[str, list[BookedCardPayment]]
) -> list[BookedCardPayment]:
    """Tresen's payments among the charges that its journal did not book (the provider reported
    another amount than the order owed): set against the charge as an amount mismatch."""
    booked_refs = {payment.payment_id for payments in booked.values() for payment in payments}
    found = []
    for charge in charges:
        payment = uow.payments.read(charge.ref) if charge.ref not in booked_refs else None
        if payment is not None:
            order, _ = uow.orders.read_in_store(payment.store_id, payment.order_id)
            found.append(
                BookedCardPayment(payment.id, order.id, order.payment.terminal_id, order.amount_due, "unknown", False)
            )
    return found


def closed_event(shift: Shift) -> JournalEvent:
    return JournalEvent.of(
        ShiftClosed(
            shift_id=shift.id,
            workplace_id=shift.workplace_id,
            opened_at=shift.opened_at.isoformat(),
            matched=shift.matched,
            terminals=[terminal_figures(terminal) for terminal in shift.terminals],
        )
    )


def terminal_figures(reconciled: TerminalReconciliation) -> dict[str, Any]:
    def card_figures(totals: Any) -> dict[str, Any]:
        brands = {brand: {"count": t.count, "amount": t.amount} for brand, t in totals.by_brand.items()}
        return {"count": totals.count, "amount": totals.amount, "by_brand": brands}

    return {
        "terminal_id": reconciled.terminal_id,
        "provider": card_figures(reconciled.provider),
        "tresen": card_figures(reconciled.tresen),
        "matched": reconciled.matched,
        "mismatches": [
            {name: value for name, value in vars(mismatch).items() if value is not None}
            for mismatch in reconciled.mismatches
        ],
    }


@dataclass(frozen=True)
class ShiftQuery:
    store_id: str
    workplace_id: str
    limit: int = 20


def shifts(query: ShiftQuery, uow: TerminalUnitOfWork) -> list[Shift]:
    workplace_or_404(uow, query.store_id, query.workplace_id)
    return uow.shifts.of_workplace(query.store_id, query.workplace_id, query.limit)


def shift(uow: TerminalUnitOfWork, store_id: str, workplace_id: str, shift_id: str) -> Shift:
    return shift_or_404(uow, store_id, workplace_id, shift_id)[0]
