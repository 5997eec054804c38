"""A sale at the counter: staff place the order at the till, on the same catalog and stock as the
customers' own orders, paid there (cash, `on_site`) or by card at a terminal (`card_present`).

It is an order like any other (services/orders.py `place_order`), recorded with `channel: counter`
(promotions and reports tell the two apart by it). A counter sale names no customer unless staff
give one: it is then made by `COUNTER_CUSTOMER`, the walk-in customer the staff board's till has
always sent, at an address of the reserved `.invalid` domain that no mail reaches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..domain.errors import DomainError, FieldError
from ..domain.orders import COUNTER_CHANNEL, RECEIPT_BY_EMAIL, Customer, OrderRequest
from ..domain.terminals import CARD_PRESENT
from .orders import PlacedOrder, PlaceOrder, place_order
from .tse_ports import TseUnitOfWork

COUNTER_CUSTOMER = Customer("Gast an der Kasse", "kasse@tresen.invalid")
COUNTER_PAYMENTS = ("on_site", CARD_PRESENT)


@dataclass(frozen=True)
class PlaceCounterOrder:
    store_id: str
    request: OrderRequest  # its `customer` None: a walk-in, placed as COUNTER_CUSTOMER
    actor: Mapping[str, Any]


def place_counter_order(command: PlaceCounterOrder, uow: TseUnitOfWork) -> PlacedOrder:
    request = command.request
    problems = []
    if request.payment_method not in COUNTER_PAYMENTS:
        problems.append(FieldError("payment.method", "at the counter: on_site or card_present"))
    if request.receipt == RECEIPT_BY_EMAIL and request.customer is None:
        problems.append(FieldError("customer.email", "a receipt by e-mail needs the customer's address"))
    if problems:
        raise DomainError("validation_failed", "The sale cannot be made at the counter as asked.", problems)
    at_counter = replace(request, customer=request.customer or COUNTER_CUSTOMER, channel=COUNTER_CHANNEL)
    return place_order(PlaceOrder(command.store_id, at_counter, command.actor), uow)
