"""The exports' page logic on the in-memory backend: which objects a page names, in which order,
where the next page starts, and the rows themselves; date ranges by store-local day, read in
bounded pages with start-after cursors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tresen.adapters import finance_store
from tresen.adapters.backend import Backend
from tresen.domain.errors import DomainError
from tresen.domain.export_columns import COLUMNS, KINDS
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.payments import PaymentEvent
from tresen.domain.refunds import RefundRequest
from tresen.services import card_blocks, cards, exports
from tresen.services.exports import PageCollector, Position, change_feed, decode_cursor, encode_cursor
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.payments import handle_payment_event
from tresen.services.refunds import RefundOrder, refund_order
from tresen.services.seed import DEMO, DEMO_STORE, seed_store

STORE = DEMO_STORE.id
STAFF = {"type": "staff", "uid": "u1", "role": "owner"}
# two croissants (7 %) and an espresso (19 %): 840 cents
CART = (CartItem("croissant", 2), CartItem("espresso", 1))
NOON = datetime(2026, 11, 23, 12, tzinfo=UTC)  # 13:00 in Berlin


@pytest.fixture
def backend() -> Backend:
    memory = Backend.in_memory()
    seed_store(DEMO, memory)
    memory.now = lambda: NOON  # the use cases read the time only through the backend
    return memory


def order(backend: Backend, method: str = "online", tip: int = 0, at: datetime | None = None):
    if at is not None:
        backend.now = lambda: at
    request = OrderRequest(CART, Fulfilment("pickup"), Customer("Anna", "anna@example.com"), method, None, tip)
    return place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend).order


def pay(backend: Backend, placed) -> None:
    event = PaymentEvent(
        "sandbox", f"evt_{placed.id}", "payment.succeeded", placed.payment.id, placed.amount_due, "EUR"
    )
    handle_payment_event(event, backend)


def refund(backend: Backend, order_id: str, amount: int):
    return refund_order(RefundOrder(STORE, order_id, RefundRequest(amount=amount), STAFF, "owner", None), backend)


def feed(backend: Backend, kind: str, cursor: str | None = None, limit: int = 100):
    return change_feed(backend, STORE, kind, cursor, limit)


def ids(page, key: str = "id") -> list:
    return [row[key] for row in page.rows]


def position(page, kind: str = "orders") -> Position:
    return decode_cursor(page.next_cursor, STORE, kind)


# ------------------------------------------------------------------------- the page, pure


def entry(seq: int, order_id: str | None = None, cards: tuple[str, ...] = ()) -> dict:
    if cards:
        return {
            "seq": seq,
            "type": "giftcard.block_chunk_activated",
            "data": {"cards": [{"card_id": c, "last4": "K7QX"} for c in cards]},
        }
    return {"seq": seq, "type": "order.paid", "data": {"order_id": order_id}}


def test_a_page_holds_each_object_once_at_its_latest_change():
    page = PageCollector("orders", 10, Position(0))
    for e in (entry(1, "a"), entry(2, "b"), entry(3, "a"), entry(4, "c"), entry(5, "b")):
        assert page.take(e)
    assert list(page.objects) == ["a", "c", "b"]
    assert page.objects["b"]["seq"] == 5
    assert page.position == Position(5)


def test_a_full_page_stops_before_the_first_new_object_and_says_where():
    page = PageCollector("orders", 2, Position(0))
    assert page.take(entry(1, "a")) and page.take(entry(2, "b"))
    assert page.take(entry(3, "a"))  # named again: costs no room
    assert not page.take(entry(4, "c"))
    assert (list(page.objects), page.position) == (["b", "a"], Position(3))


def test_an_entry_naming_more_objects_than_a_page_holds_is_split_over_pages():
    chunk = entry(7, cards=("g1", "g2", "g3", "g4", "g5"))
    first = PageCollector("giftcard-activities", 2, Position(6))
    assert not first.take(chunk)
    assert (list(first.objects), first.position) == ([("g1", 1), ("g2", 1)], Position(6, 2))
    second = PageCollector("giftcard-activities", 2, first.position)
    assert not second.take(chunk)
    assert (list(second.objects), second.position) == ([("g3", 1), ("g4", 1)], Position(6, 4))
    third = PageCollector("giftcard-activities", 2, second.position)
    assert third.take(chunk) and third.take(entry(8, "ord_x"))  # the next entry names no card
    assert (list(third.objects), third.position) == ([("g5", 1)], Position(8))


# ------------------------------------------------------------------------- the feed


def test_rows_have_exactly_the_documented_columns_in_order(backend):
    placed = order(backend)
    pay(backend, placed)
    refund(backend, placed.id, 300)
    sold = cards.issue_card(cards.IssueCard(STORE, 5000, STAFF), backend)
    cards.redeem_card(cards.RedeemCard(sold.code, 1250, None, lambda store_id: STAFF), backend)
    for kind in KINDS:
        rows = feed(backend, kind).rows
        assert rows, kind
        assert all(list(row) == list(COLUMNS[kind]) for row in rows), kind
        ranged = exports.export_range(backend, STORE, kind, date(2026, 11, 23), date(2026, 11, 23))
        assert [row for page in ranged.pages for row in page] == rows, kind  # one day, each changed once


def test_an_order_row_has_its_amounts_vat_per_rate_and_store_local_times(backend):
    placed = order(backend, tip=100)
    pay(backend, placed)
    (row,) = feed(backend, "orders").rows
    assert row == {
        "id": placed.id,
        "number": 1,
        "business_day": "2026-11-23",
        "created_at": "2026-11-23T13:00:00+01:00",
        "updated_at": "2026-11-23T13:00:00+01:00",
        "status": "paid",
        "payment_status": "paid",
        "payment_method": "online",
        "provider": "sandbox",
        "payment_id": placed.payment.id,
        "invoice_number": "DEMO-2026-000001",
        "fulfilment": "pickup",
        "currency": "EUR",
        "subtotal": 840,
        "discount": 0,
        "tip": 100,
        "giftcards_sold": 0,
        "total": 940,
        "net_7": 542,
        "vat_7": 38,
        "gross_7": 580,
        "net_19": 218,
        "vat_19": 42,
        "gross_19": 260,
        "gift_card_amount": 0,
        "amount_due": 940,
        "refunded_amount": 0,
    }


def test_the_feed_orders_objects_by_their_latest_change_oldest_first(backend):
    a, b, c = order(backend), order(backend), order(backend)
    pay(backend, a)  # a changes after c was placed
    page = feed(backend, "orders")
    assert ids(page) == [b.id, c.id, a.id]
    assert [row["status"] for row in page.rows] == ["awaiting_payment", "awaiting_payment", "paid"]
    assert (position(page), page.has_more) == (Position(4), False)


def test_polling_at_the_head_answers_nothing_new_then_the_next_change(backend):
    a, b = order(backend), order(backend)
    head = feed(backend, "orders")
    quiet = feed(backend, "orders", head.next_cursor)
    assert (quiet.rows, quiet.next_cursor, quiet.has_more) == ([], head.next_cursor, False)
    pay(backend, b)
    changed = feed(backend, "orders", quiet.next_cursor)
    assert [(row["id"], row["status"]) for row in changed.rows] == [(b.id, "paid")]
    assert a.id not in ids(changed)


def test_pages_of_limit_objects_cover_every_object_once_and_say_if_more_waits(backend):
    placed = [order(backend).id for _ in range(7)]  # one entry each
    pages, cursor = [], None
    for _ in range(3):
        page = feed(backend, "orders", cursor, limit=3)
        pages.append(page)
        cursor = page.next_cursor
    assert [ids(page) for page in pages] == [placed[:3], placed[3:6], placed[6:]]
    assert [(position(page).seq, page.has_more) for page in pages] == [(3, True), (6, True), (7, False)]


def test_an_object_changed_while_paging_comes_again_in_its_new_state(backend):
    a, b, c = order(backend), order(backend), order(backend)
    first = feed(backend, "orders", limit=2)
    assert ids(first) == [a.id, b.id]
    pay(backend, a)
    rest = feed(backend, "orders", first.next_cursor, limit=2)
    assert [(row["id"], row["status"]) for row in rest.rows] == [(c.id, "awaiting_payment"), (a.id, "paid")]
    assert rest.has_more is False


def test_payments_are_the_online_orders_with_the_state_of_their_order(backend):
    online, counter = order(backend), order(backend, "on_site")
    pay(backend, online)
    refund(backend, online.id, 300)
    (row,) = feed(backend, "payments").rows
    assert row == {
        "id": online.payment.id,
        "order_id": online.id,
        "order_number": online.number,
        "created_at": "2026-11-23T13:00:00+01:00",
        "provider": "sandbox",
        "status": "partially_refunded",
        "order_status": "paid",
        "amount": 840,
        "currency": "EUR",
        "invoice_number": "DEMO-2026-000002",  # the counter order got the first at once
        "last_error": None,
    }
    assert counter.payment is None


def test_a_refund_row_splits_its_amount_over_the_rates(backend):
    placed = order(backend)
    pay(backend, placed)
    partial = refund(backend, placed.id, 300)
    (row,) = feed(backend, "refunds").rows
    assert row == {
        "id": partial.id,
        "order_id": placed.id,
        "payment_id": placed.payment.id,
        "created_at": "2026-11-23T13:00:00+01:00",
        "provider": "sandbox",
        "to": "original",
        "status": "succeeded",
        "reason": "",
        "currency": "EUR",
        "amount": 300,
        "provider_amount": 300,
        "giftcard_amount": 0,
        # 300 in proportion to 580 at 7 % and 260 at 19 %: 207.14 and 92.86, the cent to the larger remainder
        "net_7": 193,
        "vat_7": 14,
        "gross_7": 207,
        "net_19": 78,
        "vat_19": 15,
        "gross_19": 93,
        "untaxed": 0,
        "provider_refund_id": f"sbx_{partial.id}",
    }


def test_a_refund_beyond_the_goods_has_the_rest_untaxed(backend):
    placed = order(backend, tip=100)
    pay(backend, placed)
    refund(backend, placed.id, 940)
    (row,) = feed(backend, "refunds").rows
    assert [row[column] for column in ("amount", "gross_7", "gross_19", "untaxed")] == [940, 580, 260, 100]


def test_gift_card_activities_are_the_ledger_rows_with_their_card(backend):
    sold = cards.issue_card(cards.IssueCard(STORE, 5000, STAFF), backend)
    cards.redeem_card(cards.RedeemCard(sold.code, 1250, None, lambda store_id: STAFF), backend)
    rows = feed(backend, "giftcard-activities").rows
    assert [(r["card_id"], r["last4"], r["n"], r["type"]) for r in rows] == [
        (sold.card.id, sold.card.last4, 1, "activate"),
        (sold.card.id, sold.card.last4, 2, "redeem"),
    ]
    assert [(r["amount"], r["balance_change"], r["balance_after"]) for r in rows] == [
        (5000, 5000, 5000),
        (1250, -1250, 3750),
    ]
    assert (rows[0]["actor_type"], rows[0]["actor_id"], rows[0]["at"]) == ("staff", "u1", "2026-11-23T13:00:00+01:00")


def test_a_block_of_cards_is_paged_through_without_loss(backend):
    activation_id = card_blocks.start_block(card_blocks.StartBlock(STORE, 1000, 5, STAFF), backend)
    card_blocks.run_block(activation_id, backend)
    seen, cursor, sizes = [], None, []
    while True:
        page = feed(backend, "giftcard-activities", cursor, limit=2)
        seen += [(row["card_id"], row["n"], row["balance_after"]) for row in page.rows]
        sizes.append(len(page.rows))
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert sizes == [2, 2, 1]
    assert len(set(seen)) == 5 and {(n, balance) for _, n, balance in seen} == {(1, 1000)}


def test_a_kind_few_entries_name_answers_short_pages_rather_than_reading_on(backend, monkeypatch):
    monkeypatch.setattr(exports, "MAX_EXAMINED", 4)
    monkeypatch.setattr(exports, "JOURNAL_CHUNK", 2)
    for _ in range(6):
        order(backend)
    sold = cards.issue_card(cards.IssueCard(STORE, 5000, STAFF), backend)
    first = feed(backend, "giftcard-activities", limit=10)
    assert (first.rows, position(first, "giftcard-activities"), first.has_more) == ([], Position(4), True)
    second = feed(backend, "giftcard-activities", first.next_cursor, limit=10)
    assert ([row["card_id"] for row in second.rows], second.has_more) == ([sold.card.id], False)


def test_the_journal_feed_is_the_entries_as_stored(backend):
    placed = order(backend)
    pay(backend, placed)
    rows = feed(backend, "journal").rows
    assert [(row["seq"], row["type"], row["data"]["order_id"]) for row in rows] == [
        (1, "order.placed", placed.id),
        (2, "order.paid", placed.id),
    ]
    assert rows[0]["at"] == "2026-11-23T12:00:00+00:00" and rows[1]["prev_hash"] == rows[0]["hash"]


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "e30",  # {}
        encode_cursor(STORE, "refunds", Position(1)),  # another feed's
        encode_cursor("other", "orders", Position(1)),
        encode_cursor(STORE, "orders", Position(-1)),
        encode_cursor(STORE, "orders", Position(2**63)),
    ],
)
def test_a_cursor_this_feed_did_not_issue_is_refused(backend, cursor):
    with pytest.raises(DomainError) as refused:
        feed(backend, "orders", cursor)
    assert (refused.value.code, [e.field for e in refused.value.errors]) == ("validation_failed", ["query.cursor"])


def test_an_unknown_kind_is_not_found(backend):
    with pytest.raises(DomainError) as refused:
        feed(backend, "invoices")
    assert refused.value.code == "not_found"


# ------------------------------------------------------------------------- date ranges


def test_a_range_is_store_local_days_inclusive(backend):
    before = order(backend, at=datetime(2026, 11, 22, 22, 59, 59, tzinfo=UTC))  # 23:59:59 on the 22nd in Berlin
    first = order(backend, at=datetime(2026, 11, 22, 23, 0, tzinfo=UTC))  # 00:00 on the 23rd
    last = order(backend, at=datetime(2026, 11, 24, 22, 59, 59, tzinfo=UTC))  # 23:59:59 on the 24th
    after = order(backend, at=datetime(2026, 11, 24, 23, 0, tzinfo=UTC))
    ranged = exports.export_range(backend, STORE, "orders", date(2026, 11, 23), date(2026, 11, 24))
    assert [row["id"] for page in ranged.pages for row in page] == [first.id, last.id]
    assert {before.id, after.id}.isdisjoint({first.id, last.id})
    (only,) = exports.export_range(backend, STORE, "journal", date(2026, 11, 22), date(2026, 11, 22)).pages
    assert [row["data"]["order_id"] for row in only] == [before.id]


def test_a_range_is_read_in_bounded_pages_each_after_the_last_one(backend, monkeypatch):
    monkeypatch.setattr(finance_store, "STREAM_PAGE", 2)
    placed = [order(backend, at=NOON + timedelta(minutes=n)).id for n in range(5)]
    queries = []
    docs = backend.docs
    original = docs.query

    def spy(collection, **kwargs):
        queries.append((collection, kwargs.get("limit"), kwargs.get("start_after")))
        return original(collection, **kwargs)

    monkeypatch.setattr(docs, "query", spy)
    pages = list(exports.export_range(backend, STORE, "orders", date(2026, 11, 23), date(2026, 11, 23)).pages)
    assert [[row["id"] for row in page] for page in pages] == [placed[:2], placed[2:4], placed[4:]]
    assert [limit for _, limit, _ in queries] == [2, 2, 2]
    assert [start and start["id"] for _, _, start in queries] == [None, placed[1], placed[3]]


def test_every_kind_exports_a_range(backend):
    placed = order(backend)
    pay(backend, placed)
    refund(backend, placed.id, 840)
    cards.issue_card(cards.IssueCard(STORE, 5000, STAFF), backend)
    counts = {
        kind: sum(
            len(page)
            for page in exports.export_range(backend, STORE, kind, date(2026, 11, 23), date(2026, 11, 23)).pages
        )
        for kind in KINDS
    }
    assert counts == {"orders": 1, "payments": 1, "refunds": 1, "giftcard-activities": 1, "journal": 5}


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (date(2026, 11, 24), date(2026, 11, 23), "query.to"),
        (date(2025, 1, 1), date(2026, 1, 2), "query.to"),  # 367 days
        (date(1, 1, 1), date(1, 1, 1), "query.from"),  # before what a time in Berlin can be
    ],
)
def test_a_range_backwards_or_over_366_days_is_refused(backend, first, last, field):
    with pytest.raises(DomainError) as refused:
        exports.export_range(backend, STORE, "orders", first, last)
    assert (refused.value.code, [e.field for e in refused.value.errors]) == ("validation_failed", [field])


def test_a_range_of_366_days_is_taken(backend):
    ranged = exports.export_range(backend, STORE, "orders", date(2024, 1, 1), date(2024, 12, 31))  # a leap year
    assert list(ranged.pages) == []
