"""The stock of tracked products: taken by an order in the commit that places it, given back by the
commit that cancels, rejects or voids it or refunds it with `restock`, adjusted by staff; the menu's
availability.

Every count is read afresh inside the commit's build, again on every attempt after a conflict, and
written guarded by the version read (services/stock_ports.py `write_stock`). So two orders, on one
instance or on several, never take the same units: the guarded write of the later one fails, it
builds again on the fresh count and takes what is left, or fails with `out_of_stock`. Which products
are tracked, and their thresholds, come from the catalog's cache (a change reaches every instance
within its 5 s).

For the use cases built on this one: `adjust_stock` changes one product's stock in a commit of its
own; `moved` moves several products' stock inside a build of the caller's (a purchase order's
delivery), and domain/stock.py `low_events` says which of those moves crossed a threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..domain.catalog import Product
from ..domain.changes import OrderChange
from ..domain.errors import DomainError
from ..domain.journal import JournalEvent
from ..domain.orders import Order, OrderLine
from ..domain.stock import (
    Move,
    adjusted,
    adjusted_event,
    check_available,
    held_after,
    low_events,
    moves,
    released,
    return_reason,
    returned_event,
    sold_out,
    taken_event,
    units_wanted,
)
from .order_ports import OrderUnitOfWork, catalog_or_404
from .stock_ports import StockRecord, write_stock
from .unit_of_work import Claims, Plan, Writes


@dataclass(frozen=True)
class StockLevel:
    """A product's stock as the API shows it."""

    product_id: str
    stock: int
    low_stock_at: int | None


def product_not_found(store_id: str, product_id: str) -> DomainError:
    return DomainError("product_not_found", f"Store {store_id} has no product {product_id!r}.")


def product_or_404(uow: OrderUnitOfWork, store_id: str, product_id: str) -> Product:
    found = uow.products.read(store_id, product_id)
    if found is None:
        raise product_not_found(store_id, product_id)
    return found[0]


def stock_level(uow: OrderUnitOfWork, store_id: str, product_id: str) -> StockLevel:
    """The product's stock now (0 if it was never counted)."""
    product = product_or_404(uow, store_id, product_id)
    return StockLevel(product.id, uow.stock.read(store_id, [product.id])[product.id].stock, product.low_stock_at)


@dataclass(frozen=True)
class AdjustStock:
    """Staff change a product's stock: by `adjust` units (negative: taken away), or `set_to` a count."""

    store_id: str
    product_id: str
    adjust: int | None
    set_to: int | None
    reason: str  # delivery, count, waste, correction
    actor: Mapping[str, Any]


def adjust_stock(command: AdjustStock, uow: OrderUnitOfWork) -> StockLevel:
    """One commit with its `stock.adjusted` (and `stock.low` where it crossed the threshold);
    `insufficient_stock` if it would go below 0."""
    store_id, product_id = command.store_id, command.product_id
    catalog_or_404(uow, store_id)
    product, now = product_or_404(uow, store_id, product_id), uow.now()

    def build(_claims: Claims) -> Plan[StockLevel]:
        count = uow.stock.read(store_id, [product_id])[product_id]
        after = adjusted(count.stock, command.adjust, command.set_to)
        move = Move(product_id, abs(after - count.stock), count.stock, after)
        writes = Writes(command.actor)
        write_stock(writes, StockRecord(store_id, product_id, after, now), count.version)
        events = [adjusted_event(product_id, command.reason, move), *low_events([move], {product_id: product})]
        return Plan(StockLevel(product_id, after, product.low_stock_at), now, command.actor, events, writes)

    return uow.commit(store_id, build).result


def moved(uow: OrderUnitOfWork, store_id: str, deltas: Mapping[str, int], at: datetime, writes: Writes) -> list[Move]:
    """Inside a build: each product's stock moved by its delta (negative: taken), read afresh and
    written guarded by the version read; `out_of_stock` if any is taken beyond what there is."""
    counts = uow.stock.read(store_id, sorted(deltas))
    planned = moves({product_id: count.stock for product_id, count in counts.items()}, deltas)
    for move in planned:
        write_stock(writes, StockRecord(store_id, move.product_id, move.after, at), counts[move.product_id].version)
    return planned


def check_in_stock(uow: OrderUnitOfWork, store_id: str, lines: Iterable[OrderLine]) -> None:
    """`out_of_stock` before anything is asked of a payment provider for an order that cannot be had
    (its commit checks again, on the count it writes)."""
    wanted = units_wanted(lines, uow.catalog.get(store_id)[1])
    if wanted:
        counts = uow.stock.read(store_id, sorted(wanted))
        check_available(wanted, {product_id: count.stock for product_id, count in counts.items()})


def take_for_order(
    uow: OrderUnitOfWork, products: Mapping[str, Product], order: Order, writes: Writes
) -> tuple[Order, list[JournalEvent]]:
    """Inside the build of the order's commit: the units of its tracked products taken, and kept on
    the order line by line; `stock.taken` and any `stock.low` to journal after its `order.placed`."""
    wanted = units_wanted(order.lines, products)
    if not wanted:
        return order, []
    taken = moved(
        uow, order.store_id, {product_id: -units for product_id, units in wanted.items()}, order.created_at, writes
    )
    held = {line.id: line.quantity for line in order.lines if line.product_id in wanted}
    return replace(order, stock_held=held), [taken_event(order.id, taken), *low_events(taken, products)]


def give_back(
    uow: OrderUnitOfWork,
    before: Order,
    after: Order,
    change: OrderChange,
    refund_id: str | None,
    writes: Writes,
    at: datetime,
) -> tuple[Order, list[JournalEvent]]:
    """Inside the build of an order's change: what `after` no longer holds of the stock `before` took
    goes back (canceled, rejected, voided, refunded with `restock`), with its `stock.returned`. One
    order's change per commit: two in one build would each write the same counts."""
    restocked = change.refund_lines if change.restock else {}
    held = held_after(before, after, restocked)
    units = released(before, held)
    after = replace(after, stock_held=held)
    if not units:
        return after, []
    returned = moved(uow, before.store_id, units, at, writes)
    return after, [returned_event(before.id, return_reason(after, restocked), refund_id, returned)]


def offered(uow: OrderUnitOfWork, store_id: str, products: Iterable[Product]) -> list[Product]:
    """The menu's products, a tracked one at 0 unavailable: one read for all their counts."""
    products = list(products)
    tracked = [product.id for product in products if product.stock_tracked]
    counts = uow.stock.read(store_id, tracked) if tracked else {}
    return [
        replace(product, available=False)
        if product.id in counts and sold_out(product, counts[product.id].stock)
        else product
        for product in products
    ]
