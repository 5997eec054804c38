"""Gift cards inside orders, as pure rules: which card pays what, what settling an order does to
its cards, and the refund rule (cards first, last card first)."""

from dataclasses import replace

import pytest
from test_corrections import mixed_order
from test_payment_decisions import NOW

from tresen.domain import giftcards as gc
from tresen.domain.errors import DomainError
from tresen.domain.order_giftcards import hold_at_placement, plan_uses, refund_to_cards, settle
from tresen.domain.orders import GiftCardUse, SoldCard

STORE = "demo"


def card(card_id: str, balance: int, store_id: str = STORE) -> gc.Card:
    return gc.issue(card_id, store_id, card_id[-4:].upper(), "EUR", "Europe/Berlin", balance, NOW).card


def apply(ops, cards: dict[str, gc.Card]) -> dict[str, list[tuple]]:
    """Run the ops on the cards (by key) and list each card's new activities."""
    done: dict[str, list[tuple]] = {}
    for op in ops:
        change = op.apply(cards[op.card_key])
        cards[op.card_key] = change.card
        done.setdefault(op.card_key, []).extend((a.type, a.balance_change, a.balance_after) for a in change.activities)
    return done


def test_each_card_pays_what_it_has_up_to_what_is_left():
    uses = plan_uses([("k1", card("gc_a001", 300)), ("k2", card("gc_b002", 5000))], [None, None], STORE, 960, NOW)
    assert [(u.card_key, u.amount, u.status) for u in uses] == [("k1", 300, "held"), ("k2", 660, "held")]
    assert all(len(u.auth_code) == 6 for u in uses)
    explicit = plan_uses([("k1", card("gc_a001", 300))], [120], STORE, 960, NOW)
    assert explicit[0].amount == 120


@pytest.mark.parametrize(
    ("found", "amounts", "code", "field"),
    [
        ([("k1", None)], [None], "giftcard_not_active", None),
        ([("k1", card("gc_a001", 300, store_id="elsewhere"))], [None], "giftcard_not_active", None),
        ([("k1", card("gc_a001", 300))], [301], "giftcard_insufficient_funds", None),
        ([("k1", card("gc_a001", 5000))], [961], "validation_failed", "gift_cards[0].amount"),
        (
            [("k1", card("gc_a001", 90)), ("k1", card("gc_a001", 90))],
            [None, None],
            "validation_failed",
            "gift_cards[1].code",
        ),
    ],
)
def test_cards_that_cannot_pay(found, amounts, code, field):
    with pytest.raises(DomainError) as refused:
        plan_uses(found, amounts, STORE, 960, NOW)
    assert refused.value.code == code
    assert [e.field for e in refused.value.errors] == ([field] if field else [])


def test_a_deactivated_or_expired_card_cannot_pay():
    blocked = gc.deactivate(card("gc_a001", 300), "stolen", NOW).card
    for inactive, when in ((blocked, NOW), (card("gc_b002", 300), blocked.expires_at)):
        with pytest.raises(DomainError, match="giftcard_not_active"):
            plan_uses([("k1", inactive)], [None], STORE, 960, when)


def placed_with_cards(*amounts: int):
    cards = {f"k{i}": card(f"gc_{i:04d}", 1000) for i in range(len(amounts))}
    uses = tuple(
        GiftCardUse(c.id, key, c.last4, amount, f"AUTH0{i}")
        for i, ((key, c), amount) in enumerate(zip(cards.items(), amounts, strict=True))
    )
    order = replace(mixed_order(), gift_cards=uses, gift_card_amount=sum(amounts))  # total 1060
    apply(hold_at_placement(order, NOW), cards)
    return order, cards


def test_holds_are_taken_at_placement_and_captured_when_paid():
    order, cards = placed_with_cards(300, 200)
    assert [(c.balance, c.holds[0].amount, c.holds[0].order_id) for c in cards.values()] == [
        (700, 300, order.id),
        (800, 200, order.id),
    ]
    paid, ops = settle(order, replace(order, status="paid", payment_status="paid"), NOW)
    assert apply(ops, cards) == {"k0": [("capture", 0, 700)], "k1": [("capture", 0, 800)]}
    assert [u.status for u in paid.gift_cards] == ["captured", "captured"]
    assert [c.holds for c in cards.values()] == [(), ()]


