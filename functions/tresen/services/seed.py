"""Stores: the demo store of CONTRACT §1, and a merchant's own from a file (`tresen store FILE`).
Writing a store is idempotent: running it again with the same file changes nothing, and its key for
personal data is created once and never replaced."""

from __future__ import annotations

import secrets
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..adapters import repository as repo
from ..domain.catalog import Product, ProductOption, Store
from ..domain.ids import is_id
from .documents import Conflict, Documents

DEMO_STORE = Store(
    id="demo",
    name="Demo Café",
    currency="EUR",
    timezone="Europe/Berlin",
    invoice_series="DEMO",
    payment_methods=("online", "on_site"),
    online_providers=("sandbox",),
    fulfilment_types=("pickup", "table"),
    opening_hours=None,  # always open
    address=("Bahnhofstraße 1", "60311 Frankfurt am Main"),
)

DEMO_PRODUCTS = (
    Product("croissant", "Butter-Croissant", 290, "7", True, position=1),
    Product(
        "bagel",
        "Bagel mit Frischkäse",
        550,
        "7",
        True,
        position=2,
        options=(ProductOption("salmon", "Mit Lachs", 250), ProductOption("avocado", "Mit Avocado", 150)),
    ),
    Product("cheesecake", "Käsekuchen", 420, "7", True, position=3),
    Product("soup", "Tagessuppe", 690, "7", False, position=4),  # sold out
    Product("espresso", "Espresso", 260, "19", True, position=5),
    Product(
        "cappuccino",
        "Cappuccino",
        380,
        "19",
        True,
        position=6,
        options=(ProductOption("oat", "Hafermilch", 50), ProductOption("extra_shot", "Extra Shot", 60)),
    ),
    Product("lemonade", "Hausgemachte Limonade", 450, "19", True, position=7),
    Product("giftcard-25", "Geschenkkarte 25 €", 2500, None, True, kind="giftcard", position=8),
)


def seed_store(docs: Documents, store: Store, products: tuple[Product, ...]) -> None:
    batch = docs.batch()
    batch.set(repo.store_path(store.id), repo.store_to_doc(store))
    for product in products:
        batch.set(f"stores/{store.id}/products/{product.id}", repo.product_to_doc(product))
    batch.commit()
    key = docs.batch()
    key.create(f"store_secrets/{store.id}", {"pii_key": secrets.token_bytes(32)})
    try:
        key.commit()
    except Conflict:  # the key must never change once personal data was pseudonymised with it
        pass


def seed_demo(docs: Documents) -> None:
    seed_store(docs, DEMO_STORE, DEMO_PRODUCTS)


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
        store = repo.store_from_doc(store_id, store_doc)
        ZoneInfo(store.timezone)  # an unknown time zone fails here, not at the first order
        products = tuple(
            repo.product_from_doc(product["id"], {k: v for k, v in product.items() if k != "id"})
            for product in data["products"]
        )
    except (KeyError, TypeError, ZoneInfoNotFoundError) as error:
        raise ValueError(f"store or product is incomplete or malformed: {error!r}") from None
    invalid = [product.id for product in products if not is_id(product.id) or product.price < 0]
    if invalid:
        raise ValueError(f"products with a bad id or a negative price: {invalid}")
    return store, products
