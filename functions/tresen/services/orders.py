"""Use cases around orders: place one, read it as its customer, list and read them as staff."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..adapters import giftcard_store as gc_store
from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..adapters.clock import new_id, new_secret_token
from ..adapters.payments import provider
from .unit_of_work import Claims, Counter, Plan
from .unit_of_work import Writes
from ..domain.catalog import Product, Store
from ..domain.closings import sale_record
from ..domain.errors import DomainError, FieldError
from ..domain.journal import JournalEvent, pseudonym
from ..domain.money import vat_records
from ..domain.order_giftcards import hold_at_placement, plan_uses, settle
from ..domain.orders import (
    Order,
    OrderRequest,
    PaymentRef,
    SoldCard,
    check_giftcard_sale,
    check_orderable,
    invoice_number,
    new_order,
    price_cart,
)
from ..domain.payments import PaymentRecord
from ..domain.refunds import Refund, paid


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    access_token: str


@dataclass(frozen=True)
class OrderView:
    """An order as it is shown, with its refunds (they live in their own collection)."""

    order: Order
    refunds: tuple[Refund, ...] = ()


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderView]
    next_cursor: str | None


def catalog_or_404(backend: Backend, store_id: str) -> tuple[Store, dict[str, Product]]:
    store, products = backend.catalog.get(store_id)
    if store is None:
        raise DomainError("store_not_found", f"There is no store {store_id!r}.")
    return store, products


def menu(backend: Backend, store_id: str) -> tuple[Store, list[Product], datetime]:
    store, products = catalog_or_404(backend, store_id)
    return store, list(products.values()), backend.now()


def place_order(
    backend: Backend,
    store_id: str,
    request: OrderRequest,
    actor: Mapping[str, Any],
) -> PlacedOrder:
    store, products = catalog_or_404(backend, store_id)
    now = backend.now()
    check_orderable(store, request, now)
    cart = price_cart(products, request.items, request.tip)
    check_giftcard_sale(request, cart)
    order_id = new_id("ord_")
    access_token = new_secret_token()
    uses, due, payment = payment_for(backend, store, request, order_id, cart.totals.total, now)
    sold = sold_cards(cart, access_token, store, now, order_id)
    pii_key = repo.pii_key(backend.docs, store_id)

    def build(claims: Claims) -> Plan[PlacedOrder]:
        number = claims.next(Counter("pickup_numbers", store.business_day(now).isoformat()), order_id)
        cards_sold = tuple(card for card, _ in sold.values())
        order = new_order(
            order_id=order_id,
            store=store,
            request=request,
            cart=cart,
            number=number,
            now=now,
            payment=payment,
            gift_cards=uses,
            cards_sold=cards_sold,
        )
        unsettled = replace(order, status="awaiting_payment")
        if request.payment_method == "online" and due == 0:  # the cards pay for all of it
            order = replace(order, status="paid", payment_status="paid", expires_at=None)
        holds = hold_at_placement(order, now)
        order, settling = settle(unsettled, order, now)  # on site or paid at once: captured now
        if paid(order):
            year = store.local(now).year
            n = claims.next(Counter("invoice_numbers", str(year)), order_id)
            order = replace(order, invoice_number=invoice_number(store.invoice_series, year, n))
        writes = Writes(dict(actor))
        fresh = {card.card_key: pending for card, pending in sold.values()}
        gc_store.apply_card_ops(backend.docs, holds + settling, writes, fresh)
        sale = {"sale": sale_record(order)} if order.invoice_number else {}
        placed = JournalEvent("order.placed", placed_event(order, pii_key) | sale)
        events = [placed, *writes.events, *paid_at_once(order)]
        writes.new_order(order, token_hash(access_token))
        if payment:
            writes.new_payment(payment_record(order, payment, now))
        return Plan(PlacedOrder(order, access_token), now, actor, events, writes)

    return backend.commit(store_id, build).result


def payment_for(backend: Backend, store: Store, request: OrderRequest, order_id: str, total: int, now: datetime):
    """(the gift cards' shares, what is left to pay, the provider's payment for it if paid online)."""
    found = [gc_store.find_card(backend.docs, code)[:2] for code, _ in request.gift_cards]
    uses = plan_uses(found, [amount for _, amount in request.gift_cards], store.id, total, now)
    due = total - sum(use.amount for use in uses)
    payment = None
    if request.payment_method == "online" and due > 0:
        payment = provider(request.provider or store.online_providers[0]).create_payment(
            order_id=order_id, store_id=store.id, amount=due, currency=store.currency
        )
    return uses, due, payment


def paid_at_once(order: Order) -> list[JournalEvent]:
    """`order.paid` when gift cards paid all of it at placement (after their captures)."""
    if order.payment_status != "paid":
        return []
    paid_by_cards = {"order_id": order.id, "invoice_number": order.invoice_number, "amount": 0}
    return [JournalEvent("order.paid", paid_by_cards | {"gift_card_amount": order.gift_card_amount})]


def payment_record(order: Order, payment: PaymentRef, now: datetime) -> PaymentRecord:
    """Our record of the provider's payment: what it is to charge, for which order."""
    return PaymentRecord(payment.id, order.store_id, order.id, payment.provider, order.amount_due, order.currency, now)


