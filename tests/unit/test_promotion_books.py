"""A day of sales with promotions, booked: the closing's discounts (count, amount, per VAT rate) and
its sales per rate, and DATEV's revenue per rate, checked to the cent against figures worked out
here from the prices alone — percent and largest-remainder split written out again, not the
code's functions. DATEV books revenue net of the discounts: a discount given with the sale lowers
what was sold, so there is no booking of its own."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from test_use_cases import STAFF, STORE, pay

from tresen.adapters import clock
from tresen.domain.orders import COUNTER_CHANNEL, CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.promotions import AppliesTo, PromotionTerms
from tresen.services.closings import CloseStore, close_store
from tresen.services.corrections import DiscountOrder, discount_order
from tresen.services.datev_export import DATEV
from tresen.services.downloads import StorePeriod
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.promotions import CreatePromotion, create_promotion
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

NOON = datetime(2026, 11, 23, 11, tzinfo=UTC)  # 12:00 in the store
OWNER = {"type": "staff", "uid": "owner-1", "role": "owner"}
CATEGORY = {
    "croissant": "Gebäck",
    "bagel": "Gebäck",
    "cheesecake": "Gebäck",
    "espresso": "Kaffee",
    "cappuccino": "Kaffee",
}
REVENUE_ACCOUNT = {"7": "8300", "19": "8400"}  # SKR03's automatic revenue accounts


def net(gross: int, rate: str) -> int:
    return int((Decimal(gross) * 100 / (100 + int(rate))).quantize(Decimal(1), ROUND_HALF_UP))


def split(amount: int, weights: dict[str, int]) -> dict[str, int]:
    """`amount` over the rates in proportion to `weights`; the cents left to the largest remainders."""
    exact = {rate: Fraction(amount * weight, sum(weights.values())) for rate, weight in weights.items()}
    parts = {rate: int(share) for rate, share in exact.items()}
    for rate in sorted(exact, key=lambda r: exact[r] - parts[r], reverse=True)[: amount - sum(parts.values())]:
        parts[rate] += 1
    return parts


class Expected:
    """The day's figures, added up sale by sale as the closing adds them."""

    def __init__(self):
        self.sales = defaultdict(lambda: [0, 0])  # rate → [gross, net]
        self.discounts = defaultdict(lambda: [0, 0])
        self.discount_count = self.discount_amount = 0

    def discount(self, by_rate: dict[str, int]) -> None:
        self.discount_count += 1
        self.discount_amount += sum(by_rate.values())
        for rate, gross in by_rate.items():
            self.discounts[rate][0] += gross
            self.discounts[rate][1] += net(gross, rate)

    def sale(self, gross_by_rate: dict[str, int], *taken: dict[str, int]) -> None:
        for rate, gross in gross_by_rate.items():
            sold = gross - sum(off.get(rate, 0) for off in taken)
            self.sales[rate][0] += sold
            self.sales[rate][1] += net(sold, rate)


@pytest.fixture
def day(backend, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOON)
    seed_store(SeedStore(DEMO_STORE, tuple(replace(p, category=CATEGORY.get(p.id)) for p in DEMO_PRODUCTS)), backend)
    backend.catalog.refresh(STORE)
    start, end = NOON - timedelta(hours=3), NOON + timedelta(hours=8)
    both, online, counter = ("online", "counter"), ("online",), ("counter",)
    for made in (
        PromotionTerms("15", None, AppliesTo(categories=("Gebäck",)), start, end, both, code="GEBAECK15"),
        PromotionTerms(None, 150, AppliesTo(("croissant",), ("Kaffee",)), start, end, online, name="Kaffeepause"),
        PromotionTerms("33.33", None, AppliesTo(("lemonade",)), start, end, counter, code="LIMO"),
    ):
        create_promotion(CreatePromotion(STORE, made, OWNER), backend)


def place(backend, items, method="on_site", code=None, channel="online"):
    request = OrderRequest(
        items, Fulfilment("pickup"), Customer("Anna", "anna@example.com"), method, channel=channel, promotion_code=code
    )
    return place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend).order


