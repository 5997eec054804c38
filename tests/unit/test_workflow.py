from dataclasses import replace
from datetime import timedelta

import pytest

from support import LATER, NOW, awaiting_order
from tresen.domain.errors import DomainError
from tresen.domain.orders import CartItem, price_cart
from tresen.domain.workflow import expire, staff_transition
from tresen.services.seed import DEMO_PRODUCTS


def test_kitchen_workflow_runs_forward_only():
    order = replace(awaiting_order(), status="paid", payment_status="paid")
    for target in ("accepted", "ready", "completed"):
        transition = staff_transition(order, target, LATER)
        assert (transition.order.status, transition.journal[0].type) == (target, f"order.{target}")
        order = transition.order
    for backwards in ("accepted", "ready", "rejected"):
        with pytest.raises(DomainError) as caught:
            staff_transition(order, backwards, LATER)
        assert caught.value.code == "invalid_transition"


def test_repeating_the_current_status_changes_nothing():
    placed = replace(awaiting_order(), status="placed", payment_method="on_site")
    assert staff_transition(placed, "placed", LATER).order is None


def test_rejecting_a_paid_online_order_refunds_it_in_full():
    paid = replace(awaiting_order(), status="paid", payment_status="paid")
    transition = staff_transition(paid, "rejected", LATER, reason="kitchen closed")
    assert (transition.order.status, transition.order.payment_status, transition.order.refunded_amount) == (
        "rejected",
        "refunded",
        580,
    )
    assert transition.refund_amount == 580
    assert transition.journal[0].data["reason"] == "kitchen closed"


def test_rejecting_unpaid_orders_moves_no_money():
    for order in (awaiting_order(), replace(awaiting_order(), status="placed", payment_method="on_site")):
        transition = staff_transition(order, "rejected", LATER)
        assert (transition.order.status, transition.refund_amount, transition.order.payment_status) == (
            "rejected",
            0,
            "unpaid",
        )


def test_only_unpaid_online_orders_past_their_window_expire():
    order = awaiting_order()
    assert expire(order, NOW + timedelta(minutes=29)).order is None
    expired = expire(order, NOW + timedelta(minutes=30))
    assert (expired.order.status, expired.journal[0].data["reason"]) == ("canceled", "expired")
    assert expire(replace(order, payment_status="mismatch"), NOW + timedelta(hours=1)).order is None


def test_rejecting_a_paid_order_keeps_the_gift_cards_it_sold():
    cart = price_cart({p.id: p for p in DEMO_PRODUCTS}, (CartItem("giftcard-25", 1), CartItem("croissant", 2)), 0)
    paid = replace(awaiting_order(), lines=cart.lines, totals=cart.totals, status="paid", payment_status="paid")
    transition = staff_transition(paid, "rejected", LATER)
    assert (transition.refund_amount, transition.order.payment_status) == (580, "partially_refunded")
