"""Use cases around orders: place one, read it as its customer, list and read them as staff."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..adapters.clock import new_id, new_secret_token
from ..adapters.payments import provider
from ..adapters.store_writer import Claims, Counter, Plan
from ..domain.catalog import Product, Store
from ..domain.changes import OrderChange
from ..domain.errors import DomainError, FieldError
from ..domain.journal import JournalEvent, pseudonym
from ..domain.orders import Order, OrderRequest, check_orderable, invoice_number, new_order, price_cart
from ..domain.refunds import RefundRequest, plan_refund


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    access_token: str


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
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
    before_commit: list[Callable[[Any, Any], None]],
) -> PlacedOrder:
    store, products = catalog_or_404(backend, store_id)
    now = backend.now()
    check_orderable(store, request, now)
    cart = price_cart(products, request.items, request.tip)
    order_id = new_id("ord_")
    access_token = new_secret_token()
    payment = None
    if request.payment_method == "online":
        payment = provider(request.provider or store.online_providers[0]).create_payment(
            order_id=order_id, store_id=store_id, amount=cart.totals.total, currency=store.currency
        )
    pii_key = repo.pii_key(backend.db, store_id)

    def build(claims: Claims) -> Plan[PlacedOrder]:
        number = claims.next(Counter("pickup_numbers", store.business_day(now).isoformat()), order_id)
        invoice = None
        if request.payment_method == "on_site":
            year = store.local(now).year
            invoice = invoice_number(
                store.invoice_series, year, claims.next(Counter("invoice_numbers", str(year)), order_id)
            )
        order = new_order(
            order_id=order_id,
            store=store,
            request=request,
            cart=cart,
            number=number,
            now=now,
            invoice_number=invoice,
            payment=payment,
        )
        creates = {repo.order_path(order_id): repo.order_to_doc(order, token_hash(access_token))}
        if payment:
            creates[f"payments/{payment.id}"] = {
                "store_id": store_id,
                "order_id": order_id,
                "provider": payment.provider,
                "amount": order.amount_due,
                "currency": order.currency,
                "created_at": now,
            }
        return Plan(
            result=PlacedOrder(order, access_token),
            at=now,
            actor=actor,
            events=[JournalEvent("order.placed", placed_event(order, pii_key))],
            creates=creates,
        )

    return backend.writer.commit(store_id, build, before_commit).result


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
                "options": [option.id for option in line.options],
            }
            for line in order.lines
        ],
        "totals": {
            "subtotal": order.totals.subtotal,
            "discount": order.totals.discount,
            "tip": order.totals.tip,
            "total": order.totals.total,
            "vat": [{"rate": v.rate, "net": v.net, "tax": v.tax, "gross": v.gross} for v in order.totals.vat],
        },
        "fulfilment_type": order.fulfilment.type,
        "customer": {
            "name": pseudonym(pii_key, order.customer.name),
            "email": pseudonym(pii_key, order.customer.email),
        },
    }


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def order_for_customer(backend: Backend, order_id: str, token: str | None) -> Order:
    """The order if the token is its own; the same 404 otherwise, so existence never leaks."""
    not_found = DomainError("order_not_found", "No order with this id and token.")
    if not token:
        raise not_found
    snapshot = backend.db.document(repo.order_path(order_id)).get()
    stored = snapshot.get("access_token_hash") if snapshot.exists else "0" * 64
    if not hmac.compare_digest(stored, token_hash(token)) or not snapshot.exists:
        raise not_found
    return repo.order_from_doc(snapshot.to_dict())


def order_for_staff(backend: Backend, store_id: str, order_id: str) -> Order:
    snapshot = backend.db.document(repo.order_path(order_id)).get()
    if not snapshot.exists or snapshot.get("store_id") != store_id:
        raise DomainError("order_not_found", f"Store {store_id} has no order {order_id!r}.")
    return repo.order_from_doc(snapshot.to_dict())


def list_orders(
    backend: Backend, store_id: str, *, status: str | None, since: datetime | None, limit: int, cursor: str | None
) -> OrderPage:
    """Newest first; the cursor is the (created_at, id) of the last order of the previous page."""
    from google.cloud.firestore import FieldFilter, Query

    query = backend.db.collection("orders").where(filter=FieldFilter("store_id", "==", store_id))
    if status:
        query = query.where(filter=FieldFilter("status", "==", status))
    if since:
        query = query.where(filter=FieldFilter("created_at", ">=", since))
    query = query.order_by("created_at", direction=Query.DESCENDING).order_by("id", direction=Query.DESCENDING)
    if cursor:
        query = query.start_after(decode_cursor(cursor))
    snapshots = query.limit(limit + 1).get()
    orders = [repo.order_from_doc(s.to_dict()) for s in snapshots[:limit]]
    has_more = len(snapshots) > limit
    return OrderPage(orders, encode_cursor(orders[-1]) if has_more else None)


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


def change_status(
    backend: Backend, store_id: str, order_id: str, target: str, actor: Mapping[str, Any], reason: str | None
) -> Order:
    from ..domain.workflow import staff_transition
    from .order_changes import change_order

    store, _ = catalog_or_404(backend, store_id)
    now = backend.now()

    def decide(order: Order) -> OrderChange:
        return staff_transition(order, target, now, reason)

    return change_order(backend, store, order_id, decide, actor, now).order


@dataclass(frozen=True)
class RefundResult:
    id: str
    order_id: str
    amount: int
    status: str


def refund_order(
    backend: Backend,
    store_id: str,
    order_id: str,
    request: RefundRequest,
    actor: Mapping[str, Any],
    before_commit: list[Callable[[Any, Any], None]],
) -> RefundResult:
    """Pay back part or all of a paid order. The answer (stored for idempotent replays in the same
    commit) shows the refund as `pending`; the provider's answer follows right after the commit and
    is journaled (the sandbox succeeds at once)."""
    from .order_changes import change_order

    store, _ = catalog_or_404(backend, store_id)
    now = backend.now()

    def decide(order: Order) -> OrderChange:
        plan = plan_refund(order, request, now)
        return OrderChange(
            plan.order,
            refund_amount=plan.amount,
            refund_reason=request.reason or "",
            refund_vat=plan.vat,
            refund_lines=dict(request.lines),
        )

    def as_result(changed) -> RefundResult:
        at_counter = changed.order.payment_method == "on_site"  # paid out in cash at once
        return RefundResult(
            changed.refund_id, order_id, changed.refund_amount, "succeeded" if at_counter else "pending"
        )

    def respond(batch, changed) -> None:
        for hook in before_commit:
            hook(batch, as_result(changed))

    return as_result(change_order(backend, store, order_id, decide, actor, now, before_commit=[respond]))


def correct_order(
    backend: Backend,
    store_id: str,
    order_id: str,
    correct: Callable[[Order, datetime], Order],
    event: JournalEvent,
    actor: Mapping[str, Any],
) -> Order:
    """A void or discount on an unpaid order, journaled with the new totals."""
    from .order_changes import change_order

    store, _ = catalog_or_404(backend, store_id)
    now = backend.now()

    def decide(order: Order) -> OrderChange:
        changed = correct(order, now)
        totals = {
            "subtotal": changed.totals.subtotal,
            "discount": changed.totals.discount,
            "total": changed.totals.total,
        }
        data = {**event.data, "order_id": order.id, "totals": totals, "status": changed.status}
        return OrderChange(changed, (JournalEvent(event.type, data),))

    return change_order(backend, store, order_id, decide, actor, now).order
