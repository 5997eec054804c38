"""Gift cards inside orders (domain/order_giftcards.py): which card pays what, the holds taken at
placement, settling (capture/activate, release/void, shrinking holds, voiding sold cards) and
refunds credited to the cards first. Every op is checked by applying it to a real card."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from support import LATER, NOW
from tresen.domain import giftcards as gc
from tresen.domain.corrections import discount, void_lines
from tresen.domain.errors import DomainError, FieldError
from tresen.domain.order_giftcards import hold_at_placement, plan_uses, refund_to_cards, settle
from tresen.domain.orders import (
    CartItem,
    Customer,
    Fulfilment,
    GiftCardUse,
    OrderRequest,
    PaymentRef,
    SoldCard,
    new_order,
    price_cart,
)
from tresen.domain.payments import PaymentEvent, decide
from tresen.domain.workflow import staff_transition
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE

BERLIN = "Europe/Berlin"
STORE = DEMO_STORE.id
CATALOG = {p.id: p for p in DEMO_PRODUCTS}
MIXED = (CartItem("croissant", 2), CartItem("cappuccino", 1))  # 580 + 380 = 960


def card(card_id: str, amount: int, store_id: str = STORE) -> gc.Card:
    return gc.issue(card_id, store_id, card_id[-4:].upper(), "EUR", BERLIN, amount, NOW).card


def pending(card_id: str) -> gc.Card:
    return gc.pending_card(card_id, STORE, card_id[-4:].upper(), "EUR", BERLIN, NOW, order_id="ord_1")


def order(items=MIXED, uses=(), sold=(), method="online"):
    request = OrderRequest(
        items=items, fulfilment=Fulfilment("pickup"), customer=Customer("A", "a@b.de"), payment_method=method
    )
    return new_order(
        order_id="ord_1",
        store=DEMO_STORE,
        request=request,
        cart=price_cart(CATALOG, items, tip=0),
        number=1,
        now=NOW,
        payment=PaymentRef("pay_1", "sandbox", "requires_payment") if method == "online" else None,
        gift_cards=uses,
        cards_sold=sold,
    )


def apply(cards: dict[str, gc.Card], ops) -> list[tuple]:
    """Apply ops in order to the cards (by key), as the service does; the activities they record."""
    recorded = []
    for op in ops:
        change = op.apply(cards[op.card_key])
        cards[op.card_key] = change.card
        recorded += [(op.card_key, a.type, a.amount, a.balance_change, a.balance_after) for a in change.activities]
    return recorded


def placed(amounts: dict[str, tuple[int, int | None]], items=MIXED, sold=(), method="online"):
    """An order paid partly by cards (key → (balance, amount asked)), with the holds taken."""
    cards = {key: card(f"gc_{key}", balance) for key, (balance, _) in amounts.items()}
    total = price_cart(CATALOG, items, tip=0).totals.total
    uses = plan_uses(list(cards.items()), [asked for _, asked in amounts.values()], STORE, total, NOW)
    placed_order = order(items, uses, sold, method)
    apply(cards, hold_at_placement(placed_order, NOW))
    return placed_order, cards


def event(kind: str, amount: int | None = None) -> PaymentEvent:
    return PaymentEvent("sandbox", f"evt_{kind}", f"payment.{kind}", "pay_1", amount, "EUR", "card declined")


def failure(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


# --- plan_uses ---------------------------------------------------------------------------------


def test_a_card_pays_as_much_as_it_has_or_as_is_left():
    (small,) = plan_uses([("k1", card("gc_1", 300))], [None], STORE, 960, NOW)
    (large,) = plan_uses([("k1", card("gc_1", 5000))], [None], STORE, 960, NOW)
    assert (small.card_id, small.card_key, small.last4, small.amount, small.status, small.refunded) == (
        "gc_1",
        "k1",
        "GC_1",
        300,
        "held",
        0,
    )
    assert large.amount == 960


def test_explicit_amounts_are_taken_as_asked():
    (use,) = plan_uses([("k1", card("gc_1", 5000))], [250], STORE, 960, NOW)
    assert use.amount == 250


def test_several_cards_pay_in_order_each_from_what_is_left():
    found = [("k1", card("gc_1", 300)), ("k2", card("gc_2", 5000)), ("k3", card("gc_3", 5000))]
    uses = plan_uses(found, [None, 400, None], STORE, 960, NOW)
    assert [(u.card_key, u.amount) for u in uses] == [("k1", 300), ("k2", 400), ("k3", 260)]


def test_the_same_card_twice_is_refused_on_the_second_code():
    same = card("gc_1", 5000)
    error = failure(lambda: plan_uses([("k1", same), ("k1", same)], [100, 100], STORE, 960, NOW))
    assert (error.code, error.errors) == ("validation_failed", [FieldError("gift_cards[1].code", "repeated")])


@pytest.mark.parametrize(
    "found, now",
    [
        (None, NOW),
        (card("gc_1", 5000, store_id="other"), NOW),
        (gc.deactivate(card("gc_1", 5000), "lost", NOW).card, NOW),
        (card("gc_1", 5000), datetime(2030, 1, 1, tzinfo=UTC)),  # expired: valid until 2029 ends in Berlin
        (pending("gc_1"), NOW),
    ],
    ids=["unknown", "other-store", "deactivated", "expired", "pending"],
)
def test_unknown_foreign_and_inactive_cards_get_the_same_answer(found, now):
    first = gc.issue("gc_0", STORE, "0000", "EUR", BERLIN, 100, now).card  # valid at `now`
    error = failure(lambda: plan_uses([("k0", first), ("k1", found)], [None, None], STORE, 960, now))
    assert (error.code, error.detail, error.errors) == (
        "giftcard_not_active",
        "Gift card 2 is unknown here or not active.",
        [],
    )


def test_the_expiry_moment_itself_is_expired_and_a_moment_before_is_not():
    valid = card("gc_1", 5000)
    assert valid.expires_at == datetime(2030, 1, 1, tzinfo=ZoneInfo(BERLIN))
    before = valid.expires_at - timedelta(seconds=1)
    assert plan_uses([("k1", valid)], [None], STORE, 960, before)[0].amount == 960
    assert failure(lambda: plan_uses([("k1", valid)], [None], STORE, 960, valid.expires_at)).code == (
        "giftcard_not_active"
    )


def test_more_than_the_balance_or_an_empty_card_is_insufficient():
    above = failure(lambda: plan_uses([("k1", card("gc_1", 500))], [501], STORE, 960, NOW))
    assert (above.code, above.detail) == ("giftcard_insufficient_funds", "Gift card …GC_1 has 500 cents.")
    full = card("gc_2", 500)
    empty = gc.redeem(full, 500, NOW).card
    assert empty.balance == 0
    for asked in (None, 0):
        error = failure(lambda asked=asked: plan_uses([("k2", empty)], [asked], STORE, 960, NOW))
        assert (error.code, error.detail) == ("giftcard_insufficient_funds", "Gift card …GC_2 has 0 cents.")


def test_held_money_is_not_spendable_twice():
    held = gc.authorize(card("gc_1", 500), "redeem", 400, NOW, order_id="ord_0").card
    assert plan_uses([("k1", held)], [None], STORE, 960, NOW)[0].amount == 100
    assert failure(lambda: plan_uses([("k1", held)], [101], STORE, 960, NOW)).code == "giftcard_insufficient_funds"


def test_more_than_is_left_to_pay_is_refused_on_that_cards_amount():
    alone = failure(lambda: plan_uses([("k1", card("gc_1", 5000))], [961], STORE, 960, NOW))
    assert (alone.code, alone.errors) == ("validation_failed", [FieldError("gift_cards[0].amount", "960 left")])
    found = [("k1", card("gc_1", 5000)), ("k2", card("gc_2", 5000))]
    second = failure(lambda: plan_uses(found, [600, 361], STORE, 960, NOW))
    assert (second.code, second.errors) == ("validation_failed", [FieldError("gift_cards[1].amount", "360 left")])
    nothing_left = failure(lambda: plan_uses(found, [None, None], STORE, 960, NOW))  # the first pays it all
    assert (nothing_left.code, nothing_left.errors) == (
        "validation_failed",
        [FieldError("gift_cards[1].amount", "0 left")],
    )


def test_each_use_gets_a_fresh_six_character_auth_code():
    found = [("k1", card("gc_1", 300)), ("k2", card("gc_2", 300)), ("k3", card("gc_3", 300))]
    uses = plan_uses(found, [None, None, None], STORE, 960, NOW)
    for use in uses:
        assert len(use.auth_code) == 6 and set(use.auth_code) <= set(gc.AUTH_CODE_ALPHABET)


def test_the_auth_code_is_not_one_of_the_cards_open_holds(monkeypatch):
    held = gc.authorize(card("gc_1", 5000), "redeem", 100, NOW, order_id="ord_0", auth_code="AAAAAA").card
    drawn = iter("AAAAAA" + "BBBBBB")  # the first draw clashes with the open hold
    monkeypatch.setattr(gc, "secrets", SimpleNamespace(choice=lambda alphabet: next(drawn)))
    (use,) = plan_uses([("k1", held)], [None], STORE, 960, NOW)
    assert use.auth_code == "BBBBBB"


# --- hold_at_placement -------------------------------------------------------------------------


def test_placement_authorizes_each_uses_amount_under_its_code_for_the_order():
    cards = {"k1": card("gc_1", 300), "k2": card("gc_2", 1000)}
    uses = plan_uses(list(cards.items()), [None, 400], STORE, 960, NOW)
    placed_order = order(uses=uses)
    assert (placed_order.gift_card_amount, placed_order.amount_due) == (700, 260)
    ops = hold_at_placement(placed_order, NOW)
    assert [op.card_key for op in ops] == ["k1", "k2"]
    assert apply(cards, ops) == [("k1", "authorize", 300, -300, 0), ("k2", "authorize", 400, -400, 600)]
    for key, use in zip(("k1", "k2"), uses, strict=True):
        assert cards[key].holds == (gc.Hold(use.auth_code, "redeem", use.amount, NOW + gc.HOLD_PERIOD, "ord_1"),)


# --- settle ------------------------------------------------------------------------------------


def sold_order(quantity: int = 3, uses: dict | None = None):
    items = (CartItem("giftcard-25", quantity), CartItem("croissant", 1))  # 2500 each + 290
    sold = tuple(SoldCard(f"gc_s{i}", f"s{i}", f"S{i:03d}", 2500, "L1") for i in range(quantity))
    placed_order, cards = placed(uses or {}, items=items, sold=sold)
    cards |= {c.card_key: pending(c.card_id) for c in sold}
    return placed_order, cards


def test_paying_captures_the_holds_and_activates_the_cards_sold():
    before, cards = sold_order(2, uses={"k1": (1000, 600), "k2": (300, None)})
    assert (before.totals.total, before.amount_due) == (5290, 4390)
    after = decide(before, event("succeeded", 4390), LATER).order
    changed, ops = settle(before, after, LATER)
    assert apply(cards, ops) == [
        ("k1", "capture", 600, 0, 400),
        ("k2", "capture", 300, 0, 0),
        ("s0", "activate", 2500, 2500, 2500),
        ("s1", "activate", 2500, 2500, 2500),
    ]
    assert [(cards[k].holds, cards[k].balance) for k in ("k1", "k2")] == [((), 400), ((), 0)]
    assert [(cards[k].status, cards[k].balance) for k in ("s0", "s1")] == [("active", 2500), ("active", 2500)]
    assert [(u.status, u.amount) for u in changed.gift_cards] == [("captured", 600), ("captured", 300)]
    assert [c.status for c in changed.cards_sold] == ["active", "active"]
    assert (changed.status, changed.payment_status, changed.gift_card_amount) == ("paid", "paid", 900)


def test_cards_paying_for_everything_are_captured_at_placement():
    before, cards = placed({"k1": (5000, None)})
    assert before.amount_due == 0
    paid_at_once = replace(before, status="paid", payment_status="paid", expires_at=None)
    changed, ops = settle(before, paid_at_once, NOW)
    assert apply(cards, ops) == [("k1", "capture", 960, 0, 4040)]
    assert [u.status for u in changed.gift_cards] == ["captured"]


def test_closing_unpaid_releases_the_holds_and_voids_the_cards_sold():
    before, cards = sold_order(2, uses={"k1": (1000, 600)})
    after = decide(before, event("canceled"), LATER).order
    changed, ops = settle(before, after, LATER)
    assert apply(cards, ops) == [
        ("k1", "release", 600, 600, 1000),
        ("s0", "deactivate", 0, 0, 0),
        ("s1", "deactivate", 0, 0, 0),
    ]
    assert (cards["k1"].holds, cards["k1"].balance) == ((), 1000)
    assert [(cards[k].status, cards[k].deactivation_reason) for k in ("s0", "s1")] == [
        ("deactivated", "order_canceled"),
        ("deactivated", "order_canceled"),
    ]
    assert [(u.status, u.amount) for u in changed.gift_cards] == [("released", 600)]  # kept for the record
    assert [c.status for c in changed.cards_sold] == ["void", "void"]
    assert changed.gift_card_amount == 600


def test_a_rejected_unpaid_order_releases_too_and_settling_again_does_nothing():
    before, cards = placed({"k1": (1000, 600)})
    rejected = staff_transition(before, "rejected", LATER).order
    changed, ops = settle(before, rejected, LATER)
    assert apply(cards, ops) == [("k1", "release", 600, 600, 1000)]
    again, more = settle(changed, replace(changed, updated_at=LATER), LATER)
    assert (more, [u.status for u in again.gift_cards]) == ([], ["released"])


def test_an_on_site_order_takes_its_cards_at_placement_and_gives_them_back_when_rejected():
    before, cards = placed({"k1": (1000, 500)}, method="on_site")
    assert before.status == "placed"
    settled, ops = settle(replace(before, status="awaiting_payment"), before, NOW)
    assert apply(cards, ops) == [("k1", "capture", 500, 0, 500)]
    rejected = staff_transition(settled, "rejected", LATER).order
    changed, ops = settle(settled, rejected, LATER)
    assert apply(cards, ops) == [("k1", "refund", 500, 500, 1000)]
    assert [(u.status, u.amount, u.refunded) for u in changed.gift_cards] == [("captured", 500, 500)]


def test_a_discount_below_the_held_amount_shrinks_the_last_card_first():
    before, cards = placed({"k1": (1000, 400), "k2": (800, 300)})  # 700 held of 960
    after = discount(before, 360, None, LATER)  # total 600
    changed, ops = settle(before, after, LATER)
    assert [op.card_key for op in ops] == ["k2"]
    assert apply(cards, ops) == [("k2", "release", 100, 100, 600)]
    assert cards["k2"].holds[0].amount == 200
    assert [(u.amount, u.status) for u in changed.gift_cards] == [(400, "held"), (200, "held")]
    assert (changed.gift_card_amount, changed.amount_due) == (600, 0)


def test_a_void_that_cuts_a_hold_entirely_releases_it_and_shrinks_the_one_before():
    before, cards = placed({"k1": (1000, 400), "k2": (800, 300)})
    after = void_lines(before, (("L1", 1), ("L2", 1)), LATER)  # one croissant left: 290
    changed, ops = settle(before, after, LATER)
    assert [op.card_key for op in ops] == ["k2", "k1"]
    assert apply(cards, ops) == [("k2", "release", 300, 300, 800), ("k1", "release", 110, 110, 710)]
    assert (cards["k2"].holds, cards["k1"].holds[0].amount) == ((), 290)
    assert [(u.amount, u.status) for u in changed.gift_cards] == [(290, "held"), (0, "released")]
    assert (changed.gift_card_amount, changed.amount_due) == (290, 0)
    paid_after = replace(changed, status="paid", payment_status="paid")
    settled, capture = settle(changed, paid_after, LATER)
    assert apply(cards, capture) == [("k1", "capture", 290, 0, 710)]  # only what is still held
    assert [u.status for u in settled.gift_cards] == ["captured", "released"]


def test_a_change_that_leaves_enough_to_pay_touches_no_hold():
    before, _ = placed({"k1": (1000, 400)})
    after = void_lines(before, (("L1", 1),), LATER)  # 670 left, 400 held
    changed, ops = settle(before, after, LATER)
    assert (ops, changed.gift_cards, changed.gift_card_amount) == ([], before.gift_cards, 400)


def test_voiding_gift_card_lines_voids_that_many_pending_cards_of_the_line():
    before, cards = sold_order(3)
    after = void_lines(before, (("L1", 2),), LATER)
    changed, ops = settle(before, after, LATER)
    assert [op.card_key for op in ops] == ["s1", "s2"]
    assert apply(cards, ops) == [("s1", "deactivate", 0, 0, 0), ("s2", "deactivate", 0, 0, 0)]
    assert [cards[k].status for k in ("s0", "s1", "s2")] == ["pending", "deactivated", "deactivated"]
    assert [c.status for c in changed.cards_sold] == ["pending", "void", "void"]
    rest = void_lines(changed, (("L1", 1),), LATER)  # the whole line goes: its last card too
    final, more = settle(changed, rest, LATER)
    assert ([op.card_key for op in more], [c.status for c in final.cards_sold]) == (["s0"], ["void", "void", "void"])


def test_a_failed_payment_keeps_the_holds_and_changes_nothing():
    before, _ = sold_order(1, uses={"k1": (1000, 600)})
    after = decide(before, event("failed"), LATER).order
    assert (after.status, after.totals.total, after.last_payment_error) == ("awaiting_payment", 2790, "card declined")
    changed, ops = settle(before, after, LATER)
    assert ops == []
    assert (changed.gift_cards, changed.cards_sold, changed.gift_card_amount) == (
        before.gift_cards,
        before.cards_sold,
        600,
    )


def test_a_void_below_what_on_site_cards_already_paid_gives_the_excess_back():
    before, cards = placed({"k1": (1000, 500)}, method="on_site")
    settled, ops = settle(replace(before, status="awaiting_payment"), before, NOW)
    apply(cards, ops)
    assert cards["k1"].balance == 500
    after = void_lines(settled, (("L1", 2),), LATER)  # one cappuccino left: 380, the card paid 500
    changed, ops = settle(settled, after, LATER)
    apply(cards, ops)
    assert (changed.amount_due, cards["k1"].balance) == (0, 620)


# --- refund_to_cards ---------------------------------------------------------------------------


def paid_by_cards(amounts: dict[str, tuple[int, int | None]]):
    before, cards = placed(amounts)
    changed, ops = settle(before, replace(before, status="paid", payment_status="paid"), LATER)
    apply(cards, ops)
    return changed, cards


@pytest.mark.parametrize(
    "amount, credited, provider",
    [(400, [("k2", 200), ("k1", 200)], 0), (600, [("k2", 200), ("k1", 300)], 100), (150, [("k2", 150)], 0)],
)
def test_a_refund_goes_to_the_last_card_first_then_to_the_provider(amount, credited, provider):
    paid_order, cards = paid_by_cards({"k1": (1000, 300), "k2": (500, 200)})  # 460 through the provider
    changed, ops, left = refund_to_cards(paid_order, amount, "re_1", LATER)
    assert left == provider
    assert [op.card_key for op in ops] == [key for key, _ in credited]
    before = {key: cards[key].balance for key in cards}
    assert apply(cards, ops) == [(key, "refund", c, c, before[key] + c) for key, c in credited]
    refunded = dict(credited)
    assert [u.refunded for u in changed.gift_cards] == [refunded.get("k1", 0), refunded.get("k2", 0)]
    assert [u.amount for u in changed.gift_cards] == [300, 200]


def test_a_refund_credit_names_the_order_and_the_refund():
    paid_order, cards = paid_by_cards({"k1": (1000, 300)})
    _, ops, _ = refund_to_cards(paid_order, 100, "re_9", LATER)
    (activity,) = ops[0].apply(cards["k1"]).activities
    assert (activity.type, activity.amount, activity.order_id, activity.refund_id, activity.at) == (
        "refund",
        100,
        "ord_1",
        "re_9",
        LATER,
    )


def test_released_and_held_uses_get_nothing_back():
    uses = (
        GiftCardUse("gc_1", "k1", "0001", 300, "AAAAAA", status="captured"),
        GiftCardUse("gc_2", "k2", "0002", 200, "BBBBBB", status="released"),
        GiftCardUse("gc_3", "k3", "0003", 100, "CCCCCC", status="held"),
    )
    changed, ops, left = refund_to_cards(order(uses=uses), 1000, "re_1", LATER)
    assert ([op.card_key for op in ops], left) == (["k1"], 700)
    assert [u.refunded for u in changed.gift_cards] == [300, 0, 0]


def test_a_later_refund_continues_where_the_last_one_stopped():
    paid_order, cards = paid_by_cards({"k1": (1000, 300), "k2": (500, 200)})
    first, ops1, left1 = refund_to_cards(paid_order, 100, "re_1", LATER)
    second, ops2, left2 = refund_to_cards(first, 300, "re_2", LATER)
    third, ops3, left3 = refund_to_cards(second, 150, "re_3", LATER)
    assert apply(cards, ops1 + ops2 + ops3) == [
        ("k2", "refund", 100, 100, 400),
        ("k2", "refund", 100, 100, 500),
        ("k1", "refund", 200, 200, 900),
        ("k1", "refund", 100, 100, 1000),
    ]
    assert (left1, left2, left3) == (0, 0, 50)
    assert [u.refunded for u in third.gift_cards] == [300, 200]
    done, none, rest = refund_to_cards(third, 80, "re_4", LATER)
    assert (none, rest, done.gift_cards) == ([], 80, third.gift_cards)
