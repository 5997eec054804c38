"""Products as stored now, and each product's stock, in the document store.

A product is `stores/{store}/products/{product}` (adapters/repository.py maps it; hidden ones stay).
Its stock is `stores/{store}/stock/{product}` — `{product_id, stock, updated_at}` — a document of its
own, so a sale writes the count and never the product the catalog caches. A product never counted has
no stock document: its stock is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..domain.catalog import Product
from ..services.documents import Documents
from ..services.stock_ports import Count, StockRecord, Version
from .repository import product_from_doc, product_path


def stock_path(store_id: str, product_id: str) -> str:
    return f"stores/{store_id}/stock/{product_id}"


def stock_to_doc(record: StockRecord) -> dict[str, Any]:
    return {"product_id": record.product_id, "stock": record.stock, "updated_at": record.updated_at}


class DocumentStock:
    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str, product_ids: Sequence[str]) -> dict[str, Count]:
        found = self._docs.get_all([stock_path(store_id, product_id) for product_id in product_ids])
        return {
            product_id: Count(doc.data["stock"], doc.version) if doc else Count(0, None)
            for product_id, doc in zip(product_ids, found, strict=True)
        }


class DocumentProducts:
    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str, product_id: str) -> tuple[Product, Version] | None:
        found = self._docs.get(product_path(store_id, product_id))
        return (product_from_doc(product_id, found.data), found.version) if found else None
