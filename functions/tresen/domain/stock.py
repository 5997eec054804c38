"""Stock: how many units of a tracked product a store has, and what orders and staff do to it.

A product whose stock is tracked (`Product.stock_tracked`) is sold from its stock only: placing an
order takes its units in the order's own commit, and an order for more than there is fails with
`out_of_stock`, naming what is left of each product it is short of. At 0 the product is sold out by
itself, whatever the catalog says. The count is kept apart from the product (services/stock.py): a
sale must not change the catalog every instance caches.

What an order took is kept on it, line by line (`Order.stock_held`), so what goes back is what it
took: all of it when it is canceled or rejected, a voided line's units, the refunded units of a
refund by lines made with `restock`. A product that became tracked after the order was placed gets
nothing back that the order never took.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .catalog import Product
from .errors import DomainError
from .events import StockAdjusted, StockLow, StockReturned, StockTaken
from .journal import JournalEvent
from .orders import Order, OrderLine

ADJUST_REASONS = ("delivery", "count", "waste", "correction")
HOLDS_NOTHING = ("canceled", "rejected")  # an order in these gave back everything it took


@dataclass(frozen=True)
class Move:
    """One product's stock moved by one commit."""

    product_id: str
    quantity: int  # units moved: taken or given back
    before: int
    after: int


def sold_out(product: Product, stock: int) -> bool:
    """A tracked product at 0 is not on offer, whatever its `available` says."""
    return product.stock_tracked and stock <= 0


def units_wanted(lines: Iterable[OrderLine], products: Mapping[str, Product]) -> dict[str, int]:
    """product id → the units the lines take of each tracked product (its lines add up)."""
    wanted: dict[str, int] = {}
    for line in lines:
        product = products.get(line.product_id)
        if product is not None and product.stock_tracked:
            wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    return wanted


def check_available(wanted: Mapping[str, int], stock: Mapping[str, int]) -> None:
    """`out_of_stock` naming, in `available`, what is left of each product there is too little of."""
    short = {
        product_id: max(stock[product_id], 0) for product_id in sorted(wanted) if stock[product_id] < wanted[product_id]
    }
    if short:
        left = ", ".join(f"{product_id}: {units}" for product_id, units in short.items())
        raise DomainError("out_of_stock", f"Not enough in stock ({left} left).", extra={"available": short})


def moves(stock: Mapping[str, int], deltas: Mapping[str, int]) -> list[Move]:
    """Each product's stock moved by its delta (negative: taken), by product id; `out_of_stock` if
    any is taken beyond what there is."""
    check_available({product_id: -delta for product_id, delta in deltas.items() if delta < 0}, stock)
    return [
        Move(product_id, abs(delta), stock[product_id], stock[product_id] + delta)
        for product_id, delta in sorted(deltas.items())
    ]


def held_after(before: Order, after: Order, restocked: Mapping[str, int]) -> dict[str, int]:
    """line id → the units `after` still holds of those `before` took: none once it is canceled or
    rejected; no more than a line's (voided) quantity; less a restocking refund's units."""
    if after.status in HOLDS_NOTHING:
        return {}
    quantities = {line.id: line.quantity for line in after.lines}
    kept = {
        line_id: min(units - restocked.get(line_id, 0), quantities.get(line_id, 0))
        for line_id, units in before.stock_held.items()
    }
    return {line_id: units for line_id, units in kept.items() if units > 0}


def released(before: Order, held: Mapping[str, int]) -> dict[str, int]:
    """product id → the units `before` held and no longer does (lines of one product add up)."""
    product_of = {line.id: line.product_id for line in before.lines}
    units: dict[str, int] = {}
    for line_id, was_held in before.stock_held.items():
        if was_held > held.get(line_id, 0):
            product_id = product_of[line_id]
            units[product_id] = units.get(product_id, 0) + was_held - held.get(line_id, 0)
    return units


def return_reason(after: Order, restocked: Mapping[str, int]) -> str:
    if after.status in HOLDS_NOTHING:
        return after.status
    return "refund" if restocked else "voided"


def adjusted(before: int, adjust: int | None, set_to: int | None) -> int:
    """The stock after staff changed it by `adjust` units or set it to `set_to`; never below 0."""
    after = set_to if set_to is not None else before + (adjust or 0)
    if after < 0:
        raise DomainError(
            "insufficient_stock", f"Only {before} in stock: it cannot go below 0.", extra={"stock": before}
        )
    return after


def became_low(move: Move, low_stock_at: int | None) -> bool:
    """The stock crossed its threshold downward: from above it to at or below it."""
    return low_stock_at is not None and move.before > low_stock_at >= move.after


def low_events(moves: Iterable[Move], products: Mapping[str, Product]) -> list[JournalEvent]:
    """`stock.low` for each tracked product the moves took below its threshold."""
    events = []
    for move in moves:
        product = products.get(move.product_id)
        if product is not None and product.stock_tracked and became_low(move, product.low_stock_at):
            low = StockLow(product_id=move.product_id, stock=move.after, low_stock_at=product.low_stock_at)
            events.append(JournalEvent.of(low))
    return events


def moves_of(moves: Iterable[Move]) -> list[dict]:
    return [{"product_id": m.product_id, "quantity": m.quantity, "before": m.before, "after": m.after} for m in moves]


def taken_event(order_id: str, moves: list[Move]) -> JournalEvent:
    return JournalEvent.of(StockTaken(order_id=order_id, products=moves_of(moves)))


def returned_event(order_id: str, reason: str, refund_id: str | None, moves: list[Move]) -> JournalEvent:
    refund = {"refund_id": refund_id} if reason == "refund" else {}
    return JournalEvent.of(StockReturned(order_id=order_id, reason=reason, products=moves_of(moves), **refund))


def adjusted_event(product_id: str, reason: str, move: Move) -> JournalEvent:
    changed = StockAdjusted(product_id=product_id, reason=reason, before=move.before, after=move.after)
    return JournalEvent.of(changed)