def sold_cards(cart, access_token: str, store: Store, now: datetime, order_id: str) -> dict[str, tuple]:
    """The pending cards a cart's gift-card lines sell, by code: derived from the order's access
    token, so only its holder can be shown the codes (the database keeps none)."""
    sold = {}
    for line in cart.lines:
        if line.kind != "giftcard":
            continue
        for index in range(line.quantity):
            code = sold_card_code(access_token, line.id, index)
            key = gc_store.keyed_hash(code)
            pending = gc_store.new_pending_card(store, code, now, order_id)
            sold[code] = (SoldCard(pending.id, key, pending.last4, line.unit_price, line.id), pending)
    return sold


def sold_card_code(access_token: str, line_id: str, index: int) -> str:
    return gc_store.derived_code(f"order:{access_token}:{line_id}:{index}")


def placed_event(order: Order, pii_key: bytes) -> dict[str, Any]:
    """The journal's record of a new order: amounts in full, personal data only as keyed hashes."""
    return {
        "order_id": order.id,
        "number": order.number,
        "business_day": order.business_day.isoformat(),
        "status": order.status,
        "payment_method": order.payment_method,
        "payment_id": order.payment.id if order.payment else None,
        "invoice_number": order.invoice_number,
        "currency": order.currency,
        "lines": [
            {
                "line_id": line.id,
                "product_id": line.product_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "vat_rate": line.vat_rate,
                "total": line.total,
                "kind": line.kind,
                "options": [option.id for option in line.options],
            }
            for line in order.lines
        ],
        "totals": {
            "subtotal": order.totals.subtotal,
            "discount": order.totals.discount,
            "tip": order.totals.tip,
            "total": order.totals.total,
            "vat": vat_records(order.totals.vat),
            "giftcards_sold": order.totals.giftcards_sold,  # a liability, not revenue
        },
        # paid by gift cards (a payment method); the provider or the counter collects the rest
        "gift_card_amount": order.gift_card_amount,
        "gift_cards": [{"card_id": u.card_id, "amount": u.amount} for u in order.gift_cards],
        "cards_sold": [{"card_id": c.card_id, "line_id": c.line_id, "amount": c.amount} for c in order.cards_sold],
        "fulfilment_type": order.fulfilment.type,
        "customer": {
            "name": pseudonym(pii_key, order.customer.name),
            "email": pseudonym(pii_key, order.customer.email),
        },
    }


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def order_for_customer(backend: Backend, order_id: str, token: str | None) -> OrderView:
    return with_refunds(backend, customer_order(backend, order_id, token))


def customer_order(backend: Backend, order_id: str, token: str | None) -> Order:
    """The order if the token is its own; the same 404 otherwise, so existence never leaks."""
    not_found = DomainError("order_not_found", "No order with this id and token.")
    if not token:
        raise not_found
    found = backend.docs.get(repo.order_path(order_id))
    stored = found.data["access_token_hash"] if found else "0" * 64
    if not hmac.compare_digest(stored, token_hash(token)) or not found:
        raise not_found
    return repo.order_from_doc(found.data)


def order_for_staff(backend: Backend, store_id: str, order_id: str) -> Order:
    return repo.read_store_order(backend.docs, store_id, order_id)[0]


def order_view_for_staff(backend: Backend, store_id: str, order_id: str) -> OrderView:
    return with_refunds(backend, order_for_staff(backend, store_id, order_id))


def with_refunds(backend: Backend, order: Order) -> OrderView:
    return OrderView(order, refunds_by_order(backend, [order.id])[order.id])


def refunds_by_order(backend: Backend, order_ids: list[str]) -> dict[str, tuple[Refund, ...]]:
    """The orders' refunds, oldest first."""
    found: dict[str, list[Refund]] = {order_id: [] for order_id in order_ids}
    for refund in repo.refunds_of_orders(backend.docs, order_ids):
        found[refund.order_id].append(refund)
    return {order_id: tuple(sorted(refunds, key=lambda r: (r.created_at, r.id))) for order_id, refunds in found.items()}


def list_orders(
    backend: Backend, store_id: str, *, status: str | None, since: datetime | None, limit: int, cursor: str | None
) -> OrderPage:
    """Newest first; the cursor is the (created_at, id) of the last order of the previous page."""
    where = [("store_id", "==", store_id)]
    if status:
        where.append(("status", "==", status))
    if since:
        where.append(("created_at", ">=", since))
    newest_first = [("created_at", True), ("id", True)]
    start = decode_cursor(cursor) if cursor else None
    snapshots = backend.docs.query("orders", where=where, order_by=newest_first, limit=limit + 1, start_after=start)
    orders = [repo.order_from_doc(s.data) for s in snapshots[:limit]]
    has_more = len(snapshots) > limit
    refunds = refunds_by_order(backend, [order.id for order in orders])
    views = [OrderView(order, refunds[order.id]) for order in orders]
    return OrderPage(views, encode_cursor(orders[-1]) if has_more else None)


def encode_cursor(order: Order) -> str:
    raw = json.dumps([order.created_at.isoformat(), order.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        created_at, order_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return {"created_at": datetime.fromisoformat(created_at), "id": str(order_id)}
    except (ValueError, TypeError):
        raise DomainError(
            "validation_failed", "The cursor is not one we issued.", [FieldError("cursor", "invalid")]
        ) from None
