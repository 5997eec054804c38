"""Suppliers, and the purchase orders a store sends them: each change one commit, journaled.

- A purchase order is numbered in the commit that creates it (the counter `PURCHASE_ORDER_NUMBERS`
  of its year, as invoice numbers are), and its e-mail to the supplier, with the order as PDF and
  CSV, goes into the mail outbox in that same commit: the mail exists exactly when the order does,
  and the outbox sends it after the commit.
- Receiving goods writes the order guarded by the version read and moves the stock of the
  stock-tracked products among them in the same commit (services/stock.py `moved`, read afresh in
  the build): a conflict with another receipt, or with a sale of the product, builds again on what
  that left, so no unit is counted twice and no receipt goes beyond what was ordered.

The PDF and the mail are made in the commit's build; fpdf is loaded with the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.catalog import Product
from ..domain.errors import DomainError, FieldError
from ..domain.purchase_orders import (
    Arrival,
    LineAsked,
    PurchaseOrder,
    Supplier,
    check_email,
    deliveries,
    lines_of,
    purchase_order_created,
    purchase_order_number,
    purchase_order_received,
    received,
    supplier_created,
)
from ..domain.stock import adjusted_event
from .order_ports import catalog_or_404
from .purchase_order_ports import (
    PURCHASE_ORDER_NUMBERS,
    PurchasingUnitOfWork,
    Version,
    write_purchase_order,
    write_supplier,
)
from .stock import moved
from .unit_of_work import Claims, Counter, Plan, Writes

# -- suppliers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateSupplier:
    store_id: str
    name: str
    email: str
    customer_number: str | None  # the store's at the supplier
    actor: Mapping[str, Any]


def create_supplier(command: CreateSupplier, uow: PurchasingUnitOfWork) -> Supplier:
    catalog_or_404(uow, command.store_id)
    check_email(command.email)
    now = uow.now()
    supplier = Supplier(uow.new_id("sup_"), command.store_id, command.name, command.email, command.customer_number, now)
    created = supplier_created(supplier, uow.stores.pii_key(command.store_id))

    def build(_claims: Claims) -> Plan[Supplier]:
        writes = Writes(command.actor)
        write_supplier(writes, supplier)
        return Plan(supplier, now, command.actor, [created], writes)

    return uow.commit(command.store_id, build).result


def suppliers(uow: PurchasingUnitOfWork, store_id: str) -> list[Supplier]:
    catalog_or_404(uow, store_id)
    return uow.suppliers.of_store(store_id)


# -- purchase orders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatePurchaseOrder:
    store_id: str
    supplier_id: str
    lines: tuple[LineAsked, ...]
    actor: Mapping[str, Any]


def create_purchase_order(command: CreatePurchaseOrder, uow: PurchasingUnitOfWork) -> PurchaseOrder:
    """Numbered and mailed to its supplier in one commit; `validation_failed` for a supplier or a
    product the store does not have."""
    from ..domain.purchase_order_mail import purchase_order_mail  # and with it fpdf: where an order is made

    store, _ = catalog_or_404(uow, command.store_id)
    supplier = uow.suppliers.read(store.id, command.supplier_id)
    if supplier is None:
        missing = FieldError("supplier_id", "no supplier with this id in the store")
        raise DomainError("validation_failed", "The store has no such supplier.", [missing])
    named = {line.product_id for line in command.lines if line.product_id}
    lines = lines_of(command.lines, products_of(uow, store.id, named))
    order_id, now = uow.new_id("po_"), uow.now()
    year = store.local(now).year

    def build(claims: Claims) -> Plan[PurchaseOrder]:
        n = claims.next(Counter(PURCHASE_ORDER_NUMBERS, str(year)), order_id)
        order = PurchaseOrder(order_id, store.id, purchase_order_number(year, n), supplier, lines, now)
        writes = Writes(command.actor)
        write_purchase_order(writes, order)
        writes.mail(purchase_order_mail(store, order))
        return Plan(order, now, command.actor, [purchase_order_created(order)], writes)

    return uow.commit(store.id, build).result


def products_of(uow: PurchasingUnitOfWork, store_id: str, product_ids: Iterable[str]) -> dict[str, Product]:
    """The products of these ids the store has: those on the menu from its cache, the others (taken
    off the menu, still orderable from a supplier) as stored."""
    _, menu = catalog_or_404(uow, store_id)
    found = {product_id: menu[product_id] for product_id in product_ids if product_id in menu}
    for product_id in set(product_ids) - found.keys():
        stored = uow.products.read(store_id, product_id)
        if stored is not None:
            found[product_id] = stored[0]
    return found


def purchase_order_or_404(
    uow: PurchasingUnitOfWork, store_id: str, purchase_order_id: str
) -> tuple[PurchaseOrder, Version]:
    found = uow.purchase_orders.read(store_id, purchase_order_id)
    if found is None:
        raise DomainError("purchase_order_not_found", f"Store {store_id} has no purchase order {purchase_order_id!r}.")
    return found


@dataclass(frozen=True)
class ReceiveGoods:
    store_id: str
    purchase_order_id: str
    arrivals: tuple[Arrival, ...]
    actor: Mapping[str, Any]


def receive_goods(command: ReceiveGoods, uow: PurchasingUnitOfWork) -> PurchaseOrder:
    """What arrived, in one commit: the order's lines' `received`, the stock of its stock-tracked
    products (`purchase_order.received`, then a `stock.adjusted` of reason `delivery` each);
    `over_delivery` if more arrived than a line has open."""
    store_id = command.store_id
    first = [purchase_order_or_404(uow, store_id, command.purchase_order_id)]
    ordered = first[0][0]
    arrived_lines = {arrival.line for arrival in command.arrivals}
    named = {line.product_id for line in ordered.lines if line.product_id and line.line in arrived_lines}
    tracked = [product.id for product in products_of(uow, store_id, named).values() if product.stock_tracked]
    now = uow.now()

    def build(_claims: Claims) -> Plan[PurchaseOrder]:
        order, read_at = first.pop() if first else purchase_order_or_404(uow, store_id, command.purchase_order_id)
        after = received(order, command.arrivals, now)
        writes = Writes(command.actor)
        write_purchase_order(writes, after, read_at)
        units = deliveries(order, command.arrivals, tracked)
        moves = moved(uow, store_id, units, now, writes) if units else []
        # a delivery only adds: no move of it crosses a low-stock threshold downward
        stocked = [adjusted_event(move.product_id, "delivery", move) for move in moves]
        return Plan(after, now, command.actor, [purchase_order_received(after, command.arrivals), *stocked], writes)

    return uow.commit(store_id, build).result


def purchase_orders(uow: PurchasingUnitOfWork, store_id: str, limit: int) -> list[PurchaseOrder]:
    catalog_or_404(uow, store_id)
    return uow.purchase_orders.of_store(store_id, limit)


def purchase_order(uow: PurchasingUnitOfWork, store_id: str, purchase_order_id: str) -> PurchaseOrder:
    return purchase_order_or_404(uow, store_id, purchase_order_id)[0]


@dataclass(frozen=True)
class PurchaseOrderDocument:
    filename: str
    pdf: bytes


def purchase_order_document(uow: PurchasingUnitOfWork, store_id: str, purchase_order_id: str) -> PurchaseOrderDocument:
    """The order's PDF as its supplier got it (the same bytes while the store's name and address are
    as they were)."""
    from ..domain.purchase_order_pdf import purchase_order_filename, purchase_order_pdf

    order = purchase_order(uow, store_id, purchase_order_id)
    store, _ = catalog_or_404(uow, store_id)
    return PurchaseOrderDocument(purchase_order_filename(order, "pdf"), purchase_order_pdf(store, order))
