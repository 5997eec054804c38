"""Domain results → response models. Times are shown in the store's own timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..domain.catalog import Product, Store
from ..domain.orders import Order
from ..services.orders import OrderPage, PlacedOrder
from . import models as m


def menu_out(result: tuple[Store, list[Product], datetime]) -> m.MenuOut:
    store, products, now = result
    return m.MenuOut(
        store=m.StoreOut(
            id=store.id,
            name=store.name,
            currency=store.currency,
            timezone=store.timezone,
            open_now=store.is_open(now),
            payment_methods=list(store.payment_methods),
            fulfilment_types=list(store.fulfilment_types),
        ),
        products=[m.ProductOut.model_validate(p) for p in products],
    )


def order_fields(order: Order) -> dict:
    zone = ZoneInfo(order.timezone)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone).replace(microsecond=0) if moment else None

    return {
        "id": order.id,
        "store_id": order.store_id,
        "number": order.number,
        "status": order.status,
        "payment_status": order.payment_status,
        "currency": order.currency,
        "lines": [m.LineOut.model_validate(line) for line in order.lines],
        "totals": m.TotalsOut.model_validate(order.totals),
        "gift_card_amount": order.gift_card_amount,
        "amount_due": order.amount_due,
        "refunded_amount": order.refunded_amount,
        "invoice_number": order.invoice_number,
        "payment": m.PaymentOut.model_validate(order.payment) if order.payment else None,
        "last_payment_error": order.last_payment_error,
        "fulfilment": m.FulfilmentOut(
            type=order.fulfilment.type,
            table=order.fulfilment.table,
            address=order.fulfilment.address,
            requested_time=local(order.fulfilment.requested_time),
        ),
        "customer": m.CustomerOut.model_validate(order.customer),
        "business_day": order.business_day.isoformat(),
        "expires_at": local(order.expires_at),
        "created_at": local(order.created_at),
        "updated_at": local(order.updated_at),
    }


def order_out(order: Order) -> m.OrderOut:
    return m.OrderOut(**order_fields(order))


def created_order_out(placed: PlacedOrder) -> m.CreatedOrderOut:
    return m.CreatedOrderOut(**order_fields(placed.order), access_token=placed.access_token)


def order_page_out(page: OrderPage) -> m.OrderPage:
    return m.OrderPage(
        data=[order_out(o) for o in page.orders], next_cursor=page.next_cursor, has_more=page.next_cursor is not None
    )
