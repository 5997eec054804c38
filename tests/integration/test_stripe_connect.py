"""Stripe Connect end to end: two stores, each paid on its own connected account of the local Stripe
stand-in, which the `stripe` library reaches over HTTP and whose signed webhooks reach the API over
HTTP. Every Stripe request made for a store must carry that store's `Stripe-Account`."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from fake_stripe import session_event, stripe_signature
from support import auth, idem, journal_types, order_body
from tresen.adapters.identity import unsigned_dev_token
from tresen.config import settings
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store
from tresen.standins.stripe_api import StripeStandIn, start

KEY = "sk_test_connect"
CONNECT_SECRET = "whsec_stripe_connect_dev"
PLATFORM_CALLS = {"/v1/accounts", "/v1/account_links"}  # the only ones about an account, not on it


class Stripe:
    """The stand-in as a test talks to it."""

    def __init__(self, stand_in: StripeStandIn, url: str):
        self.stand_in, self.url = stand_in, url

    def control(self, path: str, body: dict | None = None) -> dict:
        answer = requests.post(f"{self.url}/_standin/{path}", json=body or {}, timeout=10)
        assert answer.status_code < 400, answer.text
        self.stand_in.wait_delivered()
        return answer.json()

    def api(self, method: str, path: str, account: str, **params) -> dict:
        headers = {"Authorization": f"Bearer {KEY}", "Stripe-Account": account}
        answer = requests.request(method, f"{self.url}{path}", data=params, headers=headers, timeout=10)
        self.stand_in.wait_delivered()
        return answer.json()

    def events(self, kind: str) -> list[dict]:
        listed = requests.get(f"{self.url}/_standin/events", timeout=10).json()["data"]
        return [event for event in listed if event["type"] == kind]

    def resend(self, event_id: str) -> dict:
        return requests.post(f"{self.url}/_standin/events/{event_id}/resend", timeout=10).json()


@pytest.fixture
def stripe(app, backend, monkeypatch):
    """The API served over HTTP, Stripe played by the stand-in, Connect on (the default)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stand_in = StripeStandIn(f"http://127.0.0.1:{server.port}/v1/webhooks/stripe")
    stand_in_server, url = start(stand_in)
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    monkeypatch.setenv("STRIPE_API_BASE", url)
    settings.cache_clear()
    yield Stripe(stand_in, url)
    stand_in.wait_delivered()
    stand_in_server.shutdown()
    server.shutdown()
    settings.cache_clear()


def new_store(backend) -> str:
    store_id = f"c{uuid.uuid4().hex[:12]}"
    seed_store(SeedStore(replace(DEMO_STORE, id=store_id, online_providers=("stripe",)), DEMO_PRODUCTS), backend)
    return store_id


def onboard(client, stripe: Stripe, store_id: str) -> str:
    """The owner opens Stripe's onboarding and completes it; the store's account id."""
    link = client.post(f"/v1/stores/{store_id}/payments/stripe/onboarding", headers=auth(store_id, "owner"))
    assert link.status_code == 201, link.get_data(as_text=True)
    done = requests.post(link.get_json()["url"], headers={"Accept": "application/json"}, timeout=10).json()
    assert done["redirect"] == f"http://127.0.0.1:8080/staff?store={store_id}&stripe=return"
    stripe.stand_in.wait_delivered()
    return done["account"]["id"]


def stripe_order(client, store_id: str, **body) -> dict:
    placed = client.post(
        f"/v1/stores/{store_id}/orders",
        json=order_body(payment={"method": "online", "provider": "stripe"}, **body),
        headers=idem(),
    )
    assert placed.status_code == 201, placed.get_data(as_text=True)
    return placed.get_json()


def pay(stripe: Stripe, order: dict, outcome: str = "paid") -> dict:
    return stripe.control(f"checkout/{order['payment']['id']}/pay", {"outcome": outcome})


def seen(client, order: dict) -> dict:
    return client.get(f"/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}).get_json()


def refund(client, store_id: str, order: dict, body: dict):
    return client.post(
        f"/v1/stores/{store_id}/orders/{order['id']}/refunds", json=body, headers=auth(store_id, "owner") | idem()
    )


def business_day() -> str:
    return (datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(hours=5)).date().isoformat()


def statement_of(client, store_id: str, day: str) -> dict:
    """The store's statement of the business day, as its JSON file says it."""
    finance = auth(store_id, "finance")
    made = client.post(f"/v1/stores/{store_id}/statements", json={"from": day, "to": day}, headers=finance | idem())
    assert made.status_code == 201, made.get_data(as_text=True)
    files = client.get(f"/v1/stores/{store_id}/statements/{made.get_json()['id']}", headers=finance).get_json()
    [document] = [file for file in files["files"] if file["name"].endswith(".json") and file["name"] != "manifest.json"]
    with urllib.request.urlopen(document["url"], timeout=10) as response:
        return json.loads(response.read())


def connect_event(kind: str, found: dict, account: str) -> bytes:
    payload = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "account": account,
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "data": {"object": found},
        "livemode": False,
        "type": kind,
    }
    return json.dumps(payload).encode()


