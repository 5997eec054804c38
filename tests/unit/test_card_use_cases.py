"""The gift-card use cases on the in-memory backend: one card's life, a code drawn again when it
collides, block activations (a member whose code is taken, a chunk done before), the expiry job
and the holder's rate-limited balance inquiry."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from tresen.adapters import clock
from tresen.adapters.backend import Backend
from tresen.domain import giftcards as gc
from tresen.domain.errors import DomainError
from tresen.services import card_blocks, cards
from tresen.services.card_blocks import StartBlock
from tresen.services.card_changes import not_found
from tresen.services.card_expiry import ExpireCards, expire_giftcards
from tresen.services.cards import (
    DeactivateCard,
    IssueCard,
    LoadCard,
    RateLimited,
    ReactivateCard,
    RedeemCard,
)
from tresen.services.seed import DEMO, DEMO_STORE, seed_store

STORE = DEMO_STORE.id
STAFF = {"type": "staff", "uid": "u1", "role": "supervisor"}


def as_staff(store_id: str) -> dict:
    return STAFF


def only_in(store: str):
    """The authorization of a caller with a role in `store` alone: another store's card is unknown."""

    def authorized(store_id: str) -> dict:
        if store_id != store:
            raise not_found()
        return STAFF

    return authorized


@pytest.fixture
def uow() -> Backend:
    memory = Backend.in_memory()
    seed_store(DEMO, memory)
    return memory


def journal(uow: Backend) -> list[tuple[str, dict]]:
    return [(entry["type"], entry["data"]) for entry in uow.journal.entries(STORE)]


def refused(code: str, call, *args) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value
    return caught.value


def sell(uow: Backend, amount: int = 5000):
    return cards.issue_card(IssueCard(STORE, amount, STAFF), uow)


def drawing(monkeypatch, *codes: str) -> None:
    """The next new card codes are these, in this order."""
    upcoming = iter(codes)
    monkeypatch.setattr(gc, "new_code", lambda: next(upcoming))


# ---------------------------------------------------------------- one card


def test_a_card_is_loaded_blocked_unblocked_and_shows_its_ledger_newest_first(uow):
    sold = sell(uow)
    assert cards.load_card(LoadCard(sold.code, 1000, None, as_staff), uow).card.balance == 6000
    blocked = cards.deactivate_card(DeactivateCard(sold.code, "lost", as_staff), uow).card
    assert (blocked.status, blocked.deactivation_reason) == ("deactivated", "lost")
    refused("giftcard_not_active", cards.redeem_card, RedeemCard(sold.code, 100, None, as_staff), uow)
    assert cards.reactivate_card(ReactivateCard(sold.code, as_staff), uow).card.status == "active"

    details = cards.card_details(uow, sold.code, as_staff)
    assert details.card.balance == 6000
    assert [(a.n, a.type, a.balance_after) for a in details.activities] == [
        (4, "reactivate", 6000),
        (3, "deactivate", 6000),
        (2, "load", 6000),
        (1, "activate", 5000),
    ]
    assert [type_ for type_, _ in journal(uow)] == [
        "giftcard.activate",
        "giftcard.load",
        "giftcard.deactivate",
        "giftcard.reactivate",
    ]


def test_a_card_of_another_store_and_a_malformed_code_are_unknown(uow):
    sold = sell(uow)
    refused("giftcard_not_found", cards.card_details, uow, sold.code, only_in("other"))
    refused("giftcard_not_found", cards.load_card, LoadCard(sold.code, 100, None, only_in("other")), uow)
    refused("giftcard_not_found", cards.card_details, uow, "not a code", as_staff)
    assert cards.card_details(uow, sold.code, only_in(STORE)).card.balance == 5000


def test_a_code_that_collides_with_an_existing_card_is_drawn_again(uow, monkeypatch):
    taken, fresh = "A" * gc.CODE_LENGTH, "B" * gc.CODE_LENGTH
    drawing(monkeypatch, taken, taken, fresh)
    first = sell(uow, 1000)
    second = sell(uow, 2500)
    assert (first.code, second.code) == (taken, fresh)
    assert cards.card_details(uow, taken, as_staff).card.balance == 1000
    assert cards.card_details(uow, fresh, as_staff).card.balance == 2500
    assert [data["amount"] for _, data in journal(uow)] == [1000, 2500]


