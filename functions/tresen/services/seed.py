"""The demo store of CONTRACT §1. Seeding is idempotent: running it again changes nothing."""

from __future__ import annotations

import secrets

from ..adapters import repository as repo
from ..domain.catalog import Product, ProductOption, Store
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
