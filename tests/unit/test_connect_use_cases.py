"""Stripe Connect in milliseconds: the platform fee, account reports that never move backwards, what
Stripe's events become, the onboarding and account use cases on the in-memory backend, and what a
Checkout Session is asked to charge."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from fake_stripe import FakeConnect, event
from tresen.adapters.stripe_provider import stripe_event
from tresen.adapters.webhook_bodies import read_event
from tresen.domain.errors import DomainError
from tresen.domain.events import StripeAccountConnected
from tresen.domain.orders import CartItem, price_cart
from tresen.domain.payments import AccountEvent, OtherEvent, PaymentEvent, UnprocessableEvent
from tresen.domain.stripe_connect import AccountStatus, PlatformFee, StripeAccount, platform_fee
from tresen.services.orders import payment_lines
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE
from tresen.services.stripe_connect import (
    UNKNOWN_ACCOUNT,
    SetPlatformFee,
    StartOnboarding,
    apply_account_event,
    set_platform_fee,
    start_onboarding,
    stripe_status,
)

STORE = DEMO_STORE.id
OWNER = {"type": "staff", "uid": "owner-1", "role": "owner"}
READY = AccountStatus(charges_enabled=True, payouts_enabled=True, details_submitted=True, reported_at=200)


@pytest.mark.parametrize(
    ("percent", "fixed", "amount", "fee"),
    [
        ("1.5", 10, 840, 23),  # 12.6 rounds to 13
        ("1.5", 0, 100, 2),  # 1.5: half rounds up
        ("1.4", 0, 100, 1),
        ("0", 25, 1000, 25),
        ("100", 10, 50, 50),  # never more than the charge
    ],
)
def test_the_platform_fee_is_a_share_plus_a_fixed_part_rounded_half_up_once(percent, fixed, amount, fee):
    assert platform_fee(percent, fixed).of(amount) == fee


@pytest.mark.parametrize("percent", ["101", "1.555", "-1", "NaN", "Infinity"])
def test_a_fee_percentage_out_of_range_is_refused(percent):
    with pytest.raises(ValueError):
        platform_fee(percent, 0)


def test_a_fee_percentage_is_kept_in_its_shortest_form():
    assert platform_fee("1.50", 10) == PlatformFee("1.5", 10)
    assert platform_fee("2.00", 0) == PlatformFee("2", 0)


def test_an_account_report_older_than_the_one_kept_changes_nothing():
    account = StripeAccount(STORE, "acct_1", READY)
    restricted = AccountStatus(reported_at=199)
    assert account.reported(restricted) is None
    assert account.reported(replace(restricted, reported_at=200)).ready is False  # the same second: taken


def stripe_body(kind: str, found: dict, account: str | None = "acct_1") -> bytes:
    body = json.loads(event(kind, found, "evt_1"))
    if account:
        body["account"] = account
    return json.dumps(body).encode()


def session(**fields) -> dict:
    return {"id": "cs_1", "object": "checkout.session", "amount_total": 840, "currency": "eur"} | fields


def read(body: bytes):
    return read_event("stripe", body, stripe_event)


def test_a_paid_checkout_session_is_a_success_of_its_payment_moved_by_its_payment_intent():
    paid = read(stripe_body("checkout.session.completed", session(payment_status="paid", payment_intent="pi_1")))
    assert paid == PaymentEvent(
        "stripe", "evt_1", "payment.succeeded", "cs_1", 840, "EUR", None, account="acct_1", paid_with="pi_1"
    )


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("checkout.session.async_payment_succeeded", "paid", "payment.succeeded"),
        ("checkout.session.async_payment_failed", "unpaid", "payment.failed"),
        ("checkout.session.expired", "unpaid", "payment.canceled"),
    ],
)
def test_the_other_checkout_events_say_what_became_of_the_payment(kind, status, expected):
    found = read(stripe_body(kind, session(payment_status=status, payment_intent="pi_1")))
    assert (found.type, found.payment_id, found.account) == (expected, "cs_1", "acct_1")


def test_a_session_completed_unpaid_or_a_checkout_payment_intent_change_nothing():
    processing = read(stripe_body("checkout.session.completed", session(payment_status="unpaid")))
    assert processing == OtherEvent(
        "stripe", "evt_1", "checkout.session.completed", "the session is unpaid: its outcome follows"
    )
    intent = {"id": "pi_1", "amount": 840, "currency": "eur", "metadata": {"checkout": "session", "order_id": "o"}}
    assert isinstance(read(stripe_body("payment_intent.succeeded", intent)), OtherEvent)
    direct = read(stripe_body("payment_intent.succeeded", intent | {"metadata": {}, "amount_received": 840}))
    assert (direct.type, direct.payment_id, direct.paid_with) == ("payment.succeeded", "pi_1", None)


def test_an_account_update_tells_what_the_account_may_do_as_of_the_event():
    found = {
        "id": "acct_1",
        "object": "account",
        "charges_enabled": True,
        "payouts_enabled": False,
        "details_submitted": True,
        "requirements": {"currently_due": ["external_account"]},
    }
    body = json.loads(stripe_body("account.updated", found))
    body["created"] = 1_800_000_000
    updated = read(json.dumps(body).encode())
    status = AccountStatus(True, False, True, ("external_account",), 1_800_000_000)
    assert updated == AccountEvent("stripe", "evt_1", "account.updated", "acct_1", status)


def test_an_event_naming_an_account_that_is_no_account_id_is_unprocessable():
    odd = read(stripe_body("checkout.session.completed", session(payment_status="paid"), account="me@example.com"))
    assert isinstance(odd, UnprocessableEvent) and odd.reason.startswith("account:")


def test_onboarding_makes_the_account_once_and_a_fresh_link_each_time(backend):
    backend.stripe_connect = connect = FakeConnect()
    first = start_onboarding(StartOnboarding(STORE, "https://r", "https://f", OWNER), backend)
    second = start_onboarding(StartOnboarding(STORE, "https://r", "https://f", OWNER), backend)
    assert first.url != second.url
    assert connect.links == [("acct_demo0", "https://r", "https://f")] * 2
    connected = [e for e in backend.journal.entries(STORE) if e["type"] == StripeAccountConnected.TYPE]
    assert [e["data"] for e in connected] == [{"account_id": "acct_demo0"}]
    assert backend.stripe_accounts.by_account("acct_demo0").store_id == STORE


def test_an_account_not_ready_is_asked_of_stripe_and_what_it_says_is_kept(backend):
    backend.stripe_connect = connect = FakeConnect()
    start_onboarding(StartOnboarding(STORE, "https://r", "https://f", OWNER), backend)
    assert stripe_status(backend, STORE).status.requirements_due == ("external_account",)
    connect.status["acct_demo0"] = READY
    assert stripe_status(backend, STORE).ready is True
    assert backend.stripe_accounts.of_store(STORE, fresh=True).ready is True


def test_account_events_are_applied_once_never_backwards_and_parked_for_an_unknown_account(backend):
    backend.stripe_connect = FakeConnect()
    start_onboarding(StartOnboarding(STORE, "https://r", "https://f", OWNER), backend)

    def updated(event_id: str, status: AccountStatus, account: str = "acct_demo0"):
        return apply_account_event(AccountEvent("stripe", event_id, "account.updated", account, status), backend)

    assert updated("evt_ready", READY).duplicate is False
    assert updated("evt_ready", READY).duplicate is True
    assert updated("evt_old", AccountStatus(reported_at=100)).duplicate is False  # recorded, older: ignored
    assert backend.stripe_accounts.of_store(STORE, fresh=True).ready is True
    assert updated("evt_other", READY, account="acct_unknown").unprocessable == UNKNOWN_ACCOUNT
    assert updated("evt_restricted", AccountStatus(reported_at=300)).duplicate is False
    changes = [e["data"] for e in backend.journal.entries(STORE) if e["type"] == "stripe.account_status_changed"]
    assert changes == [
        {"account_id": "acct_demo0", "charges_enabled": True, "payouts_enabled": True, "event_id": "evt_ready"},
        {"account_id": "acct_demo0", "charges_enabled": False, "payouts_enabled": False, "event_id": "evt_restricted"},
    ]


def test_a_platform_fee_needs_an_account_and_a_repeated_one_journals_nothing(backend):
    platform = {"type": "staff", "uid": "ops", "role": "platform_admin"}
    with pytest.raises(DomainError) as refused:
        set_platform_fee(SetPlatformFee(STORE, "1.5", 10, platform), backend)
    assert refused.value.code == "provider_not_ready"
    backend.stripe_connect = FakeConnect()
    start_onboarding(StartOnboarding(STORE, "https://r", "https://f", OWNER), backend)
    for _ in range(2):
        assert set_platform_fee(SetPlatformFee(STORE, "1.5", 10, platform), backend).platform_fee == PlatformFee(
            "1.5", 10
        )
    with pytest.raises(DomainError) as bad:
        set_platform_fee(SetPlatformFee(STORE, "150", 0, platform), backend)
    assert bad.value.code == "validation_failed"
    fees = [e["data"] for e in backend.journal.entries(STORE) if e["type"] == "stripe.platform_fee_set"]
    assert fees == [{"percent": "1.5", "fixed": 10}]


def test_a_checkout_lists_the_lines_and_the_tip_or_one_line_where_gift_cards_pay_part():
    products = {product.id: product for product in DEMO_PRODUCTS}
    cart = price_cart(products, (CartItem("croissant", 2), CartItem("bagel", 1, ("salmon",))), tip=50)
    lines = [(line.name, line.unit_amount, line.quantity) for line in payment_lines(cart, 1430, "Demo Café")]
    assert lines == [("Butter-Croissant", 290, 2), ("Bagel mit Frischkäse (Mit Lachs)", 800, 1), ("Trinkgeld", 50, 1)]
    partly = payment_lines(cart, 930, "Demo Café")  # a gift card paid 5.00
    assert [(line.name, line.unit_amount, line.quantity) for line in partly] == [("Demo Café: Bestellung", 930, 1)]
