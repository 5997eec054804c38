"""Reading orders: the menu, an order as its customer sees it, the store's orders as staff see them."""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass, replace
from datetime import datetime

from ..domain.catalog import Product, Store
from ..domain.errors import DomainError, FieldError
from ..domain.orders import Order
from ..domain.refunds import Refund
from .order_ports import OrderCursor, OrderUnitOfWork
from .orders import catalog_or_404, sold_card_code, token_hash
from .stock import offered


@dataclass(frozen=True)
class OrderView:
    """An order as it is shown, with its refunds (they live in their own collection)."""

    order: Order
    refunds: tuple[Refund, ...] = ()
    card_codes: tuple[str | None, ...] = ()  # of the cards it sold, for its customer, once active
    customer_id: str | None = None  # staff views: the customer record it belongs to


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderView]
    next_cursor: str | None


@dataclass(frozen=True)
class Menu:
    store: Store
    products: list[Product]
    now: datetime
    online_providers: tuple[str, ...]  # those that can take a payment now


def menu(uow: OrderUnitOfWork, store_id: str) -> Menu:
    """The store's products on offer, a tracked one unavailable once its stock is 0."""
    store, products = catalog_or_404(uow, store_id)
    return Menu(store, offered(uow, store_id, products.values()), uow.now(), uow.offered_providers(store))


def order_for_customer(uow: OrderUnitOfWork, order_id: str, token: str | None) -> OrderView:
    """The order with its refunds and the codes of the cards it sold, for the holder of its token."""
    order = customer_order(uow, order_id, token)
    return OrderView(order, refunds_by_order(uow, [order.id])[order.id], sold_card_codes(uow, order, token))


def customer_order(uow: OrderUnitOfWork, order_id: str, token: str | None) -> Order:
    """The order if the token is its own; the same 404 otherwise, so existence never leaks."""
    not_found = DomainError("order_not_found", "No order with this id and token.")
    if not token:
        raise not_found
    found = uow.orders.read_with_token_hash(order_id)
    stored = found[1] if found else "0" * 64  # compared all the same: the time tells nothing either
    if not hmac.compare_digest(stored, token_hash(token)) or not found:
        raise not_found
    return found[0]


def sold_card_codes(uow: OrderUnitOfWork, order: Order, access_token: str) -> tuple[str | None, ...]:
    """The code of each card the order sold, once it is active (derived again from the token)."""
    codes, index_in_line = [], {}
    for card in order.cards_sold:
        index = index_in_line[card.line_id] = index_in_line.get(card.line_id, -1) + 1
        codes.append(sold_card_code(uow, access_token, card.line_id, index) if card.status == "active" else None)
    return tuple(codes)


def order_for_staff(uow: OrderUnitOfWork, store_id: str, order_id: str) -> Order:
    return uow.orders.read_in_store(store_id, order_id)[0]


def order_view_for_staff(uow: OrderUnitOfWork, store_id: str, order_id: str) -> OrderView:
    order = order_for_staff(uow, store_id, order_id)
    return replace(with_refunds(uow, order), customer_id=linked_customers(uow, store_id, [order]).get(order.id))


def linked_customers(uow: OrderUnitOfWork, store_id: str, orders: list[Order]) -> dict[str, str]:
    """order id → the store's customer record the order's e-mail or phone belongs to, if any."""
    keys = sorted({key for order in orders for key in order.contact_keys})
    holders = uow.customers.holders(store_id, keys) if keys else {}
    return {
        order.id: holder
        for order in orders
        if (holder := next((holders[key] for key in order.contact_keys if key in holders), None))
    }


def with_refunds(uow: OrderUnitOfWork, order: Order) -> OrderView:
    return OrderView(order, refunds_by_order(uow, [order.id])[order.id])


def refunds_by_order(uow: OrderUnitOfWork, order_ids: list[str]) -> dict[str, tuple[Refund, ...]]:
    """The orders' refunds, oldest first."""
    found: dict[str, list[Refund]] = {order_id: [] for order_id in order_ids}
    for refund in uow.refunds.of_orders(order_ids):
        found[refund.order_id].append(refund)
    return {order_id: tuple(sorted(refunds, key=lambda r: (r.created_at, r.id))) for order_id, refunds in found.items()}


def list_orders(
    uow: OrderUnitOfWork,
    store_id: str,
    *,
    status: str | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
) -> OrderPage:
    """Newest first; the cursor is the (created_at, id) of the last order of the previous page."""
    after = decode_cursor(cursor) if cursor else None
    found = uow.orders.newest_first(store_id, status=status, since=since, after=after, limit=limit + 1)
    orders = found[:limit]
    refunds = refunds_by_order(uow, [order.id for order in orders])
    linked = linked_customers(uow, store_id, orders)
    views = [OrderView(order, refunds[order.id], customer_id=linked.get(order.id)) for order in orders]
    return OrderPage(views, encode_cursor(orders[-1]) if len(found) > limit else None)


def encode_cursor(order: Order) -> str:
    raw = json.dumps([order.created_at.isoformat(), order.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> OrderCursor:
    try:
        created_at, order_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return OrderCursor(datetime.fromisoformat(created_at), str(order_id))
    except (ValueError, TypeError):
        raise DomainError(
            "validation_failed", "The cursor is not one we issued.", [FieldError("cursor", "invalid")]
        ) from None
