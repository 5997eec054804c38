"""Every use case that moves money, run on the in-memory backend: no emulator, milliseconds each.

Two `instances` share one memory store to play two servers deciding at once: the version tokens
of the storage port decide who goes first, and the second decides again on what the first left.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tresen.adapters import clock
from tresen.adapters.archive import MemoryArchive
from tresen.adapters.backend import Backend
from tresen.adapters.memory_documents import MemoryDocuments
from tresen.domain.errors import DomainError
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.payments import PaymentEvent
from tresen.domain.refunds import RefundRequest
from tresen.services import card_blocks, cards
from tresen.services.card_blocks import StartBlock
from tresen.services.card_expiry import ExpireCards, expire_giftcards
from tresen.services.cards import AuthorizeCard, IssueCard, RedeemCard, TransferCard
from tresen.services.corrections import DiscountOrder, VoidItems, discount_order, void_items
from tresen.services.order_status import ChangeStatus, change_status
from tresen.services.order_views import order_for_staff
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.payments import handle_payment_event
from tresen.services.refunds import RefundOrder, refund_order
from tresen.services.seed import DEMO, DEMO_STORE, seed_store

STORE = DEMO_STORE.id
STAFF = {"type": "staff", "uid": "u1", "role": "supervisor"}
# two croissants (7 %) and an espresso (19 %): 840 cents
CART = (CartItem("croissant", 2), CartItem("espresso", 1))


def as_staff(store_id: str) -> dict:
    return STAFF


def instances(count: int) -> list[Backend]:
    """Servers sharing one store: each its own unit of work, caches and locks."""
    docs, archive = MemoryDocuments(), MemoryArchive()
    servers = [Backend(None, docs, archive) for _ in range(count)]
    seed_store(DEMO, servers[0])
    return servers


def order(backend: Backend, method: str = "on_site", gift_cards=()):
    request = OrderRequest(
        CART, Fulfilment("pickup"), Customer("Anna", "anna@example.com"), method, None, 0, gift_cards
    )
    return place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend).order


def pay(backend: Backend, placed, amount: int | None = None, event_id: str = "evt_1"):
    event = PaymentEvent(
        "sandbox", event_id, "payment.succeeded", placed.payment.id, amount or placed.amount_due, "EUR"
    )
    return handle_payment_event(event, backend)


def journal(backend: Backend) -> list[str]:
    return [entry["type"] for entry in backend.journal.entries(STORE)]


def refund(backend: Backend, order_id: str, amount: int):
    return refund_order(RefundOrder(STORE, order_id, RefundRequest(amount=amount), STAFF, "supervisor", None), backend)


def test_an_order_paid_online_gets_its_invoice_number_once(backend):
    placed = order(backend, "online")
    assert (placed.status, placed.amount_due, placed.invoice_number) == ("awaiting_payment", 840, None)
    assert pay(backend, placed).duplicate is False
    assert pay(backend, placed).duplicate is True  # the same event again
    paid = order_for_staff(backend, STORE, placed.id)
    assert (paid.status, paid.payment_status, paid.invoice_number) == ("paid", "paid", "DEMO-2026-000001")
    assert journal(backend) == ["order.placed", "order.paid"]


def test_a_payment_for_another_amount_is_a_mismatch_never_paid(backend):
    placed = order(backend, "online")
    pay(backend, placed, amount=839)
    assert order_for_staff(backend, STORE, placed.id).payment_status == "mismatch"


def test_refunds_never_exceed_what_was_paid_even_when_two_servers_decide_at_once():
    first, second = instances(2)
    placed = order(first, "online")
    pay(first, placed)
    outcomes: list = []

    def refund_500(backend: Backend) -> None:
        try:
            outcomes.append(refund(backend, placed.id, 500).amount)
        except DomainError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=refund_500, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [500, "refund_exceeds_paid"]
    final = order_for_staff(first, STORE, placed.id)
    assert (final.refunded_amount, final.payment_status) == (500, "partially_refunded")
    assert journal(first).count("refund.created") == 1


def test_a_refund_is_split_over_vat_rates_and_paid_back_by_the_sandbox(backend):
    placed = order(backend, "online")
    pay(backend, placed)
    result = refund(backend, placed.id, 840)
    assert (result.amount, result.provider_amount, result.status) == (840, 840, "pending")
    refunded = order_for_staff(backend, STORE, placed.id)
    assert (refunded.refunded_amount, refunded.payment_status) == (840, "refunded")
    assert journal(backend)[-2:] == ["refund.created", "refund.succeeded"]  # the sandbox answers at once


def test_void_and_discount_recompute_what_is_due(backend):
    placed = order(backend, "online")
    voided = void_items(
        VoidItems(STORE, placed.id, (("L2", 1),), "wrong item", STAFF, "supervisor", None), backend
    ).order
    assert (voided.totals.total, voided.amount_due) == (580, 580)
    discounted = discount_order(
        DiscountOrder(STORE, placed.id, None, 10, "regular", STAFF, "supervisor", None), backend
    ).order
    assert (discounted.totals.discount, discounted.amount_due) == (58, 522)
    assert journal(backend) == ["order.placed", "order.voided", "order.discounted"]


def test_rejecting_a_paid_order_refunds_it_in_full(backend):
    placed = order(backend, "online")
    pay(backend, placed)
    rejected = change_status(ChangeStatus(STORE, placed.id, "rejected", STAFF, "out of croissants"), backend).order
    assert (rejected.status, rejected.payment_status, rejected.refunded_amount) == ("rejected", "refunded", 840)


def sell_card(backend: Backend, amount: int = 5000):
    return cards.issue_card(IssueCard(STORE, amount, STAFF), backend)


def redeem(backend: Backend, code: str, amount: int, auth_code: str | None = None):
    return cards.redeem_card(RedeemCard(code, amount, auth_code, as_staff), backend)


def test_a_card_is_redeemed_never_below_zero(backend):
    sold = sell_card(backend)
    assert redeem(backend, sold.code, 1250).card.balance == 3750
    with pytest.raises(DomainError) as refused:
        redeem(backend, sold.code, 3751)
    assert refused.value.code == "giftcard_insufficient_funds"


def test_an_authorization_holds_money_and_its_capture_for_less_gives_the_rest_back(backend):
    sold = sell_card(backend)
    held = cards.authorize_card(AuthorizeCard(sold.code, "redeem", 2000, as_staff), backend)
    assert (held.card.balance, len(held.auth_code)) == (3000, 6)
    captured = redeem(backend, sold.code, 1500, held.auth_code)
    assert (captured.card.balance, captured.card.holds) == (3500, ())


def test_a_transfer_moves_the_whole_balance_and_links_both_cards(backend):
    sold = sell_card(backend)
    redeem(backend, sold.code, 1000)
    old, new = cards.transfer_card(TransferCard(sold.code, as_staff), backend)
    assert (old.card.status, old.card.balance, new.card.balance) == ("deactivated", 0, 4000)
    assert (old.card.transferred_to, new.card.transferred_from) == (new.card.id, old.card.id)


def test_an_order_paid_by_a_card_takes_the_money_at_once(backend):
    sold = sell_card(backend)
    placed = order(backend, "online", gift_cards=((sold.code, None),))
    assert (placed.status, placed.payment_status, placed.gift_card_amount, placed.amount_due) == (
        "paid",
        "paid",
        840,
        0,
    )
    assert cards.card_details(backend, sold.code, as_staff).card.balance == 4160


def test_twenty_concurrent_redeems_on_one_card_from_two_servers_spend_it_exactly(backend):
    first, second = instances(2)
    sold = sell_card(first)
    outcomes: list = []

    def redeem_1000(server: Backend) -> None:
        try:
            outcomes.append(redeem(server, sold.code, 1000).card.balance)
        except DomainError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=redeem_1000, args=((first, second)[n % 2],)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("giftcard_insufficient_funds") == 15
    assert sorted(o for o in outcomes if isinstance(o, int)) == [0, 1000, 2000, 3000, 4000]


def test_a_block_activation_issues_every_card_once(backend):
    activation = card_blocks.start_block(StartBlock(STORE, 1000, 250, STAFF), backend)
    assert card_blocks.block_status(backend, activation, lambda store_id: None).status == "running"
    card_blocks.run_block(activation, backend)
    status = card_blocks.block_status(backend, activation, lambda store_id: None)
    assert (status.status, status.activated, [c.activated for c in status.chunks]) == ("done", 250, [100, 100, 50])
    codes = card_blocks.block_codes_csv(backend, activation, lambda store_id: None).splitlines()
    assert codes[0] == "number,code,amount,currency,expires_at"
    assert len(set(codes[1:])) == 250


def test_a_hold_not_captured_within_a_week_is_released_by_the_expiry_job(backend, monkeypatch):
    sold = sell_card(backend)
    cards.authorize_card(AuthorizeCard(sold.code, "redeem", 2000, as_staff), backend)
    week_later = clock.now() + timedelta(days=7, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: week_later)
    assert expire_giftcards(ExpireCards(), backend) == {"holds_released": 1, "cards_expired": 0}
    released = cards.card_details(backend, sold.code, as_staff).card
    assert (released.balance, released.holds) == (5000, ())
