"""Z-report figures from the journal alone equal the sums over the orders themselves, to the cent,
per VAT rate and per payment method, whatever happened in the period (a property test)."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tresen.adapters.backend import Backend
from tresen.domain.closings import z_report_figures
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.payments import PaymentEvent
from tresen.domain.refunds import RefundRequest
from tresen.services import cards
from tresen.services.corrections import discount_order, void_items
from tresen.services.orders import order_for_staff, place_order
from tresen.services.payments import handle_payment_event
from tresen.services.refunds import refund_order
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, seed_store
from tresen.services.verify import firestore_entries

STORE = DEMO_STORE.id
STAFF = {"type": "staff", "uid": "u1", "role": "supervisor"}

carts = st.lists(
    st.tuples(st.sampled_from(["croissant", "cheesecake", "espresso"]), st.integers(1, 3)),
    min_size=1,
    max_size=3,
    unique_by=lambda item: item[0],
)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("on_site"), carts, st.integers(0, 300)),
        st.tuples(st.just("online"), carts, st.integers(0, 300)),
        st.tuples(st.just("online_voided"), carts, st.integers(0, 0)),
        st.tuples(st.just("online_discounted"), carts, st.integers(1, 50)),
        st.tuples(st.just("online_unpaid"), carts, st.integers(0, 0)),
        st.tuples(st.just("card_sale"), st.just(()), st.integers(100, 5000)),
    ),
    min_size=1,
    max_size=8,
)


def place(backend, cart, method, tip):
    request = OrderRequest(
        tuple(CartItem(product, quantity) for product, quantity in cart),
        Fulfilment("pickup"),
        Customer("Anna", "anna@example.com"),
        method,
        None,
        tip,
    )
    return place_order(backend, STORE, request, {"type": "customer"}).order


def pay(backend, order, n):
    current = order_for_staff(backend, STORE, order.id)
    event = PaymentEvent("sandbox", f"evt_{n}", "payment.succeeded", order.payment.id, current.amount_due, "EUR")
    handle_payment_event(backend, event)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=actions, refund_share=st.integers(0, 100))
def test_z_report_figures_are_the_sums_over_the_orders(actions, refund_share):
    backend = Backend.in_memory()
    seed_store(backend.docs, DEMO_STORE, DEMO_PRODUCTS)
    orders, counter_cards, reductions = [], 0, defaultdict(int)
    for n, (kind, cart, number) in enumerate(actions):
        if kind == "card_sale":
            cards.issue_card(backend, STORE, number, STAFF)
            counter_cards += number
            continue
        method = "on_site" if kind == "on_site" else "online"
        placed = place(backend, cart, method, number if kind in ("on_site", "online") else 0)
        orders.append(placed.id)
        if kind == "online_voided" and placed.lines[0].quantity > 1:
            before = placed.totals.total
            after = void_items(backend, STORE, placed.id, ((placed.lines[0].id, 1),), None, STAFF, "staff", None)
            reductions["voids"] += before - after.order.totals.total
        if kind == "online_discounted":
            after = discount_order(backend, STORE, placed.id, None, number, None, STAFF, "supervisor", None)
            reductions["discounts"] += placed.totals.total - after.order.totals.total
        if kind != "online_unpaid" and method == "online":
            pay(backend, placed, n)
    refunded = 0
    for order_id in orders:
        order = order_for_staff(backend, STORE, order_id)
        amount = order.totals.total * refund_share // 100
        if order.invoice_number and amount:
            refund_order(backend, STORE, order_id, RefundRequest(amount=amount), STAFF, "supervisor", None)
            refunded += amount

    figures = z_report_figures(firestore_entries(backend.docs, STORE))

    sold = [order_for_staff(backend, STORE, order_id) for order_id in orders]
    sold = [order for order in sold if order.invoice_number]
    vat = defaultdict(lambda: defaultdict(int))
    for order in sold:
        for line in order.totals.vat:
            vat[line.rate]["gross"] += line.gross
            vat[line.rate]["net"] += line.net
            vat[line.rate]["vat"] += line.tax
    assert figures["vat"] == [{"rate": rate, **vat[rate]} for rate in sorted(vat, key=int)]
    assert figures["sales"]["gross"] == sum(line.gross for order in sold for line in order.totals.vat)
    assert figures["payments"] == {
        "on_site": sum(o.totals.total for o in sold if o.payment_method == "on_site") + counter_cards,
        "online": sum(o.totals.total for o in sold if o.payment_method == "online"),
        "giftcard": 0,
    }
    assert figures["tips"] == sum(order.totals.tip for order in sold)
    assert (figures["refunds"]["amount"], figures["refunds"]["count"]) == (
        refunded,
        bool(refunded) * len([o for o in sold if o.totals.total * refund_share // 100]),
    )
    assert figures["refunds"]["by_method"]["on_site"] + figures["refunds"]["by_method"]["online"] == refunded
    assert sum(row["gross"] for row in figures["refunds"]["vat"]) == refunded  # split over the rates whole
    assert (figures["voids"]["amount"], figures["discounts"]["amount"]) == (
        reductions["voids"],
        reductions["discounts"],
    )
    assert figures["giftcards"] == {"sold": counter_cards, "redeemed": 0}
    assert figures["counts"]["orders_placed"] == len(orders)
    assert figures["counts"]["sales"] == len(sold)
