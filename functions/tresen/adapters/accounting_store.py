"""A store's accounting settings in the document store: `stores/{id}/settings/accounting`, as
`AccountingSettings.as_dict()` plus who changed them when."""

from __future__ import annotations

from ..domain.accounting import AccountingSettings
from ..services.documents import Documents


def accounting_path(store_id: str) -> str:
    return f"stores/{store_id}/settings/accounting"


class DocumentAccounting:
    """services/setup_ports.py `AccountingRecords`."""

    def __init__(self, docs: Documents):
        self.docs = docs

    def settings(self, store_id: str) -> AccountingSettings:
        found = self.docs.get(accounting_path(store_id))
        if found is None:
            return AccountingSettings()
        doc = found.data
        return AccountingSettings(doc["chart"], doc["consultant_number"], doc["client_number"], doc["accounts"])
