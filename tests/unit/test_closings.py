"""Z-report figures from the journal alone equal the sums over the orders themselves, to the cent,
per VAT rate and per payment method, whatever happened in the period (a property test); a closing
stored in an older shape reads as closings are made now."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tresen.adapters.backend import Backend
from tresen.domain.closings import z_report_figures
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.payments import PaymentEvent, RefundEvent
from tresen.domain.refunds import RefundRequest, ReportedRefund
from tresen.services import cards
from tresen.services.corrections import DiscountOrder, VoidItems, discount_order, void_items
from tresen.services.order_views import order_for_staff
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.payments import handle_payment_event, handle_refund_event
from tresen.services.refunds import RefundOrder, refund_order
from tresen.services.seed import DEMO, DEMO_STORE, seed_store

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
    return place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend).order


def pay(backend, order, n):
    current = order_for_staff(backend, STORE, order.id)
    event = PaymentEvent("sandbox", f"evt_{n}", "payment.succeeded", order.payment.id, current.amount_due, "EUR")
    handle_payment_event(event, backend)


def fail_at_provider(backend, refund_id, n):
    stored = backend.docs.get(f"refunds/{refund_id}").data
    reported = ReportedRefund(stored["provider_refund_id"], stored["provider_amount"], "failed", None, refund_id)
    handle_refund_event(RefundEvent("sandbox", f"evt_failed_{n}", "refund.failed", None, (reported,)), backend)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=actions, refund_share=st.integers(0, 100), failing=st.booleans())
def test_z_report_figures_are_the_sums_over_the_orders(actions, refund_share, failing):
    backend = Backend.in_memory()
    seed_store(DEMO, backend)
    orders, counter_cards, reductions = [], 0, defaultdict(int)
    for n, (kind, cart, number) in enumerate(actions):
        if kind == "card_sale":
            cards.issue_card(cards.IssueCard(STORE, number, STAFF), backend)
            counter_cards += number
            continue
        method = "on_site" if kind == "on_site" else "online"
        placed = place(backend, cart, method, number if kind in ("on_site", "online") else 0)
        orders.append(placed.id)
        if kind == "online_voided" and placed.lines[0].quantity > 1:
            before = placed.totals.total
            after = void_items(
                VoidItems(STORE, placed.id, ((placed.lines[0].id, 1),), None, STAFF, "staff", None), backend
            )
            reductions["voids"] += before - after.order.totals.total
        if kind == "online_discounted":
            after = discount_order(
                DiscountOrder(STORE, placed.id, None, number, None, STAFF, "supervisor", None), backend
            )
            reductions["discounts"] += placed.totals.total - after.order.totals.total
        if kind != "online_unpaid" and method == "online":
            pay(backend, placed, n)
    refunded = failed = 0
    for n, order_id in enumerate(orders):
        order = order_for_staff(backend, STORE, order_id)
        amount = order.totals.total * refund_share // 100
        if order.invoice_number and amount:
            made = refund_order(
                RefundOrder(STORE, order_id, RefundRequest(amount=amount), STAFF, "supervisor", None), backend
            )
            refunded += amount
            if failing and order.payment_method == "online":  # the provider could not pay it back after all
                fail_at_provider(backend, made.id, n)
                failed += amount

    figures = z_report_figures(backend.journal.entries(STORE))

    sold = [order_for_staff(backend, STORE, order_id) for order_id in orders]
    sold = [order for order in sold if order.invoice_number]
    vat = defaultdict(lambda: defaultdict(int))
    for order in sold:
        for line in order.totals.vat:
            vat[line.rate]["gross"] += line.gross
            vat[line.rate]["net"] += line.net
            vat[line.rate]["tax"] += line.tax
    assert figures["vat"] == [{"rate": rate, **vat[rate]} for rate in sorted(vat, key=int)]
    assert figures["sales"]["gross"] == sum(line.gross for order in sold for line in order.totals.vat)
    assert figures["payments"] == {
        "on_site": sum(o.totals.total for o in sold if o.payment_method == "on_site") + counter_cards,
        "online": sum(o.totals.total for o in sold if o.payment_method == "online"),
        "giftcard": 0,
        "card_present": 0,
    }
    assert figures["tips"] == sum(order.totals.tip for order in sold)
    assert (figures["refunds"]["amount"], figures["refunds"]["count"]) == (
        refunded,
        bool(refunded) * len([o for o in sold if o.totals.total * refund_share // 100]),
    )
    assert figures["refunds"]["by_method"]["on_site"] + figures["refunds"]["by_method"]["online"] == refunded
    assert sum(row["gross"] for row in figures["refunds"]["vat"]) == refunded  # split over the rates whole
    given_back = figures["failed_refunds"]
    assert (given_back["amount"], given_back["by_method"]) == (
        failed,
        {"on_site": 0, "online": failed, "giftcard": 0, "card_present": 0},
    )
    assert sum(row["gross"] for row in given_back["vat"]) == failed
    # what really went back: the refunds made, less the failed ones added back
    assert refunded - failed == sum(order.refunded_amount for order in sold)
    assert (figures["voids"]["amount"], figures["discounts"]["amount"]) == (
        reductions["voids"],
        reductions["discounts"],
    )
    assert figures["giftcards"] == {"sold": counter_cards, "redeemed": 0}
    assert figures["counts"]["orders_placed"] == len(orders)
    assert figures["counts"]["sales"] == len(sold)


def older_shape(closing: dict) -> dict:
    """`closing` as closings were stored before failed refunds were added back: the tax of a VAT
    row named `vat`, and no `failed_refunds`."""
    older = {key: value for key, value in closing.items() if key != "failed_refunds"}
    older["sales"] = renamed(closing["sales"])
    older["vat"] = [renamed(row) for row in closing["vat"]]
    older["refunds"] = closing["refunds"] | {"vat": [renamed(row) for row in closing["refunds"]["vat"]]}
    return older


def renamed(row: dict) -> dict:
    return {("vat" if key == "tax" else key): value for key, value in row.items()}


def closed(backend) -> dict:
    """A closing of an order refunded in part, as its entry holds it; and the entries it covers."""
    from tresen.services.closings import CloseStore, close_store

    placed = place(backend, [("croissant", 2), ("espresso", 1)], "online", 0)
    pay(backend, placed, 1)
    refund_order(RefundOrder(STORE, placed.id, RefundRequest(amount=300), STAFF, "supervisor", None), backend)
    close_store(CloseStore(STORE, STAFF), backend)
    return backend.journal.entries(STORE)


def test_a_closing_stored_in_the_older_shape_reads_and_verifies_as_made_now():
    from tresen.domain.closings import closing_from_dict, closing_hash
    from tresen.domain.journal import canonical_bytes
    from tresen.services import journal_audit as audit

    backend = Backend.in_memory()
    seed_store(DEMO, backend)
    *covered, entry = closed(backend)
    now = entry["data"]
    older = older_shape(now)
    assert older["refunds"]["vat"][0] == {"rate": "7", "net": 193, "vat": 14, "gross": 207}
    older["hash"] = closing_hash(older)  # a closing's hash is over what it holds

    read = closing_from_dict(older)
    assert read.as_dict() == now | {"hash": older["hash"]}
    assert read.failed_refunds.amount == 0 and read.sales.tax == now["sales"]["tax"] == 38 + 42

    raws = [canonical_bytes(e) for e in covered] + [canonical_bytes(entry | {"data": older})]
    assert audit.closing_problems([len(raws)], lambda seq: raws[seq - 1]) == []
    raws[-1] = raws[-1].replace(b'"vat":14', b'"vat":15')
    [problem] = audit.closing_problems([len(raws)], lambda seq: raws[seq - 1])
    assert problem.text == "seq 5: Z-report 1 does not add up from entries 1-4 (refunds)"


def test_a_failed_refund_paid_back_partly_onto_gift_cards_gives_back_its_provider_part_and_its_vat():
    from datetime import UTC, datetime

    from tresen.domain.closings import failed_refund_record
    from tresen.domain.money import VatLine
    from tresen.domain.refunds import Refund

    refund = Refund(
        id="re_1",
        store_id=STORE,
        order_id="ord_1",
        payment_id="pay_1",
        provider="sandbox",
        amount=840,
        provider_amount=340,
        giftcard_amount=500,
        to="original",
        status="failed",
        reason="",
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
        vat=(VatLine("7", 542, 38, 580), VatLine("19", 218, 42, 260)),
        lines={},
    )
    # 340 of 840 in proportion: 234.76 at 7 %, 105.24 at 19 %; the cent left goes to the larger remainder
    assert failed_refund_record(refund, "online") == {
        "method": "online",
        "amount": 340,
        "vat": [{"rate": "7", "net": 220, "tax": 15, "gross": 235}, {"rate": "19", "net": 88, "tax": 17, "gross": 105}],
    }
