"""Promotions on the in-memory backend: which lines a promotion is for (products, categories), its
discount rounded half up and capped, split over those lines' VAT rates to the cent (hypothesis), the
order's VAT on what is charged; channels, time windows and codes (case, unknown, ended, taken),
each refusal with its reason; the one promotion an order gets; uses that hold when several servers
decide at once; a staff discount on top and a void after it; the receipt's discount line."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_use_cases import STAFF, STORE, instances, journal, pay
from test_zreport_pdf import needs_pdftotext, pdf_text, squashed

from tresen.adapters import clock
from tresen.domain.errors import DomainError
from tresen.domain.orders import (
    COUNTER_CHANNEL,
    CartItem,
    Customer,
    Fulfilment,
    OrderLine,
    OrderRequest,
    PricedCart,
    price_cart,
    totals_for,
)
from tresen.domain.promotions import AppliesTo, Promotion, PromotionTerms, applied, with_promotion
from tresen.services import receipt_downloads
from tresen.services.corrections import DiscountOrder, VoidItems, discount_order, void_items
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.promotions import CreatePromotion, EndPromotion, create_promotion, end_promotion, promotions
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

T0 = datetime(2026, 11, 23, 11, tzinfo=UTC)  # 12:00 in the store
OWNER = {"type": "staff", "uid": "owner-1", "role": "owner"}
CATEGORIES = {
    "croissant": "Gebäck",
    "bagel": "Gebäck",
    "cheesecake": "Gebäck",
    "espresso": "Kaffee",
    "cappuccino": "Kaffee",
    "lemonade": "Getränke",
}
PRODUCTS = tuple(replace(product, category=CATEGORIES.get(product.id)) for product in DEMO_PRODUCTS)
CATALOG = {product.id: product for product in PRODUCTS}
# two croissants (580 at 7 %) and an espresso (260 at 19 %)
CROISSANTS_AND_ESPRESSO = (CartItem("croissant", 2), CartItem("espresso", 1))


@pytest.fixture
def moment(backend, monkeypatch) -> list[datetime]:
    """The demo store with its products in categories, on a clock the test moves (`moment[0]`)."""
    now = [T0]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    seed_store(SeedStore(DEMO_STORE, PRODUCTS), backend)
    backend.catalog.refresh(STORE)
    return now


def terms(**given) -> PromotionTerms:
    made = {
        "percent": None,
        "amount": None,
        "applies_to": AppliesTo(),
        "starts_at": T0 - timedelta(hours=1),
        "ends_at": T0 + timedelta(days=7),
        "channels": ("online", "counter"),
    }
    return PromotionTerms(**(made | given))


def promote(backend, **given):
    return create_promotion(CreatePromotion(STORE, terms(**given), OWNER), backend).promotion


def order(backend, items=CROISSANTS_AND_ESPRESSO, code=None, method="on_site", channel="online"):
    request = OrderRequest(
        items,
        Fulfilment("pickup"),
        Customer("Anna", "anna@example.com"),
        method,
        channel=channel,
        promotion_code=code,
    )
    return place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend).order


def refused(backend, **ordered) -> tuple[str, dict]:
    with pytest.raises(DomainError) as refusal:
        order(backend, **ordered)
    return refusal.value.code, refusal.value.extra


def vat(totals) -> list[tuple[str, int, int, int]]:
    return [(line.rate, line.net, line.tax, line.gross) for line in totals.vat]


# -- the discount: which lines, how much, which rates ---------------------------------------------


def promotion(**given) -> Promotion:
    made = terms(**given)
    return Promotion(
        "promo_1", STORE, made.code, made.name or "Aktion", made.percent, made.amount, made.applies_to,
        made.starts_at, made.ends_at, made.channels, made.max_uses, T0,
    )  # fmt: skip


def test_a_percent_is_of_the_lines_it_is_for_rounded_half_up_and_off_their_rate_only():
    cart = price_cart(CATALOG, CROISSANTS_AND_ESPRESSO, tip=0)
    given = applied(promotion(percent="12.5", applies_to=AppliesTo(("croissant",))), cart.lines, CATEGORIES)
    assert (given.line_ids, given.discount, given.by_rate) == (("L1",), 73, {"7": 73})  # 72.5 up to 73
    discounted = with_promotion(cart, given)
    assert (discounted.totals.discount, discounted.totals.total) == (73, 767)
    # 580 - 73 = 507 at 7 %; the espresso's 260 at 19 % as it was
    assert vat(discounted.totals) == [("7", 474, 33, 507), ("19", 218, 42, 260)]
    one = price_cart(CATALOG, (CartItem("croissant", 1),), tip=0)
    assert applied(promotion(percent="12.5"), one.lines, CATEGORIES).discount == 36  # 36.25 down to 36


def test_an_amount_is_at_most_the_total_of_the_lines_it_is_for():
    cart = price_cart(CATALOG, CROISSANTS_AND_ESPRESSO, tip=0)
    given = applied(promotion(amount=1000, applies_to=AppliesTo(categories=("Kaffee",))), cart.lines, CATEGORIES)
    assert (given.discount, given.by_rate) == (260, {"19": 260})
    assert vat(with_promotion(cart, given).totals) == [("7", 542, 38, 580), ("19", 0, 0, 0)]


def test_a_promotion_over_two_rates_splits_its_discount_by_their_gross_to_the_cent():
    items = (CartItem("croissant", 1), CartItem("cappuccino", 1), CartItem("lemonade", 1), CartItem("giftcard-25", 1))
    cart = price_cart(CATALOG, items, tip=0)
    for_them = AppliesTo(("croissant",), ("Kaffee",))  # the croissant (290 at 7 %) and the coffee (380 at 19 %)
    given = applied(promotion(percent="15", applies_to=for_them), cart.lines, CATEGORIES)
    # 15 % of 670 is 100.5: 101; 101 × 290/670 = 43.7 and 101 × 380/670 = 57.3: the cent left goes to 7 %
    assert (given.line_ids, given.discount, given.by_rate) == (("L1", "L2"), 101, {"7": 44, "19": 57})
    totals = with_promotion(cart, given).totals
    assert vat(totals) == [("7", 230, 16, 246), ("19", 650, 123, 773)]  # the lemonade's 450 untouched
    assert (totals.total, totals.giftcards_sold) == (3620 - 101, 2500)  # the gift card sold keeps its face value


def test_a_promotion_for_everything_is_never_for_a_gift_card_sold():
    cart = price_cart(CATALOG, (CartItem("giftcard-25", 1),), tip=0)
    assert applied(promotion(percent="50"), cart.lines, CATEGORIES) is None


@st.composite
def carts(draw):
    count = draw(st.integers(1, 8))
    lines = tuple(
        OrderLine(
            f"L{n}",
            f"p{n}",
            f"Product {n}",
            quantity := draw(st.integers(1, 9)),
            price := draw(st.integers(1, 20_000)),
            draw(st.sampled_from(["7", "19", None])),
            quantity * price,
        )
        for n in range(1, count + 1)
    )
    chosen = tuple(line.product_id for line in lines if draw(st.booleans()))
    percent = draw(st.one_of(st.none(), st.integers(1, 10_000).map(lambda h: f"{h // 100}.{h % 100:02d}")))
    amount = None if percent else draw(st.integers(1, 500_000))
    return lines, chosen, percent, amount


@given(carts(), st.integers(0, 1000))
def test_the_vat_of_a_promoted_order_adds_up_to_the_cent_rate_by_rate(drawn, tip):
    lines, chosen, percent, amount = drawn
    cart = PricedCart(lines, totals_for(lines, 0, tip))
    given = applied(promotion(percent=percent, amount=amount, applies_to=AppliesTo(chosen)), lines, {})
    fitting = (
        [line for line in lines if line.product_id in chosen and line.vat_rate is not None]
        if chosen
        else [line for line in lines if line.vat_rate is not None]
    )
    total = sum(line.total for line in fitting)
    expected = (
        int((Decimal(total) * Decimal(percent) / 100).quantize(Decimal(1), ROUND_HALF_UP))
        if percent
        else min(amount, total)
    )
    if expected == 0:
        assert given is None
        return
    assert given.discount == expected == sum(given.by_rate.values())
    gross = {}
    for line in fitting:
        gross[line.vat_rate] = gross.get(line.vat_rate, 0) + line.total
    assert all(0 <= part <= gross[rate] for rate, part in given.by_rate.items())
    assert all(abs(given.discount * gross[rate] / total - part) < 1 for rate, part in given.by_rate.items())
    totals = with_promotion(cart, given).totals
    taxed = sum(line.total for line in lines if line.vat_rate is not None)
    assert sum(line.gross for line in totals.vat) == taxed - expected
    assert all(line.net + line.tax == line.gross for line in totals.vat)
    for line in totals.vat:
        before = sum(ordered.total for ordered in lines if ordered.vat_rate == line.rate)
        assert line.gross == before - given.by_rate.get(line.rate, 0)
    assert totals.total == sum(line.total for line in lines) - expected + tip


# -- codes, channels, time -------------------------------------------------------------------------


def test_an_order_with_a_code_in_any_case_gets_it_shows_it_and_journals_it(backend, moment):
    made = promote(backend, code="sommer10", percent="10", applies_to=AppliesTo(categories=("Gebäck",)))
    assert made.code == "SOMMER10"
    placed = order(backend, code=" Sommer10 ")
    assert (placed.totals.discount, placed.promotion.code, placed.promotion.discount) == (58, "SOMMER10", 58)
    assert vat(placed.totals) == [("7", 488, 34, 522), ("19", 218, 42, 260)]
    entry = backend.journal.entries(STORE)[-1]
    assert entry["type"] == "order.placed"
    assert entry["data"]["promotion"] == {"id": made.id, "code": "SOMMER10", "discount": 58}
    assert entry["data"]["sale"]["promotion"] == {
        "id": made.id,
        "discount": 58,
        "vat": [{"rate": "7", "net": 54, "tax": 4, "gross": 58}],
    }
    assert backend.orders.read_in_store(STORE, placed.id)[0].promotion == placed.promotion  # as stored


def test_a_code_is_refused_with_its_reason_never_ignored(backend, moment):
    promote(backend, code="KAFFEE", amount=100, applies_to=AppliesTo(categories=("Kaffee",)), channels=("online",))
    assert refused(backend, code="NOPE") == (
        "promotion_not_applicable",
        {"reason": "unknown", "promotion_code": "NOPE", "promotion_id": None},
    )
    assert refused(backend, code="../x")[1]["reason"] == "unknown"  # no promotion's code: nothing is read
    assert refused(backend, code="kaffee", channel=COUNTER_CHANNEL)[1]["reason"] == "wrong_channel"
    assert refused(backend, code="KAFFEE", items=(CartItem("croissant", 1),))[1]["reason"] == "no_matching_items"
    assert order(backend, code="KAFFEE").totals.discount == 100
    assert journal(backend).count("order.placed") == 1  # the refused ones placed nothing


def test_a_promotion_applies_from_its_start_until_before_its_end(backend, moment):
    promote(backend, code="WOCHE", percent="10", starts_at=T0 + timedelta(hours=1), ends_at=T0 + timedelta(hours=2))
    assert refused(backend, code="WOCHE")[1]["reason"] == "not_started"
    moment[0] = T0 + timedelta(hours=1)
    assert order(backend, code="WOCHE").totals.discount == 84
    moment[0] = T0 + timedelta(hours=2)
    assert refused(backend, code="WOCHE")[1]["reason"] == "expired"


def test_promotions_without_a_code_apply_by_themselves_on_their_channels_only(backend, moment):
    promote(backend, name="Kaffeestunde", amount=50, applies_to=AppliesTo(("espresso",)), channels=("counter",))
    assert order(backend).promotion is None
    at_counter = order(backend, channel=COUNTER_CHANNEL)
    assert (at_counter.promotion.name, at_counter.totals.discount) == ("Kaffeestunde", 50)


def test_the_order_gets_the_promotion_giving_the_largest_discount_and_on_a_tie_the_code(backend, moment):
    everything = promote(backend, name="Alles 10 %", percent="10")  # 84 of 840
    croissants = promote(backend, code="HOERNCHEN", amount=84, applies_to=AppliesTo(("croissant",)))
    assert order(backend, code="HOERNCHEN").promotion.id == croissants.id  # 84 each: the code the customer gave
    small = promote(backend, code="KLEIN", amount=10)
    assert order(backend, code="KLEIN").promotion.id == everything.id  # the code applies, but gives less
    assert order(backend).promotion.id == everything.id
    assert {view.promotion.id: view.uses for view in promotions(backend, STORE)} == {
        everything.id: 2,
        croissants.id: 1,
        small.id: 0,
    }


def test_an_ended_promotion_applies_no_more_and_its_code_may_be_given_out_again(backend, moment):
    first = promote(backend, code="HERBST", percent="20")
    with pytest.raises(DomainError) as taken:
        promote(backend, code="herbst", percent="30")
    assert (taken.value.code, taken.value.extra) == ("promotion_code_taken", {"promotion_id": first.id})
    moment[0] = T0 + timedelta(minutes=5)
    ended = end_promotion(EndPromotion(STORE, first.id, OWNER), backend)
    assert (ended.ends_at, ended.ended_at) == (moment[0], moment[0])
    assert end_promotion(EndPromotion(STORE, first.id, OWNER), backend) == ended  # once
    assert journal(backend).count("promotion.ended") == 1
    assert refused(backend, code="HERBST")[1]["reason"] == "expired"
    second = promote(backend, code="HERBST", percent="30")
    assert order(backend, code="HERBST").promotion.id == second.id
    assert [(view.promotion.id, view.status) for view in promotions(backend, STORE)] == [
        (second.id, "active"),
        (first.id, "ended"),
    ]


@pytest.mark.parametrize(
    "asked, field",
    [
        ({"percent": "10", "amount": 100}, "percent"),
        ({}, "percent"),
        ({"percent": "0"}, "percent"),
        ({"percent": "100.01"}, "percent"),
        ({"percent": "12.345"}, "percent"),
        ({"percent": "zehn"}, "percent"),
        ({"amount": 0}, "amount"),
        ({"percent": "10", "code": "X"}, "code"),
        ({"percent": "10", "code": None, "name": None}, "name"),
        ({"percent": "10", "ends_at": T0 - timedelta(hours=1)}, "ends_at"),
        ({"percent": "10", "ends_at": T0 - timedelta(minutes=30), "starts_at": T0 - timedelta(hours=2)}, "ends_at"),
        ({"percent": "10", "channels": ()}, "channels"),
        ({"percent": "10", "max_uses": 0}, "max_uses"),
        ({"percent": "10", "applies_to": AppliesTo(("croissant", "nope"))}, "applies_to.products[1]"),
        ({"percent": "10", "applies_to": AppliesTo(("giftcard-25",))}, "applies_to.products[0]"),
    ],
)
def test_a_promotion_asked_for_wrongly_is_refused_naming_the_field(backend, moment, asked, field):
    with pytest.raises(DomainError) as refusal:
        promote(backend, **({"code": "OK10"} | asked))
    assert refusal.value.code == "validation_failed"
    assert [problem.field for problem in refusal.value.errors] == [field]


def test_a_percent_is_kept_in_one_spelling(backend, moment):
    assert promote(backend, code="HALB", percent="50.50").percent == "50.5"
    assert promote(backend, code="GANZ", percent="100.00").percent == "100"


# -- uses ----------------------------------------------------------------------------------------


def test_uses_hold_when_several_servers_place_orders_at_once(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)
    servers = instances(4)
    made = create_promotion(CreatePromotion(STORE, terms(code="FUENF", percent="10", max_uses=5), OWNER), servers[0])
    outcomes: list[object] = []

    def place(server) -> None:
        try:
            outcomes.append(order(server, code="FUENF"))
        except DomainError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=place, args=(servers[n % 4],)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    placed = [outcome for outcome in outcomes if not isinstance(outcome, DomainError)]
    refusals = [(outcome.code, outcome.extra["reason"]) for outcome in outcomes if isinstance(outcome, DomainError)]
    assert ([o.totals.discount for o in placed], refusals) == ([84] * 5, [("promotion_not_applicable", "used_up")] * 15)
    uses = servers[1].docs.query(f"stores/{STORE}/promotion_uses", where=[("scope", "==", made.promotion.id)])
    assert sorted(use.data["n"] for use in uses) == [1, 2, 3, 4, 5]
    assert sorted(use.data["ref"] for use in uses) == sorted(o.id for o in placed)
    [view] = promotions(servers[2], STORE)
    assert (view.uses, view.status) == (5, "used_up")


def test_a_use_is_not_given_back_when_its_order_expires_unpaid(backend, moment):
    from tresen.services.payments import ExpireOrders, expire_orders

    promote(backend, code="EINMAL", percent="10", max_uses=1)
    order(backend, code="EINMAL", method="online")
    moment[0] = T0 + timedelta(hours=1)
    expire_orders(ExpireOrders(), backend)
    assert refused(backend, code="EINMAL")[1]["reason"] == "used_up"


def test_a_promotion_without_a_code_used_up_applies_no_more_by_itself(backend, moment):
    promote(backend, name="Erste zwei", percent="10", max_uses=2)
    assert [order(backend).totals.discount for _ in range(3)] == [84, 84, 0]


# -- corrections, the receipt --------------------------------------------------------------------


def test_a_staff_discount_comes_on_top_and_a_void_gives_the_promotion_on_what_is_left(backend, moment):
    promote(backend, code="HALB", percent="50", applies_to=AppliesTo(("croissant",)))
    placed = order(backend, code="HALB", method="online")
    assert (placed.totals.discount, placed.promotion.by_rate) == (290, {"7": 290})
    discounted = discount_order(
        DiscountOrder(STORE, placed.id, None, 10, "Stammgast", STAFF, "supervisor", None), backend
    )
    # 10 % of the 550 the promotion left: 55, over 290 at 7 % and 260 at 19 %: 29 and 26
    assert (discounted.order.totals.discount, vat(discounted.order.totals)) == (
        345,
        [("7", 244, 17, 261), ("19", 197, 37, 234)],
    )
    entry = backend.journal.entries(STORE)[-1]
    assert (entry["type"], entry["data"]["reduced_by"], entry["data"]["vat"]) == (
        "order.discounted",
        55,
        [{"rate": "7", "net": 27, "tax": 2, "gross": 29}, {"rate": "19", "net": 22, "tax": 4, "gross": 26}],
    )
    voided = void_items(VoidItems(STORE, placed.id, (("L1", 1),), "eins zu viel", STAFF, "supervisor", None), backend)
    after = voided.order
    # half of the croissant left (145), and staff's 55 over what that leaves: 145 at 7 %, 260 at 19 %
    assert (after.promotion.discount, after.promotion.by_rate, after.totals.discount) == (145, {"7": 145}, 200)
    assert (after.totals.total, vat(after.totals)) == (350, [("7", 117, 8, 125), ("19", 189, 36, 225)])


@needs_pdftotext
def test_the_receipt_names_the_promotion_and_its_vat_is_of_the_discounted_amounts(backend, moment):
    promote(backend, code="sommer10", percent="12.5", applies_to=AppliesTo(("croissant",)))
    request = OrderRequest(
        CROISSANTS_AND_ESPRESSO, Fulfilment("pickup"), Customer("Anna", "anna@example.com"), "on_site",
        promotion_code="SOMMER10",
    )  # fmt: skip
    placed = place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend)
    pdf = receipt_downloads.receipt(backend, placed.order.id, placed.access_token).content
    page = squashed(pdf_text(pdf, "-layout"))
    expected = [
        "Summe der Artikel 8,40 €",
        "Rabatt (SOMMER10) -0,73 €",
        "Gesamtbetrag 7,67 €",
        "7 % 4,74 € 0,33 € 5,07 €",
        "19 % 2,18 € 0,42 € 2,60 €",
        "Summe 6,92 € 0,75 € 7,67 €",
    ]
    assert [line for line in expected if squashed(line) not in page] == []


def test_an_online_order_paid_later_carries_its_promotion_in_the_sale(backend, moment):
    made = promote(backend, code="ONLINE5", amount=500)
    placed = order(backend, code="ONLINE5", method="online")
    assert placed.amount_due == 340
    pay(backend, placed)
    paid = backend.journal.entries(STORE)[-1]
    assert (paid["type"], paid["data"]["sale"]["promotion"]) == (
        "order.paid",
        {
            "id": made.id,
            "discount": 500,
            # 500 over 580 at 7 % and 260 at 19 %: 345.2 and 154.8, the cent left to 19 %
            "vat": [
                {"rate": "7", "net": 322, "tax": 23, "gross": 345},
                {"rate": "19", "net": 130, "tax": 25, "gross": 155},
            ],
        },
    )
