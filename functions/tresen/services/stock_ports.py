"""What the catalog and stock use cases read and write: products as stored now, and the stock of each.

A product's stock is a count of its own (adapters/stock_store.py), not a field of the product: a
sale moves the count and never the catalog every instance caches. `Products` reads a product as
stored now (hidden ones too), never from the cache. Both are attributes of the order unit of work
(`uow.products`, `uow.stock`), since placing and changing orders read the stock too.

Their writes are named here, beside `Writes`' own (services/unit_of_work.py); adapters/records.py
maps them to documents like every other write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ..domain.catalog import Product
from .unit_of_work import Write, Writes

Version = Any  # opaque: what a guarded write names as "the version I read"


@dataclass(frozen=True)
class Count:
    """A product's stock as read, with the version a write is guarded by."""

    stock: int
    version: Version | None  # None: never counted, there is no record yet


class StockCounts(Protocol):
    def read(self, store_id: str, product_ids: Sequence[str]) -> dict[str, Count]:
        """Each product's stock now, in one read; a product never counted has 0 (version None)."""


class Products(Protocol):
    def read(self, store_id: str, product_id: str) -> tuple[Product, Version] | None:
        """The product as stored now, hidden or not; None if the store never had it."""


@dataclass(frozen=True)
class StockRecord:
    store_id: str
    product_id: str
    stock: int
    updated_at: datetime


def write_stock(writes: Writes, record: StockRecord, read_at: Version | None) -> None:
    """The count, only if it is still the version read: if another commit moved it meanwhile, the use
    case decides again on the fresh count. A product never counted (`read_at` None) gets its record,
    and if another commit made it first, the decision is made again too."""
    kind = "sequenced" if read_at is None else "update"
    writes.ops.append(Write(kind, "stock", (record.store_id, record.product_id), record, read_at))


def write_product(writes: Writes, store_id: str, product: Product, read_at: Version | None) -> None:
    """The product as changed since read at `read_at`; a new one (`read_at` None) is created, and if
    another request created it first, the decision is made again on what that one wrote."""
    kind = "sequenced" if read_at is None else "update"
    writes.ops.append(Write(kind, "product", (store_id, product.id), product, read_at))
