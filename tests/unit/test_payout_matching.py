"""Payout matching on the in-memory backend: every item matched once, whatever events come in —
replays, a second event for the same payout, another payout claiming a payment, a payout of more
items than one commit takes, and a crash between its commits; and which of a payout's items are
one store's when the provider account pays out several."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tresen.adapters.backend import Backend
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.payments import PayoutEvent
from tresen.domain.payouts import PAYMENT, REFUND, PayoutItem, stripe_items
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.payouts import store_payouts
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store
from tresen.services.webhooks import HandleEvent, handle_event


def payout(payout_id: str, items: list[dict], arrival: str = "2026-11-20") -> dict:
    amount = sum(item["amount"] - item["fee"] for item in items)
    return {"payout_id": payout_id, "arrival_date": arrival, "amount": amount, "currency": "EUR", "items": items}


def deliver(backend, event_id: str, body: dict):
    return handle_event(HandleEvent(PayoutEvent("sandbox", event_id, "payout.paid", body), b"{}"), backend)


ITEMS = [
    {"payment_id": "pay_a", "amount": 1840, "fee": 53},
    {"payment_id": "pay_b", "amount": 990, "fee": 29},
    {"payment_id": "pay_a", "refund_id": "sbx_re_1", "amount": -300, "fee": 0},
]


def test_each_item_is_matched_with_its_fee_and_net_and_the_payout_sums_them(backend):
    assert deliver(backend, "evt_1", payout("po_1", ITEMS)).duplicate is False
    payments = backend.payouts.matches(PAYMENT, ["pay_a", "pay_b", "pay_unknown"])
    assert {k: (m["payout_id"], m["amount"], m["fee"], m["net"]) for k, m in payments.items()} == {
        "pay_a": ("po_1", 1840, 53, 1787),
        "pay_b": ("po_1", 990, 29, 961),
    }
    refunds = backend.payouts.matches(REFUND, ["sbx_re_1"])
    assert (refunds["sbx_re_1"]["payment_id"], refunds["sbx_re_1"]["net"]) == ("pay_a", -300)
    [kept] = backend.payouts.arrived_between(date(2026, 11, 20), date(2026, 11, 20))
    assert (kept["amount"], kept["fee"], kept["item_count"], kept["conflicts"]) == (1787 + 961 - 300, 82, 3, [])
    assert len(backend.payouts.matches_of("sandbox", "po_1")) == 3


def test_a_replay_or_a_second_event_for_the_same_payout_changes_nothing(backend):
    deliver(backend, "evt_1", payout("po_1", ITEMS))
    before = dict(backend.docs.get("payouts/sandbox:po_1").data)
    assert deliver(backend, "evt_1", payout("po_1", ITEMS)).duplicate is True
    assert deliver(backend, "evt_2", payout("po_1", ITEMS[:1])).duplicate is False  # acknowledged, once
    assert deliver(backend, "evt_2", payout("po_1", ITEMS[:1])).duplicate is True
    assert backend.docs.get("payouts/sandbox:po_1").data == before
    assert len(backend.payouts.matches_of("sandbox", "po_1")) == 3


def test_a_payment_claimed_by_a_second_payout_stays_with_the_first_and_is_a_conflict(backend):
    deliver(backend, "evt_1", payout("po_1", ITEMS[:1]))
    deliver(backend, "evt_2", payout("po_2", [ITEMS[0], {"payment_id": "pay_c", "amount": 500, "fee": 15}]))
    assert backend.payouts.matches(PAYMENT, ["pay_a"])["pay_a"]["payout_id"] == "po_1"
    assert backend.payouts.matches(PAYMENT, ["pay_c"])["pay_c"]["payout_id"] == "po_2"
    second = backend.docs.get("payouts/sandbox:po_2").data
    assert second["conflicts"] == [{"kind": "payment", "object_id": "pay_a", "claimed_by": "po_1"}]


def test_a_payout_of_more_items_than_one_commit_takes_matches_every_one(backend):
    items = [{"payment_id": f"pay_{n:05d}", "amount": 100 + n, "fee": 3} for n in range(1001)]
    deliver(backend, "evt_big", payout("po_big", items))
    matched = backend.payouts.matches(PAYMENT, [item["payment_id"] for item in items])
    assert len(matched) == 1001 and matched["pay_01000"]["net"] == 1097
    assert backend.docs.get("payouts/sandbox:po_big").data["item_count"] == 1001


def test_a_crash_before_the_payout_is_kept_is_completed_by_the_retry_without_doubling(backend, monkeypatch):
    items = [{"payment_id": f"pay_{n:05d}", "amount": 100, "fee": 3} for n in range(450)]
    commit = Backend.commit_writes
    crashed = []

    def crash_once_keeping_the_payout(self, writes):
        if not crashed and any(write.record == "payout" for write in writes.ops):
            crashed.append(True)
            raise ConnectionError("instance stopped")
        return commit(self, writes)

    monkeypatch.setattr(Backend, "commit_writes", crash_once_keeping_the_payout)
    with pytest.raises(ConnectionError):
        deliver(backend, "evt_1", payout("po_1", items))
    assert backend.docs.get("payouts/sandbox:po_1") is None  # not kept: the provider retries
    assert len(backend.payouts.matches_of("sandbox", "po_1")) == 450  # both chunks were matched before
    assert deliver(backend, "evt_1", payout("po_1", items)).duplicate is False
    kept = backend.docs.get("payouts/sandbox:po_1").data
    assert (kept["item_count"], kept["conflicts"], kept["fee"]) == (450, [], 1350)
    assert len(backend.payouts.matches_of("sandbox", "po_1")) == 450


def test_stripe_balance_transactions_become_items_and_the_payout_itself_is_left_out():
    transactions = [
        {"type": "charge", "amount": 1840, "fee": 56, "source": {"id": "ch_1", "payment_intent": "pi_1"}},
        {"type": "refund", "amount": -300, "fee": 0, "source": {"id": "re_1", "payment_intent": "pi_1"}},
        {"type": "adjustment", "amount": -1500, "fee": 0, "source": {"id": "du_1"}},
        {"type": "payout", "amount": -1484, "fee": 0, "source": {"id": "po_1"}},
    ]
    assert stripe_items(transactions) == (
        [PayoutItem(PAYMENT, "pi_1", "pi_1", 1840, 56), PayoutItem(REFUND, "re_1", "pi_1", -300, 0)],
        1,
    )


def test_a_payout_of_an_account_serving_two_stores_counts_for_each_store_only_its_own_payments(backend):
    seed_store(SeedStore(replace(DEMO_STORE, id="second"), DEMO_PRODUCTS), backend)
    request = OrderRequest(
        (CartItem("espresso", 1),), Fulfilment("pickup"), Customer("Anna", "anna@example.com"), "online", None, 0
    )
    ours, theirs = (
        place_order(PlaceOrder(store_id, request, {"type": "customer"}), backend).order.payment.id
        for store_id in (DEMO_STORE.id, "second")
    )
    items = [
        {"payment_id": ours, "amount": 260, "fee": 8},
        {"payment_id": theirs, "amount": 260, "fee": 9},
        {"payment_id": "pay_not_known_yet", "amount": 500, "fee": 15},
    ]
    deliver(backend, "evt_1", payout("po_1", items))
    day = date(2026, 11, 20)
    for store_id, payment_id, fee in ((DEMO_STORE.id, ours, 8), ("second", theirs, 9)):
        [(kept, mine)] = store_payouts(backend, store_id, day, day)
        assert (kept["payout_id"], [(item["payment_id"], item["fee"]) for item in mine]) == (
            "po_1",
            [(payment_id, fee)],
        )
    assert list(store_payouts(backend, "third", day, day)) == []