def deliver(client, payload: bytes):
    signature = stripe_signature(payload, CONNECT_SECRET)
    return client.post(
        "/v1/webhooks/stripe", data=payload, content_type="application/json", headers={"Stripe-Signature": signature}
    )


def test_two_stores_are_paid_refunded_and_paid_out_each_on_its_own_account(client, backend, stripe):
    first, second = new_store(backend), new_store(backend)
    accounts = {first: onboard(client, stripe, first), second: onboard(client, stripe, second)}
    assert len(set(accounts.values())) == 2
    platform = {"Authorization": f"Bearer {unsigned_dev_token(uid='ops-1', stores={}, platform='admin')}"}
    fee = client.put(
        f"/v1/stores/{first}/payments/stripe", json={"platform_fee": {"percent": "1.5", "fixed": 10}}, headers=platform
    )
    assert (fee.status_code, fee.get_json()["platform_fee"]) == (200, {"percent": "1.5", "fixed": 10})

    orders = {store: [stripe_order(client, store) for _ in range(3)] for store in (first, second)}
    for placed in orders.values():
        for order in placed:
            assert pay(stripe, order)["redirect"].endswith(f"#order={order['id']}")
    for placed in orders.values():
        for order in placed:
            paid = seen(client, order)
            assert (paid["status"], paid["payment_status"], paid["invoice_number"][:9]) == ("paid", "paid", "DEMO-2026")
    # refunds: full, partial, and one Stripe fails after taking it on
    assert refund(client, first, orders[first][0], {"amount": 840}).status_code == 201
    assert refund(client, second, orders[second][0], {"amount": 300}).status_code == 201
    stripe.control("refunds/fail-next", {"account": accounts[second]})
    assert refund(client, second, orders[second][1], {"amount": 200}).status_code == 201
    stripe.stand_in.wait_delivered()
    assert (seen(client, orders[first][0])["payment_status"], seen(client, orders[first][0])["refunded_amount"]) == (
        "refunded",
        840,
    )
    assert seen(client, orders[second][0])["refunded_amount"] == 300
    assert seen(client, orders[second][1])["refunded_amount"] == 0  # failed: refundable again
    # the first store's payout: its three charges and its refund, nothing of the second's
    payout = stripe.control("payouts", {"account": accounts[first]})
    stripe.stand_in.wait_delivered()
    matched = backend.payouts.matches_of("stripe", payout["id"])
    intents = {stripe.api("GET", f"/v1/checkout/sessions/{o['payment']['id']}", accounts[first])["payment_intent"]
               for o in orders[first]}  # fmt: skip
    assert {item["payment_id"] for item in matched} == intents
    stripe_fees = {item["object_id"]: item["fee"] for item in matched if item["kind"] == "payment"}
    # 840: Stripe's 1.5 % + 25 (38) and the platform's 1.5 % + 10 (23)
    assert sorted(stripe_fees.values()) == [61, 61, 61]

    requests_made = stripe.stand_in.requests
    for account in accounts.values():
        mine = [r for r in requests_made if r["stripe_account"] == account]
        assert {r["path"] for r in mine} >= {"/v1/checkout/sessions", "/v1/refunds"}
    assert {r["path"] for r in requests_made if r["stripe_account"] is None} == PLATFORM_CALLS
    sessions = [r for r in requests_made if r["path"] == "/v1/checkout/sessions"]
    for request in sessions:
        store = request["params"]["metadata[store_id]"]
        assert request["stripe_account"] == accounts[store]
        fee_cents = request["params"].get("payment_intent_data[application_fee_amount]")
        assert fee_cents == ("23" if store == first else None)
    listing = [r for r in requests_made if r["path"] == "/v1/balance_transactions"]
    assert listing and {r["stripe_account"] for r in listing} == {accounts[first]}
    # each store's journal and closing hold its own money only: 3 × 840 taken, its refunds paid back
    refunded = {first: 840, second: 300}  # the second store's failed refund gave nothing back
    for store, placed in orders.items():
        paid_entries = [e for e in backend.journal.entries(store) if e["type"] == "order.paid"]
        assert sorted(e["data"]["order_id"] for e in paid_entries) == sorted(o["id"] for o in placed)
        assert "stripe.account_connected" in journal_types(backend, store)
        closed = client.post(f"/v1/stores/{store}/closings", headers=auth(store, "supervisor") | idem())
        z = closed.get_json()
        assert (z["counts"]["sales"], z["payments"]["online"]) == (3, 3 * 840), store
        assert z["refunds"]["amount"] - z["failed_refunds"]["amount"] == refunded[store], z
        statement = statement_of(client, store, business_day())
        assert sorted(line["order_id"] for line in statement["payments"]) == sorted(o["id"] for o in placed)
        paid_out = {line["payout_id"] for line in statement["payments"]}
        assert paid_out == ({payout["id"]} if store == first else {None}), store  # only the first was paid out


