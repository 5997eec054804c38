"""Shapes checked against Stripe's own published fixtures (tests/data/stripe_fixtures3.json, from
Stripe's OpenAPI repository): the stand-in answers no field Stripe's objects do not have, and Tresen
reads Stripe's own objects — not just the stand-in's — into the events it expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import stripe

from tresen.adapters.stripe_provider import stripe_event
from tresen.adapters.webhook_bodies import read_event
from tresen.domain.payments import AccountEvent, OtherEvent, PaymentEvent, PayoutEvent, RefundEvent
from tresen.standins.stripe_api import StripeStandIn, start

FIXTURES = json.loads((Path(__file__).parents[1] / "data" / "stripe_fixtures3.json").read_text())["resources"]
KEY = "sk_test_shapes"


@pytest.fixture(scope="module")
def made() -> dict[str, list[dict]]:
    """One of each object the stand-in makes, as the `stripe` library receives it, by Stripe's kind."""
    stand_in = StripeStandIn()
    server, url = start(stand_in)
    platform = stripe.StripeClient(KEY, base_addresses={"api": url, "connect": url})
    account = platform.v1.accounts.create({"type": "express", "country": "DE"})
    link = platform.v1.account_links.create(
        {"account": account.id, "type": "account_onboarding", "return_url": "https://r", "refresh_url": "https://f"}
    )
    on_account = stripe.StripeClient(KEY, stripe_account=account.id, base_addresses={"api": url})
    line = {"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 840, "product_data": {"name": "Tee"}}}
    session = on_account.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": [line], "success_url": "https://s", "payment_intent_data": {}}
    )
    requests.post(f"{url}/_standin/checkout/{session.id}/pay", json={"outcome": "paid"}, timeout=10)
    paid = on_account.v1.checkout.sessions.retrieve(session.id)
    intent = on_account.v1.payment_intents.retrieve(paid.payment_intent)
    refund = on_account.v1.refunds.create({"payment_intent": intent.id, "amount": 300})
    payout = requests.post(f"{url}/_standin/payouts", json={"account": account.id}, timeout=10).json()
    transactions = on_account.v1.balance_transactions.list({"payout": payout["id"], "expand": ["data.source"]})
    events = [
        requests.get(f"{url}/_standin/events/{listed['id']}", timeout=10).json()
        for listed in requests.get(f"{url}/_standin/events", timeout=10).json()["data"]
    ]
    server.shutdown()
    by_kind = {
        "account": [account.to_dict()],
        "account_link": [link.to_dict()],
        "checkout.session": [session.to_dict(), paid.to_dict()],
        "payment_intent": [intent.to_dict()],
        "refund": [refund.to_dict()],
        "payout": [payout],
        "balance_transaction": [transaction.to_dict() for transaction in transactions.data],
        "event": events,
        "charge": [
            transaction.to_dict()["source"] for transaction in transactions.data if transaction.type == "charge"
        ],
    }
    return by_kind


@pytest.mark.parametrize("kind", sorted(FIXTURES))
def test_the_stand_in_answers_no_field_stripes_objects_do_not_have(made, kind):
    allowed = set(FIXTURES[kind]) | ({"account"} if kind == "event" else set())  # Connect events name it
    assert made[kind], kind
    for answered in made[kind]:
        assert answered["object"] == kind
        assert sorted(set(answered) - allowed) == [], f"{kind}: not Stripe's"


def as_event(kind: str, found: dict, **more) -> bytes:
    envelope = FIXTURES["event"] | {"id": "evt_fixture", "type": kind, "data": {"object": found}, "created": 1}
    return json.dumps(envelope | more).encode()


def read(body: bytes):
    return read_event("stripe", body, stripe_event)


def test_stripes_own_checkout_session_and_payment_intent_are_read_as_payment_events():
    session = FIXTURES["checkout.session"] | {"amount_total": 1099, "currency": "eur", "payment_status": "paid"}
    paid = read(as_event("checkout.session.completed", session, account="acct_1PgafTB7WZ01zgkW"))
    assert paid == PaymentEvent(
        "stripe",
        "evt_fixture",
        "payment.succeeded",
        session["id"],
        1099,
        "EUR",
        account="acct_1PgafTB7WZ01zgkW",
        paid_with="pi_1PgafyB7WZ01zgkWSjxsAJo3",
    )
    open_one = read(as_event("checkout.session.completed", FIXTURES["checkout.session"]))
    assert isinstance(open_one, OtherEvent)  # unpaid: its outcome follows
    expired = read(as_event("checkout.session.expired", FIXTURES["checkout.session"]))
    assert (expired.type, expired.amount) == ("payment.canceled", None)
    intent = read(as_event("payment_intent.payment_failed", FIXTURES["payment_intent"]))
    assert (intent.type, intent.payment_id, intent.amount, intent.currency) == (
        "payment.failed",
        "pi_1PgafyB7WZ01zgkWSjxsAJo3",
        1099,
        "USD",
    )


def test_stripes_own_refund_charge_payout_and_account_are_read():
    refund = read(as_event("refund.updated", FIXTURES["refund"] | {"payment_intent": "pi_1"}))
    assert isinstance(refund, RefundEvent) and [r.amount for r in refund.refunds] == [100]
    charge = read(as_event("charge.refunded", FIXTURES["charge"]))
    assert isinstance(charge, RefundEvent) and charge.refunds == ()  # an older API version lists them
    payout = read(as_event("payout.paid", FIXTURES["payout"], account="acct_1PgafTB7WZ01zgkW"))
    assert isinstance(payout, PayoutEvent)
    assert (payout.payout["amount"], payout.payout["arrival_date"], payout.account) == (
        1100,
        "2009-02-13",
        "acct_1PgafTB7WZ01zgkW",
    )
    account = read(as_event("account.updated", FIXTURES["account"]))
    assert isinstance(account, AccountEvent)
    assert (account.account, account.status.charges_enabled, account.status.requirements_due[-1]) == (
        "acct_1PgafTB7WZ01zgkW",
        False,
        "tos_acceptance.ip",
    )
