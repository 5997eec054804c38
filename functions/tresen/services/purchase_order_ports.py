"""What the supplier and purchase-order use cases read, as protocols (adapters/purchase_order_store.py
implements them over the documents), and their named writes, beside `Writes`' own
(services/unit_of_work.py; adapters/records.py maps them to documents like every other write).

A purchase order's number is the next of the counter `PURCHASE_ORDER_NUMBERS` scoped by the year
(services/unit_of_work.py `Counter`), claimed in the commit that creates the order, as invoice
numbers are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .order_ports import OrderUnitOfWork
from .unit_of_work import Write, Writes

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from ..domain.purchase_orders import PurchaseOrder, Supplier

PURCHASE_ORDER_NUMBERS = "purchase_order_numbers"
Version = Any  # opaque: what a guarded write names as "the version I read"


class Suppliers(Protocol):
    def read(self, store_id: str, supplier_id: str) -> Supplier | None: ...

    def of_store(self, store_id: str) -> list[Supplier]:
        """The store's suppliers, by name."""


class PurchaseOrders(Protocol):
    def read(self, store_id: str, purchase_order_id: str) -> tuple[PurchaseOrder, Version] | None: ...

    def of_store(self, store_id: str, limit: int) -> list[PurchaseOrder]:
        """The store's newest purchase orders, newest first."""


class PurchasingUnitOfWork(OrderUnitOfWork, Protocol):
    suppliers: Suppliers
    purchase_orders: PurchaseOrders


def write_supplier(writes: Writes, supplier: Supplier) -> None:
    """A new supplier of the store (create-only: ids are not reused)."""
    writes.ops.append(Write("create", "supplier", (supplier.store_id, supplier.id), supplier))


def write_purchase_order(writes: Writes, order: PurchaseOrder, read_at: Version | None = None) -> None:
    """A new purchase order (`read_at` None: create-only), or one received into since read at `read_at`:
    if another receipt came meanwhile, the use case decides again on what that one left."""
    kind = "create" if read_at is None else "update"
    writes.ops.append(Write(kind, "purchase_order", (order.store_id, order.id), order, read_at))
