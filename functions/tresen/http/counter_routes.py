"""A sale at the counter (`channel: counter`): the route and its body, an order's but for its payment
there and a customer only where staff name one."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from ..services.counter_orders import PlaceCounterOrder, place_counter_order
from . import models as m
from . import present
from .api import ORDER_ERRORS
from .router import Call, route, staff


class CounterPaymentIn(m.Inbound):
    method: Literal["on_site", "card_present"] = Field(
        description="on_site: paid at the counter; card_present: by card at a terminal"
    )
    terminal_id: m.Id | None = Field(None, description="card_present: the terminal that takes the card")

    @model_validator(mode="after")
    def _terminal_for_card_present(self) -> CounterPaymentIn:
        if (self.method == "card_present") != (self.terminal_id is not None):
            raise ValueError("terminal_id is given exactly when the method is card_present")
        return self


class CounterOrderIn(m.Inbound):
    items: list[m.OrderItemIn] = Field(min_length=1, max_length=100)
    fulfilment: m.FulfilmentIn
    customer: m.CustomerIn | None = Field(
        None,
        description="absent: a walk-in customer (docs/api.md, 'Catalog and stock'); needed for a receipt by e-mail",
    )
    tip: m.Cents = 0
    gift_cards: list[m.GiftCardUseIn] = Field(default_factory=list, max_length=10)
    payment: CounterPaymentIn
    receipt: Literal["email"] | None = Field(default=None, description="email: mailed to `customer.email`")
    promotion_code: m.PromotionCode | None = Field(
        default=None, description="a promotion's code (any case): it must apply (409 promotion_not_applicable)"
    )


@route(
    "POST",
    "/v1/stores/{store}/counter-orders",
    summary="Sell at the counter: an order on the same catalog and stock, paid there or at a terminal",
    tag="staff",
    access=staff("owner", "supervisor", "staff"),
    body=CounterOrderIn,
    response=m.CreatedOrderOut,
    present=present.created_order_out,
    status=201,
    idempotent=True,
    errors=("unauthenticated", "forbidden", *ORDER_ERRORS),
    claims_at_commit=lambda call: call.body.payment.method == "on_site",
)
def create_counter_order(call: Call):
    body: CounterOrderIn = call.body
    request = OrderRequest(
        items=tuple(CartItem(i.product_id, i.quantity, tuple(i.options), i.note) for i in body.items),
        fulfilment=Fulfilment(**body.fulfilment.model_dump()),
        customer=Customer(**body.customer.model_dump()) if body.customer else None,
        payment_method=body.payment.method,
        tip=body.tip,
        gift_cards=tuple((card.code, card.amount) for card in body.gift_cards),
        receipt=body.receipt,
        terminal_id=body.payment.terminal_id,
        promotion_code=body.promotion_code,
    )
    command = PlaceCounterOrder(call.params["store"], request, call.caller.actor())
    return place_counter_order(command, call.uow)
