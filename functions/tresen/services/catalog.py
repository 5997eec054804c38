"""The store's catalog as staff change it: a product put (created or changed) or hidden, each in one
commit with its `catalog.changed` entry, which holds the product's whole state after the change.

The product is read as stored (`uow.products`), before the commit and again in every attempt after
a conflict, and written guarded by the version read. This process's catalog cache is read afresh
right after the commit; other instances see the change within the cache's 5 s. A hidden product is
off the menu and cannot be ordered, but it stays stored: the orders that name it keep their lines,
and putting it again brings it back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from ..domain.catalog import Product
from ..domain.products import CREATED, HIDDEN, as_saved, catalog_changed, change_of, check_product
from .order_ports import OrderUnitOfWork, catalog_or_404
from .stock import product_not_found
from .stock_ports import Version, write_product
from .unit_of_work import Claims, Plan, Writes

T = TypeVar("T")


@dataclass(frozen=True)
class PutProduct:
    store_id: str
    product: Product  # as asked: where it stands on the menu is kept (a new one comes last)
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class SavedProduct:
    product: Product
    stock: int  # its count now: 0 until it is counted
    created: bool


@dataclass(frozen=True)
class HideProduct:
    store_id: str
    product_id: str
    actor: Mapping[str, Any]


def on_product(
    uow: OrderUnitOfWork,
    store_id: str,
    first: tuple[Product, Version] | None,
    product_id: str,
    plan: Callable[[Product | None, Version | None], Plan[T]],
) -> T:
    """Commit `plan(product, version read)`: on `first` (read before the commit), then read afresh in
    every attempt after a conflict; the cache of this process reads the catalog again after it."""
    reads = [first]

    def build(_claims: Claims) -> Plan[T]:
        current, read_at = (reads.pop() if reads else uow.products.read(store_id, product_id)) or (None, None)
        return plan(current, read_at)

    result = uow.commit(store_id, build).result
    uow.catalog.refresh(store_id)
    return result


def put_product(command: PutProduct, uow: OrderUnitOfWork) -> SavedProduct:
    """Created, or changed where it differs from what is stored (a product put as it is commits
    nothing); `validation_failed` naming each rule the product breaks."""
    store_id, asked = command.store_id, command.product
    _, catalog = catalog_or_404(uow, store_id)
    check_product(asked)
    now, last = uow.now(), max((product.position for product in catalog.values()), default=0)
    found = uow.products.read(store_id, asked.id)
    if found and change_of(found[0], as_saved(asked, found[0], last + 1)) is None:
        return saved_with_stock(uow, store_id, found[0], created=False)

    def plan(current: Product | None, read_at: Version | None) -> Plan[tuple[Product, str | None]]:
        saved = as_saved(asked, current, last + 1)
        change, writes = change_of(current, saved), Writes(command.actor)
        if change:
            write_product(writes, store_id, saved, read_at)
        events = [catalog_changed(saved, change)] if change else []
        return Plan((saved, change), now, command.actor, events, writes)

    saved, change = on_product(uow, store_id, found, asked.id, plan)
    return saved_with_stock(uow, store_id, saved, created=change == CREATED)


def saved_with_stock(uow: OrderUnitOfWork, store_id: str, product: Product, created: bool) -> SavedProduct:
    return SavedProduct(product, uow.stock.read(store_id, [product.id])[product.id].stock, created)


@dataclass(frozen=True)
class CatalogEntry:
    """A product on the menu as staff keep it: as put, with its count now."""

    product: Product
    stock: int  # 0 until it is counted, an untracked product's too


def catalog_with_stock(uow: OrderUnitOfWork, store_id: str) -> list[CatalogEntry]:
    """The products on the menu in its order (hidden ones left out), from the catalog's cache like
    the menu, each with its count read now: one read for all of them."""
    _, products = catalog_or_404(uow, store_id)
    counts = uow.stock.read(store_id, list(products)) if products else {}
    return [CatalogEntry(product, counts[product.id].stock) for product in products.values()]


def hide_product(command: HideProduct, uow: OrderUnitOfWork) -> Product:
    """Off the menu; hiding a hidden product again changes nothing."""
    store_id, now = command.store_id, uow.now()
    catalog_or_404(uow, store_id)
    found = uow.products.read(store_id, command.product_id)
    if found is None:
        raise product_not_found(store_id, command.product_id)
    if found[0].hidden:
        return found[0]

    def plan(current: Product | None, read_at: Version | None) -> Plan[Product]:
        writes = Writes(command.actor)
        if current.hidden:  # by another request meanwhile
            return Plan(current, now, command.actor, [], writes)
        hidden = replace(current, hidden=True)
        write_product(writes, store_id, hidden, read_at)
        return Plan(hidden, now, command.actor, [catalog_changed(hidden, HIDDEN)], writes)

    return on_product(uow, store_id, found, command.product_id, plan)