def test_a_canceled_order_releases_its_holds_and_a_failed_attempt_keeps_them():
    order, cards = placed_with_cards(300)
    failed, ops = settle(order, replace(order, last_payment_error="card declined"), NOW)
    assert (ops, failed.gift_cards[0].status) == ([], "held")
    canceled, ops = settle(order, replace(order, status="canceled"), NOW)
    assert apply(ops, cards) == {"k0": [("release", 300, 1000)]}
    assert (canceled.gift_cards[0].status, canceled.gift_card_amount) == ("released", 300)


def test_a_cheaper_order_gives_back_what_the_cards_no_longer_pay_last_card_first():
    order, cards = placed_with_cards(600, 400)  # holds 1000 of 1060
    cheaper = replace(order, totals=replace(order.totals, total=500))
    shrunk, ops = settle(order, cheaper, NOW)
    assert apply(ops, cards) == {"k1": [("release", 400, 1000)], "k0": [("release", 100, 500)]}
    assert [(u.amount, u.status) for u in shrunk.gift_cards] == [(500, "held"), (0, "released")]
    assert (shrunk.gift_card_amount, shrunk.amount_due) == (500, 0)


def test_cards_sold_activate_when_paid_and_void_when_their_line_is_voided():
    sold = tuple(SoldCard(f"gc_s{i}", f"s{i}", "SOLD", 2500, "L9") for i in range(2))
    pending = {f"s{i}": gc.pending_card(f"gc_s{i}", STORE, "SOLD", "EUR", "Europe/Berlin", NOW) for i in range(2)}
    order = replace(mixed_order(), cards_sold=sold)
    paid, ops = settle(order, replace(order, status="paid", payment_status="paid"), NOW)
    assert apply(ops, dict(pending)) == {"s0": [("activate", 2500, 2500)], "s1": [("activate", 2500, 2500)]}
    assert [c.status for c in paid.cards_sold] == ["active", "active"]
    line = replace(order.lines[0], id="L9", quantity=1)  # one of the two cards voided
    voided, ops = settle(order, replace(order, lines=(line,)), NOW)
    assert ([c.status for c in voided.cards_sold], [op.card_key for op in ops]) == (["pending", "void"], ["s1"])


def captured(*paid: int):
    uses = tuple(GiftCardUse(f"gc_{i}", f"k{i}", "LAST", a, "AUTH00", "captured") for i, a in enumerate(paid))
    return replace(mixed_order(), gift_cards=uses, gift_card_amount=sum(paid))


@pytest.mark.parametrize(
    ("amount", "credits", "left"),
    [(400, {"k1": 200, "k0": 200}, 0), (600, {"k1": 200, "k0": 300}, 100), (150, {"k1": 150}, 0)],
)
def test_refunds_go_to_the_cards_first_last_card_first(amount, credits, left):
    order = captured(300, 200)
    refunded, ops, for_provider = refund_to_cards(order, amount, "re_1", NOW)
    cards = {"k0": card("gc_0", 1), "k1": card("gc_1", 1)}
    applied = apply(ops, cards)
    assert {key: sum(change for _, change, _ in rows) for key, rows in applied.items()} == credits
    assert for_provider == left
    assert [u.refunded for u in refunded.gift_cards] == [credits.get("k0", 0), credits.get("k1", 0)]


def test_a_second_refund_continues_where_the_first_stopped_and_held_cards_get_nothing():
    first, _, _ = refund_to_cards(captured(300, 200), 250, "re_1", NOW)  # k1 200, k0 50
    second, ops, left = refund_to_cards(first, 300, "re_2", NOW)
    assert ([op.card_key for op in ops], left, [u.refunded for u in second.gift_cards]) == (["k0"], 50, [300, 200])
    held = replace(captured(300), gift_cards=(replace(captured(300).gift_cards[0], status="held"),))
    assert refund_to_cards(held, 100, "re_3", NOW)[1:] == ([], 100)
