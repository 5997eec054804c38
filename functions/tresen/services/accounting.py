"""A store's accounting settings (chart of accounts, DATEV numbers, account overrides): read by
the DATEV export, set by the owner, every change journaled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..adapters.backend import Backend
from .unit_of_work import Claims, Plan
from .unit_of_work import Writes
from ..adapters.records import accounting_path
from ..domain.accounting import AccountingSettings, accounting_settings
from ..domain.journal import JournalEvent
from .orders import catalog_or_404


def load_settings(backend: Backend, store_id: str) -> AccountingSettings:
    """The store's settings; the defaults (SKR03, no numbers, no overrides) if never set."""
    found = backend.docs.get(accounting_path(store_id))
    if found is None:
        return AccountingSettings()
    doc = found.data
    return AccountingSettings(doc["chart"], doc["consultant_number"], doc["client_number"], doc["accounts"])


def read_settings(backend: Backend, store_id: str) -> AccountingSettings:
    catalog_or_404(backend, store_id)
    return load_settings(backend, store_id)


def set_settings(
    backend: Backend,
    store_id: str,
    chart: str,
    consultant_number: int | None,
    client_number: int | None,
    accounts: Mapping[str, str],
    actor: Mapping[str, Any],
) -> AccountingSettings:
    """Replaces the settings as a whole. Settings equal to the current ones journal nothing (a
    retried PUT), so the journal holds exactly the changes."""
    catalog_or_404(backend, store_id)
    wanted = accounting_settings(chart, consultant_number, client_number, accounts)
    now = backend.now()

    def build(claims: Claims) -> Plan[AccountingSettings]:
        writes = Writes(dict(actor))
        if load_settings(backend, store_id).as_dict() == wanted.as_dict():
            return Plan(wanted, now, actor, [], writes)
        writes.accounting(store_id, wanted.as_dict() | {"updated_at": now, "updated_by": dict(actor)})
        return Plan(wanted, now, actor, [JournalEvent("accounting.changed", wanted.as_dict())], writes)

    return backend.commit(store_id, build).result