def test_the_closing_and_datev_book_the_days_promotions_per_vat_rate_to_the_cent(backend, day):
    expected = Expected()
    # 1 at the counter with a code: 15 % of the pastries (580 + 800 at 7 %) is 207, over the
    # Kaffeepause's 150 on the croissants and the espresso
    first = place(
        backend,
        (CartItem("croissant", 2), CartItem("bagel", 1, ("salmon",)), CartItem("espresso", 1)),
        code="GEBAECK15",
    )
    off = {"7": int((Decimal(1380) * Decimal("0.15")).quantize(Decimal(1), ROUND_HALF_UP))}
    assert first.promotion.by_rate == off == {"7": 207}
    expected.discount(off)
    expected.sale({"7": 1380, "19": 260}, off)
    # 2 online, paid: the Kaffeepause by itself, 150 over the croissant (290 at 7 %) and the coffee (430 at 19 %)
    second = place(
        backend, (CartItem("cappuccino", 1, ("oat",)), CartItem("croissant", 1), CartItem("lemonade", 1)), "online"
    )
    off = split(150, {"7": 290, "19": 430})
    assert second.promotion.by_rate == off == {"7": 60, "19": 90}
    pay(backend, second, event_id="evt_second")
    expected.discount(off)
    expected.sale({"7": 290, "19": 880}, off)
    # 3 at the counter's till: a third off the lemonades (33.33 % of 1350 is 449.955: 450)
    third = place(backend, (CartItem("lemonade", 3), CartItem("espresso", 1)), code="limo", channel=COUNTER_CHANNEL)
    off = {"19": int((Decimal(1350) * Decimal("0.3333")).quantize(Decimal(1), ROUND_HALF_UP))}
    assert third.promotion.by_rate == off == {"19": 450}
    expected.discount(off)
    expected.sale({"19": 1610}, off)
    # 4 online with a code and never paid: no sale, so no discount of the day
    place(backend, (CartItem("cheesecake", 2),), "online", code="GEBAECK15")
    # 5 no promotion fits
    place(backend, (CartItem("cheesecake", 1),))
    expected.sale({"7": 420})
    # 6 online: the Kaffeepause on the espressos, then staff's 100 over what it left (550 at 7 %, 370 at 19 %)
    sixth = place(backend, (CartItem("espresso", 2), CartItem("bagel", 1)), "online")
    promoted = {"19": 150}
    assert sixth.promotion.by_rate == promoted
    staff = split(100, {"7": 550, "19": 520 - 150})
    assert staff == {"7": 60, "19": 40}
    discounted = discount_order(
        DiscountOrder(STORE, sixth.id, 100, None, "Stammgast", STAFF, "supervisor", None), backend
    )
    pay(backend, sixth, discounted.order.amount_due, event_id="evt_sixth")
    expected.discount(promoted)
    expected.discount(staff)
    expected.sale({"7": 550, "19": 520}, promoted, staff)

    closing = close_store(CloseStore(STORE, STAFF), backend).as_dict()
    assert closing["discounts"] == {
        "count": expected.discount_count,
        "amount": expected.discount_amount,
        "vat": [
            {"rate": rate, "net": net_, "tax": gross - net_, "gross": gross}
            for rate, (gross, net_) in sorted(expected.discounts.items(), key=lambda item: int(item[0]))
        ],
    }
    assert (expected.discount_count, expected.discount_amount) == (5, 207 + 150 + 450 + 150 + 100)
    sold = {row["rate"]: (row["gross"], row["net"]) for row in closing["vat"]}
    assert sold == {rate: tuple(figures) for rate, figures in expected.sales.items()}

    out = io.BytesIO()
    DATEV.render(StorePeriod(STORE, date(2026, 11, 23), date(2026, 11, 23)), backend, out)
    rows = [row.split(";") for row in out.getvalue().decode("cp1252").split("\r\n")[2:-1]]
    revenue = defaultdict(int)
    for row in rows:
        euros, cents = row[0].split(",")
        if row[7] in REVENUE_ACCOUNT.values():  # the revenue account is credited (Gegenkonto)
            revenue[row[7]] += int(euros) * 100 + int(cents)
    assert dict(revenue) == {REVENUE_ACCOUNT[rate]: gross for rate, (gross, _) in expected.sales.items()}
    # nothing else is booked of a discount: the till and provider clearing take what was charged
    assert {(row[6], row[7]) for row in rows} == {
        ("1000", "8300"),
        ("1000", "8400"),
        ("1360", "8300"),
        ("1360", "8400"),
    }
