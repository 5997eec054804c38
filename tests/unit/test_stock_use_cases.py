"""The catalog and its stock on the in-memory backend: each product change journaled with the
product's whole state (its price on a past day proven from the journal), a hidden product off the
menu while its orders keep their lines; stock taken in the order's own commit, several lines of one
product adding up, never more than there is (`out_of_stock` naming what is left), given back by the
commit that cancels, rejects or voids the order or refunds it with `restock`; sold out at 0; one
`stock.low` per crossing, sent as a webhook; staff's adjustments; sales at the counter; two
instances never selling the same units."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from test_use_cases import STAFF, STORE, instances
from test_webhooks import Receiver, endpoint

from tresen.adapters import clock
from tresen.domain.catalog import Product, ProductOption
from tresen.domain.errors import DomainError, FieldError
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.refunds import RefundRequest
from tresen.services.catalog import HideProduct, PutProduct, hide_product, put_product
from tresen.services.corrections import VoidItems, void_items
from tresen.services.counter_orders import COUNTER_CUSTOMER, PlaceCounterOrder, place_counter_order
from tresen.services.order_status import ChangeStatus, change_status
from tresen.services.order_views import menu, order_for_staff
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.payments import ExpireOrders, expire_orders
from tresen.services.refunds import RefundOrder, refund_order
from tresen.services.stock import AdjustStock, adjust_stock, stock_level
from tresen.services.stock_ports import StockRecord, write_stock
from tresen.services.unit_of_work import Plan, Writes
from tresen.services.webhook_dispatch import dispatch_store

OWNER = STAFF | {"role": "owner"}
ANNA = Customer("Anna", "anna@example.com")
CUSTOMER = {"type": "customer"}
MONDAY = datetime(2026, 11, 16, 9, tzinfo=UTC)  # 10:00 in the store
# a tracked product: its stock at 3 or below is low
BREZEL = Product("brezel", "Laugenbrezel", 120, "7", True, stock_tracked=True, low_stock_at=3)


def put(backend, product: Product = BREZEL):
    return put_product(PutProduct(STORE, product, OWNER), backend)


def count(backend, stock: int, product_id: str = "brezel"):
    return adjust_stock(AdjustStock(STORE, product_id, None, stock, "count", STAFF), backend)


def stock_of(backend, product_id: str = "brezel") -> int:
    return stock_level(backend, STORE, product_id).stock


def request(*items: CartItem, method: str = "on_site", customer=ANNA):
    return OrderRequest(items, Fulfilment("pickup"), customer, method)


def sell(backend, *items: CartItem, method: str = "on_site"):
    return place_order(PlaceOrder(STORE, request(*items, method=method), CUSTOMER), backend).order


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as refusal:
        call()
    return refusal.value


def entries(backend, *types: str) -> list[tuple[str, dict]]:
    return [(e["type"], e["data"]) for e in backend.journal.entries(STORE) if e["type"] in types]


def on_menu(backend) -> dict[str, bool]:
    return {product.id: product.available for product in menu(backend, STORE).products}


@pytest.fixture
def brezel(backend):
    """The tracked product, counted: 10 in stock."""
    put(backend)
    count(backend, 10)
    return backend


# -- the catalog ----------------------------------------------------------------------------------


def test_a_product_put_is_created_then_changed_each_change_journaled_with_its_whole_state(backend):
    with_options = Product(
        "flat-white", "Flat White", 390, "19", True, options=(ProductOption("oat", "Hafermilch", 50),)
    )
    created = put(backend, with_options)
    again = put(backend, with_options)  # as it is: nothing written, nothing journaled
    changed = put(backend, Product("flat-white", "Flat White", 420, "19", True, category="Kaffee"))
    assert (created.created, again.created, changed.created) == (True, False, False)
    assert (created.product.position, created.stock) == (9, 0)  # after the demo store's 8 products
    state = {
        "product_id": "flat-white",
        "name": "Flat White",
        "vat_rate": "19",
        "kind": "item",
        "available": True,
        "hidden": False,
        "description": None,
        "stock_tracked": False,
        "low_stock_at": None,
    }
    assert entries(backend, "catalog.changed") == [
        (
            "catalog.changed",
            state
            | {
                "change": "created",
                "price": 390,
                "options": [{"id": "oat", "name": "Hafermilch", "price": 50}],
                "category": None,
            },
        ),
        ("catalog.changed", state | {"change": "updated", "price": 420, "options": [], "category": "Kaffee"}),
    ]
    assert [p.price for p in menu(backend, STORE).products if p.id == "flat-white"] == [420]  # at once


def price_on(backend, product_id: str, moment: datetime) -> int | None:
    """What the journal proves the product cost at `moment`: its last change before, if on sale."""
    changes = [
        entry["data"]
        for entry in backend.journal.entries(STORE)
        if entry["type"] == "catalog.changed"
        and entry["data"]["product_id"] == product_id
        and datetime.fromisoformat(entry["at"]) <= moment
    ]
    return changes[-1]["price"] if changes and not changes[-1]["hidden"] else None


def test_the_price_on_a_past_day_is_proven_by_the_journal(backend, monkeypatch):
    moment = [MONDAY]
    monkeypatch.setattr(clock, "now", lambda: moment[0])
    put(backend)
    moment[0] = MONDAY + timedelta(days=2)
    put(backend, Product("brezel", "Laugenbrezel", 140, "7", True, stock_tracked=True, low_stock_at=3))
    moment[0] = MONDAY + timedelta(days=4)
    hide_product(HideProduct(STORE, "brezel", OWNER), backend)
    proven = [price_on(backend, "brezel", MONDAY + timedelta(days=day, hours=5)) for day in range(-1, 5)]
    assert proven == [None, 120, 120, 140, 140, None]


def test_a_product_breaking_the_rules_is_refused_field_by_field(backend):
    gift_card_with_vat = Product("Gutschein_10", "Gutschein", 1000, "19", True, kind="giftcard")
    twice = Product("tea", "Tee", 300, None, True, options=(ProductOption("lemon", "Zitrone", 0),) * 2)
    assert refused(lambda: put(backend, gift_card_with_vat)).errors == [
        FieldError("id", "1 to 64 lowercase letters, digits and -"),
        FieldError("vat_rate", "null for a gift card: a multi-purpose voucher bears no VAT"),
    ]
    assert refused(lambda: put(backend, twice)).errors == [
        FieldError("vat_rate", "7 or 19 for an item"),
        FieldError("options", "option 'lemon' given twice"),
    ]
    assert entries(backend, "catalog.changed") == []


def test_a_hidden_product_leaves_the_menu_and_cannot_be_ordered_but_its_orders_keep_their_lines(backend):
    sold = sell(backend, CartItem("croissant", 2))
    hide_product(HideProduct(STORE, "croissant", OWNER), backend)
    hide_product(HideProduct(STORE, "croissant", OWNER), backend)  # hidden already: nothing happens
    assert "croissant" not in on_menu(backend)
    assert [(line.product_id, line.name, line.quantity) for line in order_for_staff(backend, STORE, sold.id).lines] == [
        ("croissant", "Butter-Croissant", 2)
    ]
    assert refused(lambda: sell(backend, CartItem("croissant", 1))).errors == [
        FieldError("items[0].product_id", "unknown product")
    ]
    assert [data["change"] for _, data in entries(backend, "catalog.changed")] == ["hidden"]
    assert refused(lambda: hide_product(HideProduct(STORE, "pretzel", OWNER), backend)).code == "product_not_found"

    put(backend, Product("croissant", "Butter-Croissant", 290, "7", True))
    assert list(on_menu(backend))[0] == "croissant"  # back, at its own place


# -- taking stock ---------------------------------------------------------------------------------


def test_an_order_takes_tracked_stock_in_its_commit_and_lines_of_one_product_add_up(brezel):
    sold = sell(brezel, CartItem("brezel", 2), CartItem("croissant", 1), CartItem("brezel", 3))
    assert (stock_of(brezel), sold.stock_held) == (5, {"L1": 2, "L3": 3})
    assert entries(brezel, "stock.taken") == [
        (
            "stock.taken",
            {"order_id": sold.id, "products": [{"product_id": "brezel", "quantity": 5, "before": 10, "after": 5}]},
        )
    ]
    assert order_for_staff(brezel, STORE, sold.id).stock_held == {"L1": 2, "L3": 3}


def test_too_little_stock_is_out_of_stock_naming_what_is_left_and_nothing_is_taken(brezel):
    put(brezel, Product("laugenstange", "Laugenstange", 150, "7", True, stock_tracked=True))
    count(brezel, 4)
    count(brezel, 1, "laugenstange")
    refusal = refused(
        lambda: sell(brezel, CartItem("brezel", 3), CartItem("laugenstange", 1), CartItem("brezel", 2), method="online")
    )
    assert (refusal.code, refusal.extra) == ("out_of_stock", {"available": {"brezel": 4}})
    assert (stock_of(brezel), stock_of(brezel, "laugenstange")) == (4, 1)
    assert entries(brezel, "order.placed", "stock.taken") == []


def test_at_zero_a_tracked_product_is_unavailable_on_the_menu_and_an_order_is_out_of_stock(brezel):
    count(brezel, 1)
    sell(brezel, CartItem("brezel", 1))
    put(brezel, Product("laugenstange", "Laugenstange", 150, "7", True, stock_tracked=True))  # never counted
    shown = on_menu(brezel)
    assert (shown["brezel"], shown["laugenstange"], shown["croissant"], shown["soup"]) == (False, False, True, False)
    refusal = refused(lambda: sell(brezel, CartItem("brezel", 1)))
    assert (refusal.code, refusal.extra) == ("out_of_stock", {"available": {"brezel": 0}})


# -- giving it back -------------------------------------------------------------------------------


def expire(backend, placed, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: placed.expires_at + timedelta(seconds=1))
    expire_orders(ExpireOrders(), backend)


def reject(backend, placed, _monkeypatch):
    change_status(ChangeStatus(STORE, placed.id, "rejected", STAFF, "no oven"), backend)


@pytest.mark.parametrize(
    ("method", "close", "reason"), [("online", expire, "canceled"), ("on_site", reject, "rejected")]
)
def test_a_canceled_or_rejected_order_gives_back_everything_it_took(brezel, monkeypatch, method, close, reason):
    placed = sell(brezel, CartItem("brezel", 2), CartItem("brezel", 1), method=method)
    close(brezel, placed, monkeypatch)
    assert (stock_of(brezel), order_for_staff(brezel, STORE, placed.id).stock_held) == (10, {})
    returned = {
        "order_id": placed.id,
        "reason": reason,
        "products": [{"product_id": "brezel", "quantity": 3, "before": 7, "after": 10}],
    }
    assert entries(brezel, "stock.returned") == [("stock.returned", returned)]


def test_a_voided_unit_goes_back_and_voiding_all_cancels_with_the_rest(brezel):
    placed = sell(brezel, CartItem("brezel", 3), method="online")
    void_items(VoidItems(STORE, placed.id, (("L1", 1),), "one too many", STAFF, "supervisor", None), brezel)
    assert (stock_of(brezel), order_for_staff(brezel, STORE, placed.id).stock_held) == (8, {"L1": 2})
    void_items(VoidItems(STORE, placed.id, (("L1", 2),), "changed mind", STAFF, "supervisor", None), brezel)
    assert stock_of(brezel) == 10
    assert [(data["reason"], data["products"][0]["quantity"]) for _, data in entries(brezel, "stock.returned")] == [
        ("voided", 1),
        ("canceled", 2),
    ]


def refund_lines(backend, order_id: str, quantity: int, restock: bool):
    request = RefundRequest(lines=(("L1", quantity),), reason="stale")
    return refund_order(RefundOrder(STORE, order_id, request, STAFF, "supervisor", None, restock=restock), backend)


def test_a_refund_by_lines_gives_its_units_back_only_with_restock(brezel):
    placed = sell(brezel, CartItem("brezel", 3))  # paid at the counter
    refund_lines(brezel, placed.id, 1, restock=False)
    assert stock_of(brezel) == 7
    restocked = refund_lines(brezel, placed.id, 2, restock=True)
    assert (stock_of(brezel), order_for_staff(brezel, STORE, placed.id).stock_held) == (9, {"L1": 1})
    returned = {
        "order_id": placed.id,
        "reason": "refund",
        "refund_id": restocked.id,
        "products": [{"product_id": "brezel", "quantity": 2, "before": 7, "after": 9}],
    }
    assert entries(brezel, "stock.returned") == [("stock.returned", returned)]
    change_status(ChangeStatus(STORE, placed.id, "rejected", STAFF), brezel)
    assert stock_of(brezel) == 10  # what it still held, and no more


def test_a_product_tracked_after_the_order_gives_back_nothing_it_never_took(backend, monkeypatch):
    placed = sell(backend, CartItem("croissant", 2), method="online")
    put(backend, Product("croissant", "Butter-Croissant", 290, "7", True, stock_tracked=True))
    count(backend, 5, "croissant")
    expire(backend, placed, monkeypatch)
    assert (stock_of(backend, "croissant"), entries(backend, "stock.returned")) == (5, [])


# -- low stock, adjustments -----------------------------------------------------------------------


def test_a_low_stock_entry_is_written_once_per_crossing_and_sent_as_a_webhook(brezel):
    brezel.webhook_sender = receiver = Receiver()
    endpoint(brezel, events=("stock.low",))
    count(brezel, 5)
    for _ in range(3):
        sell(brezel, CartItem("brezel", 1))  # 4, 3 (low), 2
    adjust_stock(AdjustStock(STORE, "brezel", 5, None, "delivery", STAFF), brezel)  # 7
    adjust_stock(AdjustStock(STORE, "brezel", -4, None, "waste", STAFF), brezel)  # 3 (low)
    assert entries(brezel, "stock.low") == [
        ("stock.low", {"product_id": "brezel", "stock": 3, "low_stock_at": 3}),
        ("stock.low", {"product_id": "brezel", "stock": 3, "low_stock_at": 3}),
    ]
    dispatch_store(brezel, STORE)
    sent = [json.loads(request.body) for request in receiver.requests]
    assert [(event["type"], event["data"]["object"]) for event in sent] == [
        ("stock.low", {"product_id": "brezel", "stock": 3, "low_stock_at": 3})
    ] * 2  # the object as it is when sent


def test_staff_add_take_away_and_count_the_stock_never_below_zero(brezel):
    added = adjust_stock(AdjustStock(STORE, "brezel", 12, None, "delivery", STAFF), brezel)
    counted = count(brezel, 20)
    refusal = refused(lambda: adjust_stock(AdjustStock(STORE, "brezel", -21, None, "waste", STAFF), brezel))
    assert (added.stock, counted.stock, counted.low_stock_at) == (22, 20, 3)
    assert (refusal.code, refusal.extra, stock_of(brezel)) == ("insufficient_stock", {"stock": 20}, 20)
    assert [data for _, data in entries(brezel, "stock.adjusted")] == [
        {"product_id": "brezel", "reason": "count", "before": 0, "after": 10},
        {"product_id": "brezel", "reason": "delivery", "before": 10, "after": 22},
        {"product_id": "brezel", "reason": "count", "before": 22, "after": 20},
    ]
    assert refused(lambda: count(brezel, 1, "pretzel")).code == "product_not_found"


# -- the counter, several instances ---------------------------------------------------------------


def test_a_counter_sale_takes_the_same_stock_with_a_walk_in_customer_and_says_where_it_was_made(brezel):
    sale = place_counter_order(
        PlaceCounterOrder(STORE, request(CartItem("brezel", 4), customer=None), STAFF), brezel
    ).order
    online = sell(brezel, CartItem("brezel", 1))
    assert (sale.channel, sale.customer, online.channel, stock_of(brezel)) == ("counter", COUNTER_CUSTOMER, "online", 5)
    placed = [data for _, data in entries(brezel, "order.placed")]
    assert [(data["order_id"], data.get("channel")) for data in placed] == [(sale.id, "counter"), (online.id, None)]
    assert order_for_staff(brezel, STORE, sale.id).channel == "counter"

    mailed_to_nobody = request(CartItem("brezel", 1), customer=None)
    online_at_counter = request(CartItem("brezel", 1), method="online")
    for asked, field in (
        (replace(mailed_to_nobody, receipt="email"), "customer.email"),
        (online_at_counter, "payment.method"),
    ):
        refusal = refused(lambda asked=asked: place_counter_order(PlaceCounterOrder(STORE, asked, STAFF), brezel))
        assert (refusal.code, [error.field for error in refusal.errors]) == ("validation_failed", [field])


def test_two_instances_selling_at_once_never_sell_the_same_units():
    servers = instances(2)
    put(servers[0])
    count(servers[0], 6)
    outcomes: list[str] = []

    def sell_five(server) -> None:
        for _ in range(5):
            try:
                sell(server, CartItem("brezel", 1))
                outcomes.append("sold")
            except DomainError as error:
                outcomes.append(error.code)

    threads = [threading.Thread(target=sell_five, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (sorted(outcomes), stock_of(servers[1])) == (["out_of_stock"] * 4 + ["sold"] * 6, 0)
    taken = [data["products"][0] for _, data in entries(servers[0], "stock.taken")]
    assert [(move["before"], move["after"]) for move in taken] == [(n, n - 1) for n in range(6, 0, -1)]


@pytest.mark.parametrize(("counted_before", "read_first"), [(10, 10), (None, 0)])
def test_a_count_is_written_only_if_still_as_read_else_decided_again(counted_before, read_first):
    """Without a journal entry to race for, only the count's own guard can tell: another instance
    counted between this commit's read and its write (a product never counted: made its record)."""
    first, second = instances(2)
    put(first)
    if counted_before is not None:
        count(first, counted_before)
    reads = []

    def build(_claims):
        counted = first.stock.read(STORE, ["brezel"])["brezel"]
        reads.append(counted.stock)
        if len(reads) == 1:
            count(second, 7)
        writes = Writes(STAFF)
        write_stock(writes, StockRecord(STORE, "brezel", counted.stock - 1, first.now()), counted.version)
        return Plan(None, first.now(), STAFF, [], writes)

    first.commit(STORE, build)
    assert (reads, stock_of(second)) == ([read_first, 7], 6)
