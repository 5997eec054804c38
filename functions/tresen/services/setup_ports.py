"""What the use cases of a store's set-up for the finance integrations read through, as protocols:
its API keys and its accounting settings. The adapters implement them (adapters/api_key_store.py,
adapters/accounting_store.py); the unit of work carries them (`SetupUnitOfWork`)."""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

from ..domain.accounting import AccountingSettings
from ..domain.api_keys import ApiKey
from .unit_of_work import UnitOfWork


class StoredKey(NamedTuple):
    """A key as read, with what a write to it needs."""

    key_hash: str  # what the key is found by
    key: ApiKey
    read_at: Any  # the version read: a write guarded by it fails if the key changed since


class ApiKeys(Protocol):
    def by_hash(self, key_hash: str) -> StoredKey | None:
        """The key whose secret has this hash (revoked or not)."""

    def of_store(self, store_id: str) -> list[ApiKey]:
        """Every key of the store, revoked ones too, in no particular order."""

    def in_store(self, store_id: str, key_id: str) -> StoredKey | None:
        """The store's key with this id (None for another store's)."""


class AccountingRecords(Protocol):
    def settings(self, store_id: str) -> AccountingSettings:
        """The store's settings; the defaults (SKR03, no numbers, no overrides) if never set."""


class SetupUnitOfWork(UnitOfWork, Protocol):
    """The unit of work as the API-key and accounting use cases use it."""

    api_keys: ApiKeys
    accounting: AccountingRecords
