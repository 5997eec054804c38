"""The catalog as staff change it: what makes a product one the store can sell, and the journal's
record of each change (the product's whole state, so its price on any day can be proven)."""

from __future__ import annotations

import re
from dataclasses import replace

from .catalog import Product
from .errors import DomainError, FieldError
from .events import CatalogChanged
from .journal import JournalEvent

# ids the API gives products: they name them in URLs, order lines and exports
PRODUCT_ID = re.compile(r"[a-z0-9-]{1,64}")
VAT_RATES = ("7", "19")
CREATED, UPDATED, HIDDEN = "created", "updated", "hidden"


def check_product(product: Product) -> None:
    """`validation_failed` with a field error for each rule the product breaks."""
    problems = []
    if not PRODUCT_ID.fullmatch(product.id):
        problems.append(FieldError("id", "1 to 64 lowercase letters, digits and -"))
    if product.kind == "giftcard":
        if product.vat_rate is not None:
            problems.append(FieldError("vat_rate", "null for a gift card: a multi-purpose voucher bears no VAT"))
        if product.options:
            problems.append(FieldError("options", "a gift card's value is its price: it has no options"))
    elif product.vat_rate not in VAT_RATES:
        problems.append(FieldError("vat_rate", "7 or 19 for an item"))
    option_ids = [option.id for option in product.options]
    for repeated in sorted({option_id for option_id in option_ids if option_ids.count(option_id) > 1}):
        problems.append(FieldError("options", f"option {repeated!r} given twice"))
    if problems:
        raise DomainError("validation_failed", "The product cannot be sold as described.", problems)


def as_saved(asked: Product, current: Product | None, next_position: int) -> Product:
    """The product as stored: a changed one keeps its place on the menu, a new one comes last; a
    product put again is on the menu again."""
    return replace(asked, position=current.position if current else next_position, hidden=False)


def change_of(current: Product | None, saved: Product) -> str | None:
    """What saving did to the product: created, updated, or nothing (None)."""
    if current is None:
        return CREATED
    return None if saved == current else UPDATED


def catalog_changed(product: Product, change: str) -> JournalEvent:
    state = CatalogChanged(
        product_id=product.id,
        change=change,
        name=product.name,
        price=product.price,
        vat_rate=product.vat_rate,
        kind=product.kind,
        options=[{"id": o.id, "name": o.name, "price": o.price} for o in product.options],
        available=product.available,
        hidden=product.hidden,
        category=product.category,
        description=product.description,
        stock_tracked=product.stock_tracked,
        low_stock_at=product.low_stock_at,
    )
    return JournalEvent.of(state)
