from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tresen.domain.catalog import Product, ProductOption
from tresen.domain.errors import DomainError
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest, check_orderable, price_cart
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE

CATALOG = {p.id: p for p in DEMO_PRODUCTS}


def test_unit_price_includes_chosen_options_and_vat_is_per_rate():
    cart = price_cart(
        CATALOG,
        (CartItem("bagel", 2, ("salmon",)), CartItem("cappuccino", 1, ("oat", "extra_shot"))),
        tip=150,
    )
    bagel, cappuccino = cart.lines
    assert (bagel.id, bagel.unit_price, bagel.total, bagel.vat_rate) == ("L1", 800, 1600, "7")
    assert (cappuccino.unit_price, cappuccino.total, cappuccino.vat_rate) == (490, 490, "19")
    assert [o.name for o in cappuccino.options] == ["Hafermilch", "Extra Shot"]
    totals = cart.totals
    assert (totals.subtotal, totals.discount, totals.tip, totals.total) == (2090, 0, 150, 2240)
    assert [(v.rate, v.net, v.tax, v.gross) for v in totals.vat] == [("7", 1495, 105, 1600), ("19", 412, 78, 490)]


def test_unknown_products_and_options_are_reported_per_field():
    with pytest.raises(DomainError) as caught:
        price_cart(CATALOG, (CartItem("nope", 1), CartItem("bagel", 1, ("salmon", "salmon", "ham"))), tip=0)
    assert caught.value.code == "validation_failed"
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("items[0].product_id", "unknown product"),
        ("items[1].options", "option 'salmon' chosen twice"),
        ("items[1].options", "unknown option 'ham'"),
    ]


def test_sold_out_product_is_unavailable():
    with pytest.raises(DomainError) as caught:
        price_cart(CATALOG, (CartItem("croissant", 1), CartItem("soup", 1)), tip=0)
    assert caught.value.code == "product_unavailable"
    assert "soup" in caught.value.detail


def test_gift_cards_sold_are_outside_vat():
    cart = price_cart(CATALOG, (CartItem("giftcard-25", 2), CartItem("croissant", 1)), tip=100)
    voucher = cart.lines[0]
    assert (voucher.kind, voucher.vat_rate, voucher.total) == ("giftcard", None, 5000)
    totals = cart.totals
    assert (totals.subtotal, totals.giftcards_sold, totals.total) == (5290, 5000, 5390)
    assert [(v.rate, v.gross) for v in totals.vat] == [("7", 290)]


def request_for(fulfilment="pickup", method="on_site", provider=None):
    return OrderRequest(
        items=(CartItem("croissant", 1),),
        fulfilment=Fulfilment(fulfilment),
        customer=Customer("A", "a@b.de"),
        payment_method=method,
        provider=provider,
    )


def test_store_rules_check_fulfilment_payment_and_opening_hours():
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    check_orderable(DEMO_STORE, request_for(), now)
    with pytest.raises(DomainError) as caught:
        check_orderable(DEMO_STORE, request_for(fulfilment="delivery", method="online", provider="stripe"), now)
    assert [e.field for e in caught.value.errors] == ["fulfilment.type", "payment.provider"]
    closed = DEMO_STORE.__class__(**{**vars(DEMO_STORE), "opening_hours": {"mon": [("08:00", "09:00")]}})
    with pytest.raises(DomainError) as caught:
        check_orderable(closed, request_for(), now)
    assert caught.value.code == "store_closed"


products = st.lists(
    st.builds(
        Product,
        id=st.uuids().map(str),
        name=st.just("p"),
        price=st.integers(0, 100_000),
        vat_rate=st.sampled_from(["7", "19"]),
        available=st.just(True),
        options=st.lists(
            st.builds(ProductOption, id=st.uuids().map(str), name=st.just("o"), price=st.integers(0, 5_000)), max_size=3
        ).map(tuple),
    ),
    min_size=1,
    max_size=10,
)


@given(products, st.data(), st.integers(0, 100_000))
def test_any_cart_adds_up_to_the_cent(catalog_list, data, tip):
    catalog = {p.id: p for p in catalog_list}
    items = data.draw(
        st.lists(st.sampled_from(catalog_list), min_size=1, max_size=20).map(
            lambda ps: tuple(
                CartItem(
                    p.id, data.draw(st.integers(1, 99)), tuple(o.id for o in p.options[: data.draw(st.integers(0, 3))])
                )
                for p in ps
            )
        )
    )
    cart = price_cart(catalog, items, tip)
    totals = cart.totals
    assert totals.subtotal == sum(line.total for line in cart.lines)
    assert all(line.total == line.unit_price * line.quantity for line in cart.lines)
    assert sum(v.gross for v in totals.vat) == totals.subtotal - totals.discount
    assert all(v.net + v.tax == v.gross for v in totals.vat)
    assert totals.total == totals.subtotal - totals.discount + tip
    for line, item in zip(cart.lines, items, strict=True):
        product = catalog[item.product_id]
        assert line.unit_price == product.price + sum(product.option(o).price for o in item.options)
