"""Gift-card domain: exact examples, then a state machine over random sequences of every operation."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tresen.domain import giftcards as gc
from tresen.domain.errors import DomainError

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"


def new_card(amount: int = 5000, now: datetime = T0, card_id: str = "gc_1") -> gc.Card:
    return gc.issue(card_id, "st_1", "WXYZ", "EUR", BERLIN, amount, now).card


def rows(change: gc.CardChange) -> list[tuple]:
    return [(a.n, a.type, a.amount, a.balance_change, a.balance_after) for a in change.activities]


def code_of(change: gc.CardChange) -> str:
    (activity,) = [a for a in change.activities if a.type == "authorize"]
    return activity.auth_code


# --- codes -------------------------------------------------------------------------------------


def test_the_alphabet_leaves_out_characters_that_read_alike():
    assert len(gc.ALPHABET) == 31
    assert not set("0O1IL") & set(gc.ALPHABET)
    assert set(gc.ALPHABET) <= set("23456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_new_codes_have_sixteen_characters_from_the_alphabet():
    codes = {gc.new_code() for _ in range(200)}
    assert len(codes) == 200  # 79 bits each: a repeat here would mean the generator is broken
    for code in codes:
        assert len(code) == 16
        assert set(code) <= set(gc.ALPHABET)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("23456789ABCDEFGH", "23456789ABCDEFGH"),
        ("abcd-efgh-jkmn-pqrs", "ABCDEFGHJKMNPQRS"),
        (" 2345 6789-abcd efgh ", "23456789ABCDEFGH"),
        ("2345--6789--ABCD--EFGH", "23456789ABCDEFGH"),
    ],
)
def test_normalize_code_ignores_case_spaces_and_dashes(raw, expected):
    assert gc.normalize_code(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "23456789ABCDEFG",  # 15
        "23456789ABCDEFGHJ",  # 17
        "03456789ABCDEFGH",
        "O3456789ABCDEFGH",
        "13456789ABCDEFGH",
        "I3456789ABCDEFGH",
        "L3456789ABCDEFGH",
        "l3456789abcdefgh",
        "2345_6789ABCDEFGH",
        "2345.6789.ABCD.EF",
    ],
)
def test_normalize_code_rejects_wrong_length_and_forbidden_characters(raw):
    assert gc.normalize_code(raw) is None


def test_display_code_groups_four_and_normalizes_back():
    assert gc.display_code("23456789ABCDEFGH") == "2345-6789-ABCD-EFGH"
    code = gc.new_code()
    assert gc.normalize_code(gc.display_code(code)) == code


def test_code_from_digest_is_base31_least_significant_first():
    assert gc.code_from_digest(bytes(32)) == "2" * 16
    assert gc.code_from_digest((1).to_bytes(32, "big")) == "3" + "2" * 15
    assert gc.code_from_digest((31).to_bytes(32, "big")) == "23" + "2" * 14
    assert gc.code_from_digest((30 + 31 * 5).to_bytes(32, "big")) == "Z7" + "2" * 14


def test_code_from_digest_is_deterministic_and_in_the_alphabet():
    first = gc.code_from_digest(hashlib.sha256(b"block-1/7").digest())
    assert first == gc.code_from_digest(hashlib.sha256(b"block-1/7").digest())
    assert first != gc.code_from_digest(hashlib.sha256(b"block-1/8").digest())
    assert len(first) == 16
    assert set(first) <= set(gc.ALPHABET)


def test_expiry_is_new_year_in_store_time_three_years_after_the_year_of_issue():
    expiry = gc.expiry_for(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), BERLIN)
    assert (expiry.year, expiry.month, expiry.day, expiry.hour, expiry.minute) == (2030, 1, 1, 0, 0)
    assert str(expiry.tzinfo) == BERLIN
    assert expiry == datetime(2029, 12, 31, 23, 0, tzinfo=UTC)  # CET is UTC+1


def test_expiry_takes_the_year_of_issue_in_store_time_not_utc():
    # 23:30 UTC on New Year's Eve is already 00:30 on 1 January in Berlin: issued in 2027
    expiry = gc.expiry_for(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), BERLIN)
    assert expiry == datetime(2030, 12, 31, 23, 0, tzinfo=UTC)
    assert expiry.astimezone(gc.ZoneInfo(BERLIN)).year == 2031


def test_a_card_is_expired_from_its_expiry_on():
    card = new_card()
    assert card.expires_at == datetime(2029, 12, 31, 23, 0, tzinfo=UTC)
    assert card.status_at(card.expires_at - timedelta(microseconds=1)) == "active"
    assert card.status_at(card.expires_at) == "expired"


def test_auth_codes_are_six_characters_from_a_to_z_and_digits():
    for _ in range(100):
        code = gc.new_auth_code(set())
        assert len(code) == 6
        assert set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def test_an_auth_code_in_use_is_not_handed_out_again(monkeypatch):
    draws = iter("AAAAAA" + "AAAAAA" + "B7B7B7")
    monkeypatch.setattr(gc.secrets, "choice", lambda _alphabet: next(draws))
    assert gc.new_auth_code({"AAAAAA"}) == "B7B7B7"


# --- operations, exact values ------------------------------------------------------------------


def test_issue_activates_with_the_amount():
    change = gc.issue("gc_1", "st_1", "WXYZ", "EUR", BERLIN, 5000, T0)
    assert (change.card.status, change.card.balance, change.card.activity_count) == ("active", 5000, 1)
    assert rows(change) == [(1, "activate", 5000, 5000, 5000)]


@pytest.mark.parametrize("amount", [0, -1, gc.MAX_BALANCE + 1])
def test_issue_refuses_amounts_out_of_range(amount):
    with pytest.raises(DomainError) as caught:
        gc.issue("gc_1", "st_1", "WXYZ", "EUR", BERLIN, amount, T0)
    assert caught.value.code == "validation_failed"


def test_authorize_holds_money_and_a_smaller_capture_releases_the_rest():
    card = new_card(5000)
    held = gc.authorize(card, "redeem", 2000, T0, order_id="or_9")
    code = code_of(held)
    assert rows(held) == [(2, "authorize", 2000, -2000, 3000)]
    assert held.card.balance == 3000
    assert held.card.holds == (gc.Hold(code, "redeem", 2000, T0 + timedelta(days=7), "or_9"),)

    later = T0 + timedelta(hours=2)
    captured = gc.redeem(held.card, 1500, later, auth_code=code)
    assert rows(captured) == [(3, "capture", 1500, 0, 3000), (4, "release", 500, 500, 3500)]
    assert [(a.auth_code, a.at) for a in captured.activities] == [(code, later), (code, later)]
    assert captured.activities[0].order_id == "or_9"
    assert (captured.card.balance, captured.card.holds, captured.card.activity_count) == (3500, (), 4)


def test_a_full_capture_releases_nothing():
    card = new_card(5000)
    held = gc.authorize(card, "redeem", 2000, T0)
    captured = gc.redeem(held.card, 2000, T0, auth_code=code_of(held))
    assert rows(captured) == [(3, "capture", 2000, 0, 3000)]


def test_a_capture_above_the_authorization_or_with_an_unknown_code_is_refused():
    held = gc.authorize(new_card(5000), "redeem", 2000, T0)
    with pytest.raises(DomainError) as caught:
        gc.redeem(held.card, 2001, T0, auth_code=code_of(held))
    assert caught.value.code == "giftcard_insufficient_funds"
    with pytest.raises(DomainError) as caught:
        gc.redeem(held.card, 100, T0, auth_code="NOPE00")
    assert caught.value.code == "giftcard_authorization_not_found"


def test_held_money_cannot_be_spent_twice():
    held = gc.authorize(new_card(5000), "redeem", 4000, T0)
    with pytest.raises(DomainError) as caught:
        gc.redeem(held.card, 1001, T0)
    assert caught.value.code == "giftcard_insufficient_funds"
    with pytest.raises(DomainError) as caught:
        gc.authorize(held.card, "redeem", 1001, T0)
    assert caught.value.code == "giftcard_insufficient_funds"
    assert rows(gc.redeem(held.card, 1000, T0)) == [(3, "redeem", 1000, -1000, 0)]


def test_a_hold_past_its_seven_days_is_released_by_the_next_operation():
    held = gc.authorize(new_card(5000), "redeem", 2000, T0)
    code = code_of(held)
    assert gc.release_due(held.card, T0 + gc.HOLD_PERIOD - timedelta(seconds=1)).activities == ()
    due = T0 + gc.HOLD_PERIOD
    released = gc.release_due(held.card, due)
    assert rows(released) == [(3, "release", 2000, 2000, 5000)]
    assert (released.card.holds, released.activities[0].auth_code) == ((), code)
    # any operation on an active card first releases what is due, in the same ledger
    loaded = gc.load(held.card, 100, due)
    assert rows(loaded) == [(3, "release", 2000, 2000, 5000), (4, "load", 100, 100, 5100)]


def test_release_on_a_deactivated_card_only_marks_the_hold_due_and_reactivation_releases_it():
    held = gc.authorize(new_card(5000), "redeem", 2000, T0)
    code = code_of(held)
    blocked = gc.deactivate(held.card, "stolen", T0 + timedelta(minutes=1))
    assert rows(blocked) == [(3, "deactivate", 0, 0, 3000)]
    assert (blocked.card.status, blocked.card.deactivation_reason) == ("deactivated", "stolen")

    asked = T0 + timedelta(minutes=2)
    marked = gc.release(blocked.card, code, asked)
    assert marked.activities == ()
    assert marked.card.balance == 3000
    assert marked.card.holds == (gc.Hold(code, "redeem", 2000, asked),)
    assert gc.release_due(marked.card, asked + timedelta(days=1)).activities == ()

    back = gc.reactivate(marked.card, asked + timedelta(days=1))
    assert rows(back) == [(4, "reactivate", 0, 0, 3000), (5, "release", 2000, 2000, 5000)]
    assert (back.card.status, back.card.deactivation_reason, back.card.holds) == ("active", None, ())


def test_release_on_an_active_card_gives_the_money_back_and_an_unknown_code_changes_nothing():
    held = gc.authorize(new_card(5000), "redeem", 2000, T0)
    released = gc.release(held.card, code_of(held), T0)
    assert rows(released) == [(3, "release", 2000, 2000, 5000)]
    assert gc.release(released.card, code_of(held), T0) == gc.CardChange(released.card, ())


def test_a_deactivated_card_refuses_everything_but_a_capture_of_money_held_before():
    held = gc.authorize(new_card(5000), "redeem", 2000, T0)
    blocked = gc.deactivate(held.card, "lost", T0).card
    for operation in (
        lambda: gc.load(blocked, 100, T0),
        lambda: gc.redeem(blocked, 100, T0),
        lambda: gc.authorize(blocked, "redeem", 100, T0),
        lambda: gc.refund(blocked, 100, T0, "or_1", "re_1"),
        lambda: gc.deactivate(blocked, "fraud", T0),
        lambda: gc.transfer(blocked, gc.pending_card("gc_2", "st_1", "ABCD", "EUR", BERLIN, T0), T0),
    ):
        with pytest.raises(DomainError) as caught:
            operation()
        assert caught.value.code == "giftcard_not_active"
    captured = gc.redeem(blocked, 2000, T0, auth_code=code_of(held))
    assert rows(captured) == [(4, "capture", 2000, 0, 3000)]


def test_deactivate_needs_a_known_reason():
    with pytest.raises(DomainError) as caught:
        gc.deactivate(new_card(), "bored", T0)
    assert (caught.value.code, [e.field for e in caught.value.errors]) == ("validation_failed", ["reason"])


def test_transfer_refuses_while_holds_are_open_then_moves_the_whole_balance():
    held = gc.authorize(new_card(5000), "redeem", 2000, T0)
    fresh = gc.pending_card("gc_2", "st_1", "ABCD", "EUR", BERLIN, T0)
    with pytest.raises(DomainError) as caught:
        gc.transfer(held.card, fresh, T0)
    assert caught.value.code == "giftcard_has_holds"

    released = gc.release(held.card, code_of(held), T0).card
    out, incoming = gc.transfer(released, fresh, T0)
    assert rows(out) == [(4, "transfer_out", 5000, -5000, 0)]
    assert out.activities[0].linked_card_id == "gc_2"
    assert (out.card.status, out.card.deactivation_reason, out.card.transferred_to) == (
        "deactivated",
        "transferred",
        "gc_2",
    )
    assert rows(incoming) == [(1, "transfer_in", 5000, 5000, 5000)]
    assert incoming.activities[0].linked_card_id == "gc_1"
    assert (incoming.card.status, incoming.card.transferred_from) == ("active", "gc_1")


def test_a_transferred_card_cannot_be_reactivated():
    out, _ = gc.transfer(new_card(5000), gc.pending_card("gc_2", "st_1", "ABCD", "EUR", BERLIN, T0), T0)
    with pytest.raises(DomainError) as caught:
        gc.reactivate(out.card, T0)
    assert caught.value.code == "giftcard_not_deactivated"


def test_reactivate_refuses_an_active_or_expired_card():
    card = new_card()
    blocked = gc.deactivate(card, "other", T0).card
    for target, at in ((card, T0), (blocked, card.expires_at)):
        with pytest.raises(DomainError) as caught:
            gc.reactivate(target, at)
        assert caught.value.code == "giftcard_not_deactivated"


def test_load_with_a_load_authorization():
    approved = gc.authorize(new_card(5000), "load", 3000, T0)
    code = code_of(approved)
    assert rows(approved) == [(2, "authorize", 3000, 0, 5000)]
    assert approved.card.holds == (gc.Hold(code, "load", 3000, T0 + gc.HOLD_PERIOD),)

    with pytest.raises(DomainError) as caught:
        gc.load(approved.card, 3001, T0, auth_code=code)
    assert caught.value.code == "validation_failed"
    with pytest.raises(DomainError) as caught:
        gc.redeem(approved.card, 100, T0, auth_code=code)  # a load approval holds no money to capture
    assert caught.value.code == "giftcard_authorization_not_found"

    loaded = gc.load(approved.card, 2500, T0, auth_code=code)
    assert rows(loaded) == [(3, "load", 2500, 2500, 7500)]
    assert (loaded.activities[0].auth_code, loaded.card.holds) == (code, ())
    with pytest.raises(DomainError) as caught:
        gc.load(loaded.card, 100, T0, auth_code=code)
    assert caught.value.code == "giftcard_authorization_not_found"


def test_a_load_authorization_past_due_is_released_without_money_and_then_unknown():
    approved = gc.authorize(new_card(5000), "load", 3000, T0)
    due = T0 + gc.HOLD_PERIOD
    assert rows(gc.release_due(approved.card, due)) == [(3, "release", 3000, 0, 5000)]
    with pytest.raises(DomainError) as caught:
        gc.load(approved.card, 100, due, auth_code=code_of(approved))
    assert caught.value.code == "giftcard_authorization_not_found"


def test_load_stops_at_the_balance_limit():
    card = new_card(gc.MAX_BALANCE - 100)
    assert gc.load(card, 100, T0).card.balance == gc.MAX_BALANCE
    with pytest.raises(DomainError) as caught:
        gc.load(card, 101, T0)
    assert caught.value.code == "giftcard_balance_limit"


def test_refund_credits_an_active_card():
    change = gc.refund(new_card(5000), 1250, T0, order_id="or_1", refund_id="re_1")
    assert rows(change) == [(2, "refund", 1250, 1250, 6250)]
    assert (change.activities[0].order_id, change.activities[0].refund_id) == ("or_1", "re_1")


@pytest.mark.parametrize("state", ["pending", "deactivated", "expired", "voided"])
def test_refund_onto_an_inactive_card_is_refused(state):
    card = {
        "pending": lambda: gc.pending_card("gc_2", "st_1", "ABCD", "EUR", BERLIN, T0),
        "deactivated": lambda: gc.deactivate(new_card(), "fraud", T0).card,
        "expired": lambda: new_card(),
        "voided": lambda: gc.void_pending(gc.pending_card("gc_2", "st_1", "ABCD", "EUR", BERLIN, T0), T0, "or_1").card,
    }[state]()
    at = card.expires_at if state == "expired" else T0
    with pytest.raises(DomainError) as caught:
        gc.refund(card, 100, at, order_id="or_1", refund_id="re_1")
    assert caught.value.code == "giftcard_not_active"


def test_void_pending_deactivates_a_card_that_never_carried_value_and_leaves_others_alone():
    pending = gc.pending_card("gc_2", "st_1", "ABCD", "EUR", BERLIN, T0, order_id="or_1")
    voided = gc.void_pending(pending, T0, "or_1")
    assert rows(voided) == [(1, "deactivate", 0, 0, 0)]
    assert (voided.card.status, voided.card.deactivation_reason) == ("deactivated", "order_canceled")
    active = new_card()
    assert gc.void_pending(active, T0, "or_1") == gc.CardChange(active, ())
    with pytest.raises(DomainError) as caught:
        gc.activate(voided.card, 100, T0)
    assert caught.value.code == "giftcard_not_active"


def test_expire_records_the_balance_left_and_only_once_due():
    card = gc.redeem(new_card(5000), 1200, T0).card
    assert gc.expire(card, card.expires_at - timedelta(seconds=1)) == gc.CardChange(card, ())
    expired = gc.expire(card, card.expires_at)
    assert rows(expired) == [(3, "expire", 3800, 0, 3800)]
    assert expired.card.status == "expired"
    assert gc.expire(expired.card, card.expires_at + timedelta(days=1)).activities == ()
    with pytest.raises(DomainError) as caught:
        gc.redeem(expired.card, 100, card.expires_at)
    assert caught.value.code == "giftcard_not_active"


def test_authorize_takes_the_code_an_order_brings_and_refuses_one_in_use():
    held = gc.authorize(new_card(5000), "redeem", 1000, T0, order_id="or_1", auth_code="ORD001")
    assert held.card.holds == (gc.Hold("ORD001", "redeem", 1000, T0 + gc.HOLD_PERIOD, "or_1"),)
    with pytest.raises(DomainError) as caught:
        gc.authorize(held.card, "redeem", 500, T0, order_id="or_2", auth_code="ORD001")
    assert caught.value.code == "giftcard_authorization_conflict"


def test_reduce_hold_gives_the_difference_back():
    held = gc.authorize(new_card(5000), "redeem", 2000, T0, auth_code="ORD001", order_id="or_1")
    reduced = gc.reduce_hold(held.card, "ORD001", 1200, T0)
    assert rows(reduced) == [(3, "release", 800, 800, 3800)]
    assert reduced.card.holds == (gc.Hold("ORD001", "redeem", 1200, T0 + gc.HOLD_PERIOD, "or_1"),)
    # to zero it is a plain release; to the same amount or more, nothing happens
    assert rows(gc.reduce_hold(reduced.card, "ORD001", 0, T0)) == [(4, "release", 1200, 1200, 5000)]
    assert gc.reduce_hold(reduced.card, "ORD001", 1200, T0).activities == ()
    assert gc.reduce_hold(reduced.card, "NOPE00", 100, T0).activities == ()


def test_a_smaller_capture_on_a_blocked_card_keeps_the_rest_held_until_reactivation():
    held = gc.authorize(new_card(5000), "redeem", 2000, T0, auth_code="ORD001")
    blocked = gc.deactivate(held.card, "fraud", T0).card
    later = T0 + timedelta(hours=1)
    captured = gc.redeem(blocked, 500, later, auth_code="ORD001")
    assert rows(captured) == [(4, "capture", 500, 0, 3000)]
    assert captured.card.holds == (gc.Hold("ORD001", "redeem", 1500, later),)
    back = gc.reactivate(captured.card, later)
    assert rows(back) == [(5, "reactivate", 0, 0, 3000), (6, "release", 1500, 1500, 4500)]


# --- holes the state machine found: money appearing or vanishing at the edges ----------------


def test_expiry_keeps_money_held_at_that_moment():
    held = gc.authorize(new_card(5000), "redeem", 2000, T0, auth_code="ORD001")
    expired = gc.expire(held.card, held.card.expires_at)
    still_held = sum(h.amount for h in expired.card.holds if h.type == "redeem")
    assert expired.card.balance + still_held == 5000


def test_reducing_a_load_authorization_credits_nothing():
    approved = gc.authorize(new_card(5000), "load", 3000, T0, auth_code="LOAD01")
    reduced = gc.reduce_hold(approved.card, "LOAD01", 1000, T0)
    assert reduced.card.balance == 5000  # nothing was held


def test_a_load_authorization_cannot_be_captured():  # it is used up by a load, never by a capture
    approved = gc.authorize(new_card(5000), "load", 3000, T0, auth_code="LOAD01")
    with pytest.raises(DomainError) as refused:
        gc.capture(approved.card, "LOAD01", 1000, T0)
    assert refused.value.code == "giftcard_authorization_not_found"


def test_capturing_more_than_held_is_refused():
    held = gc.authorize(new_card(5000), "redeem", 2000, T0, auth_code="ORD001")
    with pytest.raises(DomainError) as refused:
        gc.capture(held.card, "ORD001", 2500, T0)
    assert refused.value.code == "giftcard_insufficient_funds"


def test_a_voided_card_stays_void():
    voided = gc.void_pending(gc.pending_card("gc_2", "st_1", "ABCD", "EUR", BERLIN, T0), T0, "or_1").card
    with pytest.raises(DomainError):
        gc.reactivate(voided, T0)  # it never carried value


@pytest.mark.parametrize("amount", [0, -500])
def test_capture_refuses_amounts_below_one_cent(amount):
    # orders call capture() directly, without redeem()'s check in front
    # Today -500 on a 2000 hold records a capture of -500 and a release of 2500: balance 5500 from 5000.
    held = gc.authorize(new_card(5000), "redeem", 2000, T0, auth_code="ORD001")
    with pytest.raises(DomainError) as refused:
        gc.capture(held.card, "ORD001", amount, T0)
    assert refused.value.code == "validation_failed"


# --- the state machine -------------------------------------------------------------------------


AMOUNTS = st.one_of(st.integers(1, 3000), st.sampled_from([0, gc.MAX_BALANCE, gc.MAX_BALANCE + 1]))
STEPS = st.sampled_from(
    [
        timedelta(minutes=5),
        timedelta(hours=20),
        timedelta(days=3),
        gc.HOLD_PERIOD,
        gc.HOLD_PERIOD + timedelta(seconds=1),
    ]
)
PICK = st.integers(0, 7)
MAX_CARDS = 5  # three to start with, and room for two transfers
NOT_FOUND = "NOPE00"  # never drawn: new_auth_code would need to hit it among 36**6


class GiftCards(RuleBasedStateMachine):
    """Cards, every activity ever returned for them, and what their money should add up to.

    `model[id]` is money in (activate, load, refund, transfer in) minus money out (redeem, capture,
    transfer out), counted from the operations called and their amounts, never from the ledger.
    """

    def __init__(self):
        super().__init__()
        self.ids = itertools.count(1)
        self.orders = itertools.count(1)
        self.cards: dict[str, gc.Card] = {}
        self.ledgers: dict[str, list[gc.Activity]] = {}
        self.model: dict[str, int] = {}
        # issued in different years, so they expire one after the other and a jump past one
        # card's expiry does not end the run for all
        for self.now, amount in ((T0 - timedelta(days=400), 5000), (T0, 800)):
            change = gc.issue(self.new_id(), "st_1", "WXYZ", "EUR", BERLIN, amount, self.now)
            self.ledgers[change.card.id] = []
            self.accept(None, change)
            self.model[change.card.id] = amount
        self.now = T0 + timedelta(days=40)
        self.add_pending()

    # --- helpers --------------------------------------------------------------------------------

    def new_id(self) -> str:
        return f"gc_{next(self.ids)}"

    def add_pending(self) -> None:
        card = gc.pending_card(self.new_id(), "st_1", "ABCD", "EUR", BERLIN, self.now)
        self.cards[card.id], self.ledgers[card.id], self.model[card.id] = card, [], 0

    def card(self, pick: int) -> gc.Card:
        ids = sorted(self.cards, key=lambda i: int(i[3:]))
        return self.cards[ids[pick % len(ids)]]

    def held_card(self, pick: int) -> gc.Card:
        """A card with holds if any has some: few stay open for long, and the interesting cases
        (blocking, expiring, capturing, releasing) are those where money is held."""
        held = sorted((c for c in self.cards.values() if c.holds), key=lambda c: int(c.id[3:]))
        return held[pick % len(held)] if held else self.card(pick)

    def hold(self, card: gc.Card, pick: int) -> gc.Hold:
        """One of the card's holds, mostly; an unknown code when it has none or pick is the last."""
        if card.holds and pick < 7:
            return card.holds[pick % len(card.holds)]
        return gc.Hold(NOT_FOUND, "redeem", 100, self.now)

    def accept(self, before: gc.Card | None, change: gc.CardChange, frozen_check: bool = True) -> None:
        """Take a change: its activities continue the ledger, and it may not move frozen money."""
        ledger = self.ledgers[change.card.id]
        first = len(ledger) + 1
        assert [a.n for a in change.activities] == list(range(first, first + len(change.activities)))
        assert all(a.at == self.now for a in change.activities)
        if frozen_check and before is not None and before.status_at(self.now) in ("deactivated", "expired"):
            assert change.card.balance == before.balance, (before, change)
            assert {a.type for a in change.activities} <= {"capture", "expire"}, change.activities
            assert all(a.balance_change == 0 for a in change.activities)
        ledger.extend(change.activities)
        self.cards[change.card.id] = change.card

    def attempt(self, card: gc.Card, operation, refusals: set[str], frozen_check: bool = True):
        """Run an operation; a refusal must be one it may give, and leaves the card as it was."""
        try:
            change = operation(card)
        except DomainError as error:
            assert error.code in refusals, error
            return None
        assert change.card.id == card.id
        self.accept(card, change, frozen_check)
        return change

    # --- the clock ------------------------------------------------------------------------------

    @rule(step=STEPS)
    def advance(self, step):
        self.now += step

    @rule(pick=PICK, after=st.booleans())
    def jump_to_expiry(self, pick, after):
        target = self.held_card(pick).expires_at + (timedelta(seconds=1) if after else -timedelta(hours=1))
        self.now = max(self.now, target)

    # --- operations -----------------------------------------------------------------------------

    @rule(pick=PICK, amount=st.integers(1, 3000))
    def activate(self, pick, amount):
        card = self.card(pick)
        if self.attempt(card, lambda c: gc.activate(c, amount, self.now), {"giftcard_not_active"}):
            self.model[card.id] += amount

    @rule(pick=PICK)
    def void_pending(self, pick):
        self.attempt(self.card(pick), lambda c: gc.void_pending(c, self.now, "or_void"), set())

    @rule(pick=PICK, amount=AMOUNTS)
    def load(self, pick, amount):
        card = self.card(pick)
        refusals = {"validation_failed", "giftcard_not_active", "giftcard_balance_limit"}
        if self.attempt(card, lambda c: gc.load(c, amount, self.now), refusals):
            self.model[card.id] += amount

    @rule(pick=PICK, hold=PICK, amount=AMOUNTS)
    def load_authorized(self, pick, hold, amount):
        card = self.held_card(pick)
        code = self.hold(card, hold).auth_code
        refusals = {
            "validation_failed",
            "giftcard_not_active",
            "giftcard_balance_limit",
            "giftcard_authorization_not_found",
        }
        if self.attempt(card, lambda c: gc.load(c, amount, self.now, auth_code=code), refusals):
            self.model[card.id] += amount

    @rule(pick=PICK, amount=AMOUNTS)
    def redeem(self, pick, amount):
        card = self.card(pick)
        refusals = {"validation_failed", "giftcard_not_active", "giftcard_insufficient_funds"}
        if self.attempt(card, lambda c: gc.redeem(c, amount, self.now, order_id="or_r"), refusals):
            self.model[card.id] -= amount

    def _authorize(self, pick: int, type_: str, amount: int, code: str | None) -> None:
        card = self.card(pick)
        refusals = {
            "validation_failed",
            "giftcard_not_active",
            "giftcard_insufficient_funds",
            "giftcard_authorization_conflict",
        }
        change = self.attempt(
            card, lambda c: gc.authorize(c, type_, amount, self.now, order_id="or_a", auth_code=code), refusals
        )
        if change is not None:
            new_code = change.activities[-1].auth_code
            assert code in (None, new_code)
            assert change.card.hold(new_code) == gc.Hold(new_code, type_, amount, self.now + gc.HOLD_PERIOD, "or_a")

    # held amounts stay small so that holds fit the balance and stay open long enough to be used
    @rule(pick=PICK, type_=st.sampled_from(["redeem", "load"]), amount=st.integers(0, 1200))
    def authorize(self, pick, type_, amount):
        self._authorize(pick, type_, amount, None)

    @rule(pick=PICK, type_=st.sampled_from(["redeem", "load"]), amount=st.integers(0, 1200), reuse=PICK)
    def authorize_for_order(self, pick, type_, amount, reuse):
        """An order brings its own code: a new one, or (pick 0) one the card already uses."""
        card = self.card(pick)
        taken = card.holds[0].auth_code if card.holds and reuse == 0 else None
        self._authorize(pick, type_, amount, taken or f"ORD{next(self.orders):03d}")

    @rule(pick=PICK, hold=PICK, share=st.sampled_from([1, 2, 3]), extra=st.sampled_from([0, 0, 0, 1]))
    def capture(self, pick, hold, share, extra):
        """Capture all, half or a third of a hold (sometimes a cent too much, or an unknown code)."""
        card = self.held_card(pick)
        target = self.hold(card, hold)
        amount = max(1, target.amount // share) + extra
        refusals = {"giftcard_authorization_not_found", "giftcard_insufficient_funds", "validation_failed"}
        if self.attempt(card, lambda c: gc.redeem(c, amount, self.now, auth_code=target.auth_code), refusals):
            self.model[card.id] -= amount

    @rule(pick=PICK, hold=PICK, share=st.sampled_from([1, 2, 3]), extra=st.sampled_from([0, 0, 0, 1]))
    def capture_directly(self, pick, hold, share, extra):
        """As an order settles, without redeem's checks: gc.capture must refuse load approvals and
        more than is held by itself. Amounts stay >= 1: see test_capture_refuses_amounts_below_one_cent."""
        card = self.held_card(pick)
        target = self.hold(card, hold)
        amount = max(1, target.amount // share) + extra
        refusals = {"giftcard_authorization_not_found", "giftcard_insufficient_funds"}
        if self.attempt(card, lambda c: gc.capture(c, target.auth_code, amount, self.now), refusals):
            self.model[card.id] -= amount

    @rule(pick=PICK, hold=PICK, thirds=st.integers(-1, 4))
    def reduce_hold(self, pick, hold, thirds):
        card = self.held_card(pick)
        target = self.hold(card, hold)
        self.attempt(card, lambda c: gc.reduce_hold(c, target.auth_code, target.amount * thirds // 3, self.now), set())

    @rule(pick=PICK, hold=PICK)
    def release(self, pick, hold):
        card = self.held_card(pick)
        code = self.hold(card, hold).auth_code
        self.attempt(card, lambda c: gc.release(c, code, self.now), set())

    @rule(pick=PICK)
    def release_due(self, pick):
        self.attempt(self.card(pick), lambda c: gc.release_due(c, self.now), set())

    @rule(pick=PICK, amount=AMOUNTS)
    def refund(self, pick, amount):
        card = self.card(pick)
        refusals = {"validation_failed", "giftcard_not_active"}
        if self.attempt(card, lambda c: gc.refund(c, amount, self.now, "or_f", "re_f"), refusals):
            self.model[card.id] += amount

    @rule(pick=PICK, reason=st.sampled_from(["lost", "stolen", "fraud", "other", "bored"]))
    def deactivate(self, pick, reason):
        refusals = {"validation_failed", "giftcard_not_active"}
        self.attempt(self.held_card(pick), lambda c: gc.deactivate(c, reason, self.now), refusals)

    @rule(pick=PICK)
    def reactivate(self, pick):
        # the one way money moves on a blocked card: holds that fell due come back, the others stay
        card = self.held_card(pick)
        change = self.attempt(
            card, lambda c: gc.reactivate(c, self.now), {"giftcard_not_deactivated"}, frozen_check=False
        )
        if change is not None:
            due = [h for h in card.holds if h.expires_at <= self.now]
            assert change.card.balance == card.balance + sum(h.amount for h in due if h.type == "redeem")
            assert change.card.holds == tuple(h for h in card.holds if h not in due)
            assert (change.card.status, change.card.deactivation_reason) == ("active", None)

    @rule(pick=PICK)
    def transfer(self, pick):
        if len(self.cards) >= MAX_CARDS:
            return  # a rule precondition would do, but makes hypothesis redraw rules: much slower
        old = self.card(pick)
        fresh = gc.pending_card(self.new_id(), "st_1", "MNPQ", "EUR", BERLIN, self.now)
        try:
            out, incoming = gc.transfer(old, fresh, self.now)
        except DomainError as error:
            assert error.code in {"giftcard_not_active", "giftcard_has_holds"}, error
            return
        self.ledgers[fresh.id] = []
        self.accept(old, out)
        self.accept(fresh, incoming)
        self.model[fresh.id], self.model[old.id] = self.model[old.id], 0
        assert (out.card.transferred_to, incoming.card.transferred_from) == (fresh.id, old.id)
        assert (out.card.status, incoming.card.status) == ("deactivated", "active")

    @rule(pick=PICK)
    def expire(self, pick):
        card = self.held_card(pick)
        self.attempt(card, lambda c: gc.expire(c, self.now), set())

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def ledgers_add_up(self):
        for card_id, card in self.cards.items():
            ledger = self.ledgers[card_id]
            assert [a.n for a in ledger] == list(range(1, len(ledger) + 1))
            assert card.activity_count == len(ledger)
            running = 0
            for activity in ledger:
                running += activity.balance_change
                assert activity.balance_after == running, (card_id, activity)
                assert activity.amount >= 0, (card_id, activity)
            assert card.balance == running
            assert card.balance >= 0

    @invariant()
    def held_money_does_not_disappear(self):
        for card_id, card in self.cards.items():
            held = sum(h.amount for h in card.holds if h.type == "redeem")
            assert card.balance + held == self.model[card_id], (card_id, card)

    @invariant()
    def auth_codes_are_unique_per_card(self):
        for card in self.cards.values():
            codes = [h.auth_code for h in card.holds]
            assert len(codes) == len(set(codes)), card.holds


GiftCards.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_gift_card_operations = GiftCards.TestCase