def test_a_store_offers_stripe_only_while_its_account_may_take_charges(client, backend, stripe):
    store_id = new_store(backend)
    state = client.get(f"/v1/stores/{store_id}/payments/stripe", headers=auth(store_id, "supervisor")).get_json()
    assert (state["account_id"], state["charges_enabled"]) == (None, False)
    refused = client.post(
        f"/v1/stores/{store_id}/orders",
        json=order_body(payment={"method": "online", "provider": "stripe"}),
        headers=idem(),
    )
    assert (refused.status_code, refused.get_json()["code"]) == (409, "provider_not_ready")
    assert client.get(f"/v1/stores/{store_id}/menu").get_json()["store"]["online_providers"] == []
    for role in ("staff", "supervisor", "finance"):
        denied = client.post(f"/v1/stores/{store_id}/payments/stripe/onboarding", headers=auth(store_id, role))
        assert (denied.status_code, denied.get_json()["code"]) == (403, "forbidden"), role

    first_link = client.post(f"/v1/stores/{store_id}/payments/stripe/onboarding", headers=auth(store_id, "owner"))
    again = client.post(f"/v1/stores/{store_id}/payments/stripe/onboarding", headers=auth(store_id, "owner"))
    assert first_link.get_json()["url"] != again.get_json()["url"]  # a fresh link, the same account
    assert [r["path"] for r in stripe.stand_in.requests].count("/v1/accounts") == 1
    not_yet = client.get(f"/v1/stores/{store_id}/payments/stripe", headers=auth(store_id, "owner")).get_json()
    assert not_yet["charges_enabled"] is False and "external_account" in not_yet["requirements_due"]

    account = onboard(client, stripe, store_id)
    ready = client.get(f"/v1/stores/{store_id}/payments/stripe", headers=auth(store_id, "owner")).get_json()
    assert ready | {"requirements_due": []} == {
        "account_id": account,
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "requirements_due": [],
        "platform_fee": None,
    }
    time.sleep(5.1)  # the accounts are cached as briefly as the catalog
    assert client.get(f"/v1/stores/{store_id}/menu").get_json()["store"]["online_providers"] == ["stripe"]
    assert stripe_order(client, store_id)["payment"]["id"].startswith("cs_test_")
    assert journal_types(backend, store_id).count("stripe.account_status_changed") == 1

    stripe.control(f"accounts/{account}", {"charges_enabled": False, "currently_due": ["individual.verification"]})
    restricted = client.get(f"/v1/stores/{store_id}/payments/stripe", headers=auth(store_id, "owner")).get_json()
    assert (restricted["charges_enabled"], restricted["requirements_due"]) == (False, ["individual.verification"])
    time.sleep(5.1)
    refused_again = client.post(
        f"/v1/stores/{store_id}/orders",
        json=order_body(payment={"method": "online", "provider": "stripe"}),
        headers=idem(),
    )
    assert (refused_again.status_code, refused_again.get_json()["code"]) == (409, "provider_not_ready")
    assert journal_types(backend, store_id).count("stripe.account_status_changed") == 2


