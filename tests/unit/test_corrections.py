from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import NOW, awaiting_order
from tresen.domain.corrections import discount, void_lines, void_needs_passkey
from tresen.domain.errors import DomainError
from tresen.domain.orders import CartItem, price_cart
from tresen.services.seed import DEMO_PRODUCTS

CATALOG = {p.id: p for p in DEMO_PRODUCTS}


def mixed_order():
    cart = price_cart(CATALOG, (CartItem("croissant", 2), CartItem("cappuccino", 1)), tip=100)
    return replace(awaiting_order(), lines=cart.lines, totals=cart.totals)  # 580 at 7 %, 380 at 19 %


def test_void_recomputes_totals_and_vat_from_the_order_prices():
    voided = void_lines(mixed_order(), (("L1", 1),), NOW)
    assert [(line.id, line.quantity, line.total) for line in voided.lines] == [("L1", 1, 290), ("L2", 1, 380)]
    assert (voided.totals.subtotal, voided.totals.total, voided.amount_due) == (670, 770, 770)
    assert [(v.rate, v.gross) for v in voided.totals.vat] == [("7", 290), ("19", 380)]


def test_voiding_every_item_cancels_the_order():
    voided = void_lines(mixed_order(), (("L1", 2), ("L2", 1)), NOW)
    assert (voided.status, voided.lines, voided.totals.total) == ("canceled", (), 0)


def test_paid_orders_are_not_corrected_and_over_voids_are_refused():
    paid = replace(mixed_order(), status="paid", payment_status="paid")
    for correct in (lambda o: void_lines(o, (("L1", 1),), NOW), lambda o: discount(o, 100, None, NOW)):
        with pytest.raises(DomainError, match="order_not_unpaid"):
            correct(paid)
    with pytest.raises(DomainError, match="validation_failed"):
        void_lines(mixed_order(), (("L1", 3),), NOW)


def test_discount_by_percent_rounds_half_up_and_lowers_vat_in_proportion():
    discounted = discount(mixed_order(), None, 15, NOW)  # 15 % of 960 = 144
    assert (discounted.totals.discount, discounted.totals.total) == (144, 960 - 144 + 100)
    assert sum(v.gross for v in discounted.totals.vat) == 960 - 144
    with pytest.raises(DomainError):
        discount(mixed_order(), 961, None, NOW)


def test_voids_are_free_for_thirty_seconds():
    order = mixed_order()
    assert not void_needs_passkey(order, NOW + timedelta(seconds=30))
    assert void_needs_passkey(order, NOW + timedelta(seconds=31))


@given(st.integers(0, 960))
def test_any_discount_keeps_vat_adding_up(amount):
    totals = discount(mixed_order(), amount, None, NOW).totals
    assert sum(v.gross for v in totals.vat) == totals.subtotal - totals.discount
    assert all(v.net + v.tax == v.gross for v in totals.vat)
