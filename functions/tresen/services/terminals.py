"""Workplaces and their card terminals: each change one commit, journaled.

Every change of a workplace's terminals, and every opening or closing of its shift
(services/shifts.py), writes the workplace guarded by the version read, so none of them slips in
beside another: a terminal is never registered or removed while a shift is open there, and two
shifts never open at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from ..domain.errors import DomainError
from ..domain.events import TerminalRegistered, TerminalRemoved, WorkplaceCreated
from ..domain.journal import JournalEvent
from ..domain.terminals import (
    Terminal,
    TerminalCheck,
    TerminalRegistration,
    Workplace,
    check_no_open_shift,
    check_registration,
)
from .order_ports import catalog_or_404
from .terminal_ports import CardReader, TerminalUnitOfWork, Version
from .unit_of_work import Claims, Plan, Writes

log = logging.getLogger(__name__)
T = TypeVar("T")


def workplace_or_404(uow: TerminalUnitOfWork, store_id: str, workplace_id: str) -> tuple[Workplace, Version]:
    found = uow.workplaces.read(store_id, workplace_id)
    if found is None:
        raise DomainError("workplace_not_found", f"Store {store_id} has no workplace {workplace_id!r}.")
    return found


def terminal_at(uow: TerminalUnitOfWork, workplace: Workplace, terminal_id: str) -> tuple[Terminal, Version]:
    found = uow.terminals.read(terminal_id)
    if found is None or found[0].workplace_id != workplace.id or found[0].store_id != workplace.store_id:
        raise DomainError("terminal_not_found", f"Workplace {workplace.name!r} has no terminal {terminal_id!r}.")
    return found


def on_workplace(
    uow: TerminalUnitOfWork,
    store_id: str,
    workplace_id: str,
    plan: Callable[[Workplace, Version], Plan[T]],
) -> T:
    """Commit `plan(workplace, version read)`: read before the commit, afresh in every attempt after
    a conflict (the workplace changed meanwhile, and the decision is made again)."""
    first = [workplace_or_404(uow, store_id, workplace_id)]

    def build(_claims: Claims) -> Plan[T]:
        workplace, read_at = first.pop() if first else workplace_or_404(uow, store_id, workplace_id)
        return plan(workplace, read_at)

    return uow.commit(store_id, build).result


# -- workplaces ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateWorkplace:
    store_id: str
    name: str
    actor: Mapping[str, Any]


def create_workplace(command: CreateWorkplace, uow: TerminalUnitOfWork) -> Workplace:
    catalog_or_404(uow, command.store_id)
    now = uow.now()
    workplace = Workplace(uow.new_id("wp_"), command.store_id, command.name, now)
    created = WorkplaceCreated(workplace_id=workplace.id, name=workplace.name)

    def build(_claims: Claims) -> Plan[Workplace]:
        writes = Writes(command.actor)
        writes.workplace(workplace)
        return Plan(workplace, now, command.actor, [JournalEvent.of(created)], writes)

    return uow.commit(command.store_id, build).result


@dataclass(frozen=True)
class WorkplaceView:
    workplace: Workplace
    terminals: tuple[Terminal, ...]


def workplaces(uow: TerminalUnitOfWork, store_id: str) -> list[WorkplaceView]:
    catalog_or_404(uow, store_id)
    return [
        WorkplaceView(workplace, tuple(uow.terminals.at_workplace(store_id, workplace.id)))
        for workplace in uow.workplaces.of_store(store_id)
    ]


# -- terminals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterTerminal:
    store_id: str
    workplace_id: str
    registration: TerminalRegistration
    actor: Mapping[str, Any]


def register_terminal(command: RegisterTerminal, uow: TerminalUnitOfWork) -> Terminal:
    """The reader registered with its provider first (idempotent by the terminal's id), then Tresen's
    record of it, guarded by the workplace: `shift_open` if a shift opened meanwhile."""
    store, _ = catalog_or_404(uow, command.store_id)
    registration = command.registration
    check_registration(registration)
    workplace, _ = workplace_or_404(uow, store.id, command.workplace_id)
    check_no_open_shift(workplace)
    terminal_id = uow.new_id("term_")
    reader = uow.card_reader(registration.provider, store.id)
    registered = reader.register(store, workplace, terminal_id, registration)
    now = uow.now()
    terminal = Terminal(
        id=terminal_id,
        store_id=store.id,
        workplace_id=workplace.id,
        provider=registration.provider,
        model=registration.model,
        serial_number=registration.serial_number,
        bank_terminal_id=registration.bank_terminal_id,
        reader_id=registered.reader_id,
        registered_at=now,
        last_check=connection(uow, reader, registered.reader_id),
    )
    journaled = TerminalRegistered(
        terminal_id=terminal.id,
        workplace_id=workplace.id,
        provider=terminal.provider,
        model=terminal.model,
        serial_number=terminal.serial_number,
        bank_terminal_id=terminal.bank_terminal_id,
        reader_id=terminal.reader_id,
    )

    def plan(current: Workplace, read_at: Version) -> Plan[Terminal]:
        check_no_open_shift(current)
        writes = Writes(command.actor)
        writes.workplace(replace(current, location=current.location or registered.location), read_at)
        writes.terminal(terminal)
        return Plan(terminal, now, command.actor, [JournalEvent.of(journaled)], writes)

    return on_workplace(uow, store.id, workplace.id, plan)


@dataclass(frozen=True)
class TerminalAction:
    store_id: str
    workplace_id: str
    terminal_id: str
    actor: Mapping[str, Any]


def remove_terminal(command: TerminalAction, uow: TerminalUnitOfWork) -> Terminal:
    """Taken out of use (kept, with the day it went); the provider unregisters the reader after."""
    now = uow.now()

    def plan(workplace: Workplace, read_at: Version) -> Plan[Terminal]:
        check_no_open_shift(workplace)
        terminal, terminal_read_at = terminal_at(uow, workplace, command.terminal_id)
        if terminal.removed_at is not None:
            raise DomainError("terminal_not_found", f"Terminal {terminal.id} was removed before.")
        removed = replace(terminal, removed_at=now)
        writes = Writes(command.actor)
        writes.workplace(workplace, read_at)
        writes.terminal(removed, terminal_read_at)
        journaled = TerminalRemoved(terminal_id=terminal.id, workplace_id=workplace.id)
        return Plan(removed, now, command.actor, [JournalEvent.of(journaled)], writes)

    removed = on_workplace(uow, command.store_id, command.workplace_id, plan)
    try:
        uow.card_reader(removed.provider, command.store_id).unregister(removed.reader_id)
    except (ConnectionError, DomainError) as error:  # Tresen no longer uses it: the provider's record can wait
        log.warning("terminal %s: the provider did not unregister reader %s: %s", removed.id, removed.reader_id, error)
    return removed


def check_terminal(command: TerminalAction, uow: TerminalUnitOfWork) -> TerminalCheck:
    """Whether the reader is connected, as its provider says now; never blocks a sale, and a
    provider that cannot be asked is an answer too."""
    workplace, _ = workplace_or_404(uow, command.store_id, command.workplace_id)
    terminal, _ = terminal_at(uow, workplace, command.terminal_id)
    check = connection(uow, uow.card_reader(terminal.provider, command.store_id), terminal.reader_id)
    writes = Writes(command.actor)
    writes.terminal_checked(terminal.id, check)
    uow.commit_writes(writes)
    return check


def connection(uow: TerminalUnitOfWork, reader: CardReader, reader_id: str) -> TerminalCheck:
    try:
        found = reader.check(reader_id)
    except ConnectionError as error:
        return TerminalCheck("offline", uow.now(), f"the provider could not be asked: {error}")
    return TerminalCheck(found.status, uow.now(), found.detail)
