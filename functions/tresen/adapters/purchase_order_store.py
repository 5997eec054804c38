"""Suppliers and purchase orders in the document store: `stores/{store}/suppliers/{supplier}` and
`stores/{store}/purchase_orders/{po}` (with its supplier as sent, its lines and its receipts).
Their numbers are counters like invoice numbers: `stores/{store}/purchase_order_numbers/{year}-{n:09d}`
(adapters/store_writer.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from ..domain.purchase_orders import Arrival, PurchaseLine, PurchaseOrder, Receipt, Supplier
from ..services.documents import Documents
from .repository import as_aware


def supplier_path(store_id: str, supplier_id: str) -> str:
    return f"stores/{store_id}/suppliers/{supplier_id}"


def purchase_order_path(store_id: str, purchase_order_id: str) -> str:
    return f"stores/{store_id}/purchase_orders/{purchase_order_id}"


def supplier_to_doc(supplier: Supplier) -> dict[str, Any]:
    return asdict(supplier)


def supplier_from_doc(doc: Mapping[str, Any]) -> Supplier:
    return Supplier(**{**doc, "created_at": as_aware(doc["created_at"])})


def purchase_order_to_doc(order: PurchaseOrder) -> dict[str, Any]:
    return asdict(order) | {"status": order.status}  # the status for an operator reading the document


def purchase_order_from_doc(doc: Mapping[str, Any]) -> PurchaseOrder:
    return PurchaseOrder(
        id=doc["id"],
        store_id=doc["store_id"],
        number=doc["number"],
        supplier=supplier_from_doc(doc["supplier"]),
        lines=tuple(PurchaseLine(**line) for line in doc["lines"]),
        created_at=as_aware(doc["created_at"]),
        receipts=tuple(
            Receipt(as_aware(receipt["received_at"]), tuple(Arrival(**arrival) for arrival in receipt["arrivals"]))
            for receipt in doc["receipts"]
        ),
    )


class DocumentSuppliers:
    """services/purchase_order_ports.py `Suppliers`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str, supplier_id: str) -> Supplier | None:
        found = self._docs.get(supplier_path(store_id, supplier_id))
        return supplier_from_doc(found.data) if found else None

    def of_store(self, store_id: str) -> list[Supplier]:
        found = (supplier_from_doc(doc.data) for doc in self._docs.query(f"stores/{store_id}/suppliers"))
        return sorted(found, key=lambda supplier: (supplier.name.casefold(), supplier.id))


class DocumentPurchaseOrders:
    """services/purchase_order_ports.py `PurchaseOrders`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str, purchase_order_id: str) -> tuple[PurchaseOrder, Any] | None:
        found = self._docs.get(purchase_order_path(store_id, purchase_order_id))
        return (purchase_order_from_doc(found.data), found.version) if found else None

    def of_store(self, store_id: str, limit: int) -> list[PurchaseOrder]:
        # by number: claimed in the order of the commits, year by year (six digits sort as numbers up
        # to 999 999 a year); one field's order, which Firestore's own index serves
        found = self._docs.query(f"stores/{store_id}/purchase_orders", order_by=[("number", True)], limit=limit)
        return [purchase_order_from_doc(doc.data) for doc in found]
