"""What the customer use cases read, as protocols: the store's customer records and the claims on
their e-mail addresses and phone numbers (adapters/customer_store.py implements them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from ..domain.customers import Customer


Version = Any  # opaque: what a guarded write names as "the version I read"


@dataclass(frozen=True)
class CustomerQuery:
    """What a search looks for: `name` (a prefix of a word of the name or company, lower-cased),
    `email`, `phone` (normalised), or `all`."""

    kind: str
    value: str | None = None


class CustomerImports(Protocol):
    """The state of customer imports, and the rows each refused."""

    def start(self, store_id: str, import_id: str, by: dict[str, Any], now: datetime) -> None: ...

    def read(self, store_id: str, import_id: str) -> dict[str, Any] | None:
        """id, status, rows, processed, create, update, unchanged, errors, by, created_at, updated_at."""

    def keep_errors(self, store_id: str, import_id: str, csv: bytes) -> None: ...

    def errors(self, store_id: str, import_id: str) -> bytes: ...


class Customers(Protocol):
    def read(self, store_id: str, customer_id: str) -> tuple[Customer, Version] | None: ...

    def read_many(self, store_id: str, customer_ids: Sequence[str]) -> dict[str, tuple[Customer, Version]]: ...

    def holders(self, store_id: str, keys: Sequence[str]) -> dict[str, str]:
        """The record holding each contact key that one holds (key → customer id)."""

    def search(self, store_id: str, query: CustomerQuery, after: str | None, limit: int) -> list[Customer]:
        """Matching records in id order, after the record `after`."""
