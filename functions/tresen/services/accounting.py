"""A store's accounting settings (chart of accounts, DATEV numbers, account overrides): read by
the DATEV export (`uow.accounting.settings`), set by the owner, every change journaled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.accounting import AccountingSettings, accounting_settings
from ..domain.events import AccountingChanged
from ..domain.journal import JournalEvent
from .order_ports import catalog_or_404
from .setup_ports import SetupUnitOfWork
from .unit_of_work import Claims, Plan, Writes


@dataclass(frozen=True)
class SetAccounting:
    """Replace the store's settings as a whole."""

    store_id: str
    chart: str
    consultant_number: int | None
    client_number: int | None
    accounts: Mapping[str, str]
    actor: Mapping[str, Any]


def read_settings(uow: SetupUnitOfWork, store_id: str) -> AccountingSettings:
    catalog_or_404(uow, store_id)
    return uow.accounting.settings(store_id)


def set_settings(command: SetAccounting, uow: SetupUnitOfWork) -> AccountingSettings:
    """Settings equal to the current ones journal nothing (a retried PUT), so the journal holds
    exactly the changes."""
    store_id, actor = command.store_id, command.actor
    catalog_or_404(uow, store_id)
    wanted = accounting_settings(command.chart, command.consultant_number, command.client_number, command.accounts)
    now = uow.now()

    def build(claims: Claims) -> Plan[AccountingSettings]:
        writes = Writes(actor)
        if uow.accounting.settings(store_id).as_dict() == wanted.as_dict():
            return Plan(wanted, now, actor, [], writes)
        writes.accounting(store_id, wanted.as_dict() | {"updated_at": now, "updated_by": dict(actor)})
        changed = JournalEvent.of(AccountingChanged(**wanted.as_dict()))
        return Plan(wanted, now, actor, [changed], writes)

    return uow.commit(store_id, build).result
