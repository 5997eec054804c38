"""Suppliers and the purchase orders a store sends them, and what arrives of them (no I/O).

A purchase order's line names a product of the catalog, whose name it takes from there, or a free
`name`: raw material the store does not sell (flour, milk). Quantities are whole numbers of the
line's unit ("Stück", "kg", "l"), as the stock counts whole units: a half kilo is ordered as 500 g.

Goods arrive in one delivery or in several: each receipt adds to its lines' `received`, never beyond
what the line ordered (`over_delivery`, and nothing of that receipt is taken). The order is `sent`
until something arrives, `partially_received` while a line is open, and `received` when every line
has all it ordered.

The order keeps its supplier as it was when the order was sent (the address it was mailed to, the
customer number it named), and is numbered `PO-{year}-{n:06d}`, gap-free per store and year (the
store's year of sending).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from .catalog import Product
from .customer_fields import EMAIL
from .errors import DomainError, FieldError
from .events import PurchaseOrderCreated, PurchaseOrderReceived, SupplierCreated
from .journal import JournalEvent, pseudonym

SENT, PARTIALLY_RECEIVED, RECEIVED = "sent", "partially_received", "received"


@dataclass(frozen=True)
class Supplier:
    id: str
    store_id: str
    name: str
    email: str  # where its purchase orders are mailed
    customer_number: str | None  # the store's customer number at the supplier, printed on each order
    created_at: datetime


@dataclass(frozen=True)
class LineAsked:
    """A line as staff ask for it: a product of the catalog, or a free name."""

    product_id: str | None
    name: str | None
    quantity: int
    unit: str


@dataclass(frozen=True)
class PurchaseLine:
    line: int  # 1, 2, 3 … as asked: what a receipt names it by
    product_id: str | None  # None: a free line
    name: str
    quantity: int
    unit: str
    received: int = 0


@dataclass(frozen=True)
class Arrival:
    """Units of one line that arrived."""

    line: int
    quantity: int


@dataclass(frozen=True)
class Receipt:
    received_at: datetime
    arrivals: tuple[Arrival, ...]


@dataclass(frozen=True)
class PurchaseOrder:
    id: str
    store_id: str
    number: str
    supplier: Supplier  # as it was when the order was sent
    lines: tuple[PurchaseLine, ...]
    created_at: datetime
    receipts: tuple[Receipt, ...] = ()

    @property
    def status(self) -> str:
        if all(line.received == line.quantity for line in self.lines):
            return RECEIVED
        return PARTIALLY_RECEIVED if any(line.received for line in self.lines) else SENT


def check_email(email: str) -> None:
    """An address a mail can be sent to (domain/mail.py holds every recipient to it)."""
    if not EMAIL.fullmatch(email):
        missing = FieldError("email", "not an e-mail address")
        raise DomainError("validation_failed", "Purchase orders cannot be mailed to this address.", [missing])


def purchase_order_number(year: int, n: int) -> str:
    return f"PO-{year}-{n:06d}"


def lines_of(asked: Sequence[LineAsked], products: Mapping[str, Product]) -> tuple[PurchaseLine, ...]:
    """The order's lines, numbered from 1, each named by its product or its free name;
    `validation_failed` naming each line that is neither, both, or of a product the store lacks."""
    problems = []
    for index, line in enumerate(asked):
        if (line.product_id is None) == (line.name is None):
            problems.append(FieldError(f"lines[{index}]", "either a product_id or a free name"))
        elif line.product_id is not None and line.product_id not in products:
            problems.append(FieldError(f"lines[{index}].product_id", "no product with this id in the store"))
    if problems:
        raise DomainError("validation_failed", "The purchase order's lines cannot be ordered as given.", problems)
    return tuple(
        PurchaseLine(
            number,
            line.product_id,
            products[line.product_id].name if line.product_id else line.name,
            line.quantity,
            line.unit,
        )
        for number, line in enumerate(asked, start=1)
    )


def received(order: PurchaseOrder, arrivals: Sequence[Arrival], at: datetime) -> PurchaseOrder:
    """The order with `arrivals` received at `at`. `validation_failed` for a line it lacks or one
    named twice; `over_delivery` naming, in `lines`, each line more arrived for than was open."""
    lines = {line.line: line for line in order.lines}
    problems, seen = [], set()
    for index, arrival in enumerate(arrivals):
        if arrival.line not in lines:
            problems.append(FieldError(f"lines[{index}].line", f"the order has no line {arrival.line}"))
        elif arrival.line in seen:
            problems.append(FieldError(f"lines[{index}].line", f"line {arrival.line} is named twice"))
        seen.add(arrival.line)
    if problems:
        raise DomainError("validation_failed", "The receipt names a line the order lacks, or one twice.", problems)
    over = [
        {"line": arrival.line, "open": lines[arrival.line].quantity - lines[arrival.line].received}
        for arrival in arrivals
        if lines[arrival.line].received + arrival.quantity > lines[arrival.line].quantity
    ]
    if over:
        named = ", ".join(f"line {line['line']}: {line['open']} open" for line in over)
        raise DomainError("over_delivery", f"More arrived than was ordered ({named}).", extra={"lines": over})
    arrived = {arrival.line: arrival.quantity for arrival in arrivals}
    return replace(
        order,
        lines=tuple(replace(line, received=line.received + arrived.get(line.line, 0)) for line in order.lines),
        receipts=(*order.receipts, Receipt(at, tuple(arrivals))),
    )


def deliveries(order: PurchaseOrder, arrivals: Iterable[Arrival], tracked: Iterable[str]) -> dict[str, int]:
    """product id → the units that arrived of each stock-tracked product (its lines add up)."""
    product_of = {line.line: line.product_id for line in order.lines}
    tracked = set(tracked)
    units: dict[str, int] = {}
    for arrival in arrivals:
        product_id = product_of[arrival.line]
        if product_id in tracked:
            units[product_id] = units.get(product_id, 0) + arrival.quantity
    return units


def supplier_created(supplier: Supplier, pii_key: bytes) -> JournalEvent:
    """The address as a keyed pseudonym: a supplier's may name a person (`anna.schmidt@…`)."""
    created = SupplierCreated(
        supplier_id=supplier.id,
        name=supplier.name,
        email=pseudonym(pii_key, supplier.email),
        customer_number=supplier.customer_number,
    )
    return JournalEvent.of(created)


def purchase_order_created(order: PurchaseOrder) -> JournalEvent:
    ordered = ("line", "product_id", "name", "quantity", "unit")  # not what was received: nothing yet
    lines = [{field: getattr(line, field) for field in ordered} for line in order.lines]
    created = PurchaseOrderCreated(
        purchase_order_id=order.id, number=order.number, supplier_id=order.supplier.id, lines=lines
    )
    return JournalEvent.of(created)


def purchase_order_received(after: PurchaseOrder, arrivals: Iterable[Arrival]) -> JournalEvent:
    in_all = {line.line: line.received for line in after.lines}
    lines = [
        {"line": arrival.line, "quantity": arrival.quantity, "received": in_all[arrival.line]} for arrival in arrivals
    ]
    received_now = PurchaseOrderReceived(
        purchase_order_id=after.id, number=after.number, lines=lines, status=after.status
    )
    return JournalEvent.of(received_now)
