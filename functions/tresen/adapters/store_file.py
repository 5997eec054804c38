"""A merchant's store and menu from a file (`tresen store FILE`), in the documents' own shape."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..domain.catalog import Product, Store
from ..domain.ids import is_id
from .repository import product_from_doc, store_from_doc


def store_from_file(data: Any) -> tuple[Store, tuple[Product, ...]]:
    """A store and its menu from `{"store": {...}, "products": [...]}`, in the documents' own shape
    (docs/architecture.md, "Data model"; `store.id` and each product's `id` name them). Raises
    ValueError naming what is wrong."""
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("store"), dict)
        or not isinstance(data.get("products"), list)
    ):
        raise ValueError('the file must hold {"store": {...}, "products": [...]}')
    store_doc = dict(data["store"])
    store_id = store_doc.pop("id", None)
    if not is_id(store_id):
        raise ValueError("store.id must be an id: letters, digits, _ and -")
    try:
        store = store_from_doc(store_id, store_doc)
        ZoneInfo(store.timezone)  # an unknown time zone fails here, not at the first order
        products = tuple(
            product_from_doc(product["id"], {k: v for k, v in product.items() if k != "id"})
            for product in data["products"]
        )
    except (KeyError, TypeError, ZoneInfoNotFoundError) as error:
        raise ValueError(f"store or product is incomplete or malformed: {error!r}") from None
    if not all(isinstance(number, str | None) for number in (store.tax_number, store.vat_id)):
        raise ValueError("store.tax_number and store.vat_id are text, as the tax office writes them")
    invalid = [product.id for product in products if not is_id(product.id) or product.price < 0]
    if invalid:
        raise ValueError(f"products with a bad id or a negative price: {invalid}")
    return store, products
