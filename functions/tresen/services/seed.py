"""Stores: the demo store, and a merchant's own (`tresen store FILE`). Writing a store is
idempotent: running it again with the same file changes nothing, and its key for personal data
is made once and never replaced."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..domain.catalog import Product, ProductOption, Store
from .order_ports import OrderUnitOfWork

DEMO_STORE = Store(
    id="demo",
    name="Demo Café",
    currency="EUR",
    timezone="Europe/Berlin",
    invoice_series="DEMO",
    payment_methods=("online", "on_site", "card_present"),
    online_providers=("sandbox",),
    fulfilment_types=("pickup", "table"),
    opening_hours=None,  # always open
    address=("Bahnhofstraße 1", "60311 Frankfurt am Main"),
    tax_number="045 234 56789",
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


@dataclass(frozen=True)
class SeedStore:
    store: Store
    products: tuple[Product, ...]


DEMO = SeedStore(DEMO_STORE, DEMO_PRODUCTS)


def demo_seed(with_stripe: bool) -> SeedStore:
    """The demo store; with a Stripe key configured it also takes online payments with Stripe."""
    return (
        SeedStore(replace(DEMO_STORE, online_providers=("sandbox", "stripe")), DEMO_PRODUCTS) if with_stripe else DEMO
    )


def seed_store(command: SeedStore, uow: OrderUnitOfWork) -> None:
    uow.stores.save(command.store, command.products)
