"""Domain results → response models. Times are shown in the store's own timezone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from ..domain.giftcards import display_code
from ..domain.orders import Order
from ..domain.refunds import Refund
from ..services.order_views import Menu, OrderPage, OrderView
from ..services.orders import PlacedOrder
from ..services.refunds import RefundResult
from . import models as m


def menu_out(menu: Menu) -> m.MenuOut:
    store, products, now = menu.store, menu.products, menu.now
    return m.MenuOut(
        store=m.StoreOut(
            id=store.id,
            name=store.name,
            currency=store.currency,
            timezone=store.timezone,
            open_now=store.is_open(now),
            payment_methods=list(store.payment_methods),
            online_providers=list(menu.online_providers),
            fulfilment_types=list(store.fulfilment_types),
        ),
        products=[m.ProductOut.model_validate(p) for p in products],
    )


def local_time(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Times are shown in the store's own timezone, to the second."""
    return moment.astimezone(zone).replace(microsecond=0) if moment else None


def order_fields(order: Order, refunds: tuple[Refund, ...], card_codes: tuple[str | None, ...] = ()) -> dict:
    zone = ZoneInfo(order.timezone)

    def local(moment: datetime | None) -> datetime | None:
        return local_time(moment, zone)

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
        "gift_cards": [m.GiftCardPaymentOut.model_validate(use) for use in order.gift_cards],
        "gift_cards_sold": sold_cards_out(order, card_codes),
        "amount_due": order.amount_due,
        "refunded_amount": order.refunded_amount,
        "refunds": [m.OrderRefundOut.model_validate(replace(r, created_at=local(r.created_at))) for r in refunds],
        "invoice_number": order.invoice_number,
        "receipt": order.receipt,
        "payment": m.PaymentOut.model_validate(order.payment) if order.payment else None,
        "last_payment_error": order.last_payment_error,
        "tse_status": order.tse_status,
        "tse": m.TseOut.model_validate(order.tse) if order.tse else None,
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
        "channel": order.channel,
        "promotion": m.OrderPromotionOut.model_validate(order.promotion) if order.promotion else None,
    }


def sold_cards_out(order: Order, codes: tuple[str | None, ...]) -> list[m.SoldCardOut]:
    """The cards an order sold; their codes where the customer is shown them (once active)."""
    codes = codes or (None,) * len(order.cards_sold)
    return [
        m.SoldCardOut(
            card_id=card.card_id,
            line_id=card.line_id,
            last4=card.last4,
            amount=card.amount,
            status=card.status,
            code=display_code(code) if code else None,
        )
        for card, code in zip(order.cards_sold, codes, strict=True)
    ]


def order_out(view: OrderView) -> m.OrderOut:
    return m.OrderOut(**order_fields(view.order, view.refunds, view.card_codes), customer_id=view.customer_id)


def created_order_out(placed: PlacedOrder) -> m.CreatedOrderOut:
    fields = order_fields(placed.order, (), placed.card_codes)  # a new order has no refunds
    return m.CreatedOrderOut(**fields, access_token=placed.access_token)


def order_page_out(page: OrderPage) -> m.OrderPage:
    return m.OrderPage(
        data=[order_out(o) for o in page.orders], next_cursor=page.next_cursor, has_more=page.next_cursor is not None
    )


def refund_out(refund: RefundResult) -> m.RefundOut:
    card = refund.giftcard
    return m.RefundOut(
        id=refund.id,
        order_id=refund.order_id,
        amount=refund.amount,
        status=refund.status,
        to=refund.to,
        provider_amount=refund.provider_amount,
        giftcard_amount=refund.giftcard_amount,
        giftcard=m.RefundCardOut(
            id=card.card.id,
            last4=card.card.last4,
            balance=card.card.balance,
            code=display_code(card.code) if card.code else None,
        )
        if card
        else None,
    )