def test_checkout_events_apply_once_in_any_order_from_their_own_account_only(client, backend, stripe):
    store_id = new_store(backend)
    account = onboard(client, stripe, store_id)
    order = stripe_order(client, store_id)
    pay(stripe, order)
    [completed] = stripe.events("checkout.session.completed")
    replay = stripe.resend(completed["id"])
    assert (replay["status"], json.loads(replay["body"])["duplicate"]) == (200, True)
    with ThreadPoolExecutor(8) as pool:  # the same delivery, eight times at once
        answers = list(pool.map(lambda _: stripe.resend(completed["id"]), range(8)))
    assert [json.loads(answer["body"])["duplicate"] for answer in answers] == [True] * 8
    assert journal_types(backend, store_id).count("order.paid") == 1

    # a slow payment: its success arrives before the session's completion (unpaid) is delivered
    slow = stripe_order(client, store_id)
    session_id = slow["payment"]["id"]
    early = deliver(client, session_event("async_payment_succeeded", session_id, 840, account=account))
    assert early.get_json()["duplicate"] is False
    late = deliver(client, session_event("completed", session_id, 840, payment_status="unpaid", account=account))
    assert late.get_json()["ignored"] == "the session is unpaid: its outcome follows"
    assert (seen(client, slow)["status"], seen(client, slow)["payment_status"]) == ("paid", "paid")

    short = stripe_order(client, store_id)
    mismatch = deliver(client, session_event("completed", short["payment"]["id"], 800, account=account))
    assert mismatch.status_code == 200
    assert (seen(client, short)["status"], seen(client, short)["payment_status"]) == ("awaiting_payment", "mismatch")

    other = new_store(backend)
    onboard(client, stripe, other)
    elsewhere = stripe_order(client, other)
    stolen = deliver(client, session_event("completed", elsewhere["payment"]["id"], 840, account=account))
    assert stolen.get_json()["unprocessable"] == "unknown payment"  # not this account's payment
    assert seen(client, elsewhere)["payment_status"] == "unpaid"
    stranger = deliver(client, session_event("completed", session_id, 840, account="acct_nobodysaccount"))
    assert (stranger.status_code, stranger.get_json()["unprocessable"]) == (200, "unknown_account")
    unknown = deliver(client, connect_event("account.updated", {"id": "acct_nobodysaccount"}, "acct_nobodysaccount"))
    assert unknown.get_json()["unprocessable"] == "unknown_account"

    expiring = stripe_order(client, store_id)
    stripe.api("POST", f"/v1/checkout/sessions/{expiring['payment']['id']}/expire", account)
    assert (seen(client, expiring)["status"], seen(client, expiring)["payment_status"]) == ("canceled", "unpaid")


def test_only_the_platform_sets_its_fee_and_a_bad_percentage_is_refused(client, backend, stripe):
    store_id = new_store(backend)
    platform = {"Authorization": f"Bearer {unsigned_dev_token(uid='ops-1', stores={}, platform='admin')}"}
    path = f"/v1/stores/{store_id}/payments/stripe"
    body = {"platform_fee": {"percent": "2", "fixed": 0}}
    before = client.put(path, json=body, headers=platform)
    assert (before.status_code, before.get_json()["code"]) == (409, "provider_not_ready")  # no account yet
    onboard(client, stripe, store_id)
    denied = client.put(path, json=body, headers=auth(store_id, "owner"))
    assert (denied.status_code, denied.get_json()["code"]) == (403, "forbidden")
    for percent in ("101", "1.555", "-1", "abc"):
        bad = client.put(path, json={"platform_fee": {"percent": percent, "fixed": 0}}, headers=platform)
        assert (bad.status_code, bad.get_json()["code"]) == (422, "validation_failed"), percent
    assert client.put(path, json=body, headers=platform).get_json()["platform_fee"] == {"percent": "2", "fixed": 0}
    cleared = client.put(path, json={"platform_fee": None}, headers=platform)
    assert cleared.get_json()["platform_fee"] is None
    assert journal_types(backend, store_id).count("stripe.platform_fee_set") == 2


def test_a_statement_shows_the_platform_fee_as_a_fee_of_the_payment(client, backend, stripe):
    store_id = new_store(backend)
    account = onboard(client, stripe, store_id)
    platform = {"Authorization": f"Bearer {unsigned_dev_token(uid='ops-1', stores={}, platform='admin')}"}
    client.put(
        f"/v1/stores/{store_id}/payments/stripe",
        json={"platform_fee": {"percent": "1.5", "fixed": 10}},
        headers=platform,
    )
    order = stripe_order(client, store_id)
    pay(stripe, order)
    stripe.control("payouts", {"account": account})
    day = business_day()
    statement = statement_of(client, store_id, day)
    [line] = statement["payments"]
    assert (line["amount"], line["fee"], line["net"], line["matched"]) == (840, 61, 779, True)
    # DATEV books the payout's fees, the platform's among them, on the fee account
    arrival = date.fromisoformat(statement["payouts"][0]["arrival_date"])
    datev = client.get(
        f"/v1/stores/{store_id}/export/datev?from={day}&to={arrival.isoformat()}", headers=auth(store_id, "finance")
    )
    rows = datev.get_data().decode("cp1252").split("\r\n")
    [fees] = [row for row in rows if "Auszahlung stripe" in row and row.startswith("0,61;")]
    assert fees.split(";")[6:8] == ["4970", "1360"]  # SKR03: Nebenkosten des Geldverkehrs, Geldtransit