# ---------------------------------------------------------------- block activations


def test_a_member_whose_code_is_taken_is_left_out_and_counted_failed(uow, monkeypatch):
    activation_id = card_blocks.start_block(StartBlock(STORE, 700, 3, STAFF), uow)
    activation = uow.card_activations.read(activation_id)
    drawing(monkeypatch, uow.cards.derived_code(activation.code_label(1)))
    elsewhere = sell(uow, 4200)  # a card sold at the counter already holds member 1's code

    card_blocks.run_block(activation_id, uow)
    status = card_blocks.block_status(uow, activation_id, lambda store_id: None)
    assert (status.status, status.total, status.activated, status.failed) == ("done", 3, 2, 1)
    assert uow.card_activations.chunk_done(activation_id, 0).failed_members == (1,)
    rows = card_blocks.block_codes_csv(uow, activation_id, lambda store_id: None).splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["1", "3"]
    assert cards.card_details(uow, elsewhere.code, as_staff).card.balance == 4200  # untouched
    chunk = [data for type_, data in journal(uow) if type_ == "giftcard.block_chunk_activated"]
    assert [c["card_id"] for c in chunk[0]["cards"]] == [activation.card_id(0), activation.card_id(2)]


def test_a_chunk_done_before_is_answered_as_it_was_and_writes_nothing(uow):
    activation_id = card_blocks.start_block(StartBlock(STORE, 700, 150, STAFF), uow)
    card_blocks.run_block(activation_id, uow)
    activation = uow.card_activations.read(activation_id)
    entries = len(journal(uow))
    store, _ = uow.catalog.get(STORE)
    again = card_blocks.activate_chunk(uow, store, activation, 1)
    assert again == uow.card_activations.chunk_done(activation_id, 1)
    assert (again.index, again.activated, again.failed) == (1, 50, 0)
    assert len(journal(uow)) == entries
    assert uow.card_activations.running() == []


def test_a_block_of_an_unknown_store_or_amount_records_nothing(uow):
    refused("store_not_found", card_blocks.start_block, StartBlock("nostore", 700, 5, STAFF), uow)
    refused("validation_failed", card_blocks.start_block, StartBlock(STORE, 0, 5, STAFF), uow)
    assert uow.card_activations.running() == [] and journal(uow) == []


# ---------------------------------------------------------------- the expiry job


def test_the_expiry_job_expires_a_card_past_its_validity_once(uow, monkeypatch):
    sold = sell(uow, 700)
    after_validity = sold.card.expires_at.astimezone(UTC) + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: after_validity)
    assert expire_giftcards(ExpireCards(), uow) == {"holds_released": 0, "cards_expired": 1}
    assert expire_giftcards(ExpireCards(), uow) == {"holds_released": 0, "cards_expired": 0}
    expired = cards.card_details(uow, sold.code, as_staff)
    assert (expired.card.status_at(after_validity), expired.card.balance, expired.activities[0].type) == (
        "expired",
        700,
        "expire",
    )


# ---------------------------------------------------------------- the holder's balance inquiry


def test_the_balance_inquiry_is_limited_per_code_and_per_address(uow, monkeypatch):
    sold = sell(uow, 2500)
    window_start = clock.now().replace(minute=0, second=1, microsecond=0)
    monkeypatch.setattr(clock, "now", lambda: window_start)
    for n in range(5):  # per code: 5 in 15 minutes, whichever address asks
        assert cards.public_balance(uow, sold.code, f"198.51.100.{n}").card.balance == 2500
    with pytest.raises(RateLimited) as limited:
        cards.public_balance(uow, sold.code, "198.51.100.99")
    assert limited.value.retry_after == 15 * 60 - 1

    for n in range(20):  # per address: 20 a minute, whatever codes it tries
        refused("giftcard_not_found", cards.public_balance, uow, f"2345-6789-ABCD-{n:04d}", "192.0.2.1")
    with pytest.raises(RateLimited) as limited:
        cards.public_balance(uow, "2345-6789-ABCD-EFGH", "192.0.2.1")
    assert limited.value.retry_after == 59
    stored = str([doc.data for doc in uow.docs.query("rate_limits")]) + str(uow.docs.query("rate_limits"))
    assert "192.0.2.1" not in stored and gc.normalize_code(sold.code) not in stored
