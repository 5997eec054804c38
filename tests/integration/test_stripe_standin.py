"""The Stripe stand-in driven as the project drives Stripe: through the real `stripe` library, with
webhooks received over HTTP and verified by the library's own signature check."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
import requests
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from stack import ROOT, free_port
from tresen.standins.stripe_api import StripeStandIn, start

PLATFORM_SECRET, CONNECT_SECRET = "whsec_test_platform", "whsec_test_connect"
SUCCESS_URL = "https://shop.example/paid?session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://shop.example/cancelled"
JSON = {"Accept": "application/json"}


class Clock:
    """The stand-in's clock, moved by hand to expire links and sessions."""

    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Receiver:
    """A webhook endpoint: records every POST and answers the statuses queued in `answers`, then 200."""

    def __init__(self):
        self.posts: list[dict] = []
        self.answers: list[int] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.port}/webhooks/stripe"

    @Request.application
    def app(self, request: Request) -> Response:
        self.posts.append({"at": time.monotonic(), "body": request.get_data(), "headers": dict(request.headers)})
        status = self.answers.pop(0) if self.answers else 200
        return Response("ok" if status == 200 else "try again", status)

    def events(self, secret: str = CONNECT_SECRET) -> list[stripe.Event]:
        return [stripe.Webhook.construct_event(p["body"], p["headers"]["Stripe-Signature"], secret) for p in self.posts]


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def standin(receiver, clock):
    stand_in = StripeStandIn(receiver.url, PLATFORM_SECRET, CONNECT_SECRET, clock=clock, retry_delays=(0.01,) * 4)
    server, url = start(stand_in)
    stand_in.url = url
    yield stand_in
    stand_in.wait_delivered()
    server.shutdown()


def client(url: str, account: str | None = None, key: str = "sk_test_standin") -> stripe.StripeClient:
    return stripe.StripeClient(
        key,
        base_addresses={"api": url, "connect": url},
        stripe_account=account,
        max_network_retries=0,
        http_client=stripe.RequestsClient(),
    )


def onboarded_account(url: str) -> str:
    account = client(url).v1.accounts.create(params={"type": "express", "country": "DE"})
    link = client(url).v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://r",
            "return_url": "https://x",
        }
    )
    assert requests.post(link.url, allow_redirects=False).status_code == 303
    return account.id


def open_session(url: str, account: str | None, fee: int | None = None, **extra) -> stripe.checkout.Session:
    intent_data = {"metadata": {"order_id": "ord_1"}} | ({"application_fee_amount": fee} if fee is not None else {})
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {"currency": "EUR", "unit_amount": 420, "product_data": {"name": "Flat white"}},
                "quantity": 2,
            },
            {
                "price_data": {"currency": "eur", "unit_amount": 390, "product_data": {"name": "Croissant"}},
                "quantity": 1,
            },
        ],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "client_reference_id": "ord_1",
        "metadata": {"order_id": "ord_1"},
        "payment_intent_data": intent_data,
    } | extra
    return client(url, account).v1.checkout.sessions.create(params=params)


def pay(url: str, session_id: str, outcome: str = "paid") -> dict:
    answer = requests.post(f"{url}/_standin/checkout/{session_id}/pay", json={"outcome": outcome})
    assert answer.status_code == 200, answer.text
    return answer.json()


def event_types(standin: StripeStandIn) -> list[str]:
    return [event["type"] for event in requests.get(f"{standin.url}/_standin/events").json()["data"]]


def test_only_test_secret_keys_are_let_in_and_every_request_is_recorded(standin):
    with pytest.raises(stripe.AuthenticationError) as refused:
        client(standin.url, key="sk_live_0123456789abcdef").v1.accounts.retrieve("acct_1")
    assert refused.value.http_status == 401
    assert refused.value.user_message == "Invalid API Key provided: sk_live_************cdef"
    bare = requests.get(f"{standin.url}/v1/accounts/acct_1")
    assert (bare.status_code, bare.json()["error"]["type"]) == (401, "invalid_request_error")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client(standin.url).v1.accounts.retrieve("acct_missing")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    recorded = requests.get(f"{standin.url}/_standin/requests").json()["data"]
    assert [(r["method"], r["path"], r["stripe_account"], r["status"]) for r in recorded] == [
        ("GET", "/v1/accounts/acct_1", None, 401),
        ("GET", "/v1/accounts/acct_1", None, 401),
        ("GET", "/v1/accounts/acct_missing", None, 404),
    ]
    assert requests.delete(f"{standin.url}/_standin/requests").json() == {"data": []}
    assert standin.requests == []


def test_an_account_starts_restricted_and_onboarding_through_its_link_enables_it(standin, receiver):
    platform = client(standin.url)
    account = platform.v1.accounts.create(
        params={"type": "express", "country": "DE", "email": "cafe@example.com", "metadata": {"store_id": "s1"}}
    ).to_dict()
    due = ["business_profile.url", "external_account", "tos_acceptance.date"]
    assert account["id"].startswith("acct_") and len(account["id"]) == 21
    assert {k: account[k] for k in ("object", "type", "country", "default_currency", "email", "metadata")} == {
        "object": "account",
        "type": "express",
        "country": "DE",
        "default_currency": "eur",
        "email": "cafe@example.com",
        "metadata": {"store_id": "s1"},
    }
    assert (account["charges_enabled"], account["payouts_enabled"], account["details_submitted"]) == (False,) * 3
    assert account["requirements"] | {"alternatives": None} == {
        "alternatives": None,
        "currently_due": due,
        "eventually_due": due,
        "past_due": due,
        "pending_verification": [],
        "disabled_reason": "requirements.past_due",
        "current_deadline": None,
        "errors": [],
    }
    [created] = standin.requests
    assert created["params"] == {
        "type": "express",
        "country": "DE",
        "email": "cafe@example.com",
        "metadata[store_id]": "s1",
    }
    assert (created["stripe_account"], len(created["idempotency_key"])) == (None, 36)  # the library's uuid4

    link = platform.v1.account_links.create(
        params={
            "account": account["id"],
            "type": "account_onboarding",
            "refresh_url": "https://shop.example/refresh",
            "return_url": "https://shop.example/return",
        }
    )
    assert link.object == "account_link" and link.expires_at == link.created + 300
    assert link.url.startswith(f"{standin.url}/_standin/onboarding/")
    shown = requests.get(link.url)
    title = f"Stripe stand-in: set up payments for {account['id']}"
    assert shown.status_code == 200 and shown.headers["Content-Type"].startswith("text/html")
    for part in ('<html lang="en">', f"<title>{title}</title>", "<main>", f"<h1>{title}</h1>"):
        assert part in shown.text
    assert '<form method="post"><button type="submit">Complete setup</button></form>' in shown.text

    done = requests.post(link.url, allow_redirects=False)
    assert (done.status_code, done.headers["Location"]) == (303, "https://shop.example/return")
    again = requests.get(link.url, allow_redirects=False)  # single use
    assert (again.status_code, again.headers["Location"]) == (303, "https://shop.example/refresh")
    enabled = platform.v1.accounts.retrieve(account["id"]).to_dict()
    assert (enabled["charges_enabled"], enabled["payouts_enabled"], enabled["details_submitted"]) == (True,) * 3
    assert enabled["capabilities"] == {"card_payments": "active", "transfers": "active"}
    assert (enabled["requirements"]["currently_due"], enabled["requirements"]["disabled_reason"]) == ([], None)

    assert standin.wait_delivered() == 0
    [post] = receiver.posts
    assert post["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert post["headers"]["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    [event] = receiver.events(CONNECT_SECRET)
    assert (event.type, event.account, event.api_version, event.livemode) == (
        "account.updated",
        account["id"],
        "2026-10-28.endive",
        False,
    )
    assert event.data.object.charges_enabled is True
    with pytest.raises(stripe.SignatureVerificationError):  # Connect events are signed with the Connect secret
        receiver.events(PLATFORM_SECRET)


def test_account_links_check_their_params_and_expire_after_five_minutes(standin, clock):
    platform = client(standin.url)
    account = platform.v1.accounts.create(params={"type": "express"})
    params = {"account": account.id, "type": "account_onboarding", "refresh_url": "https://r.example"}
    with pytest.raises(stripe.InvalidRequestError) as missing:
        platform.v1.account_links.create(params=params)
    assert (missing.value.http_status, missing.value.param, missing.value.code) == (
        400,
        "return_url",
        "parameter_missing",
    )
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        platform.v1.account_links.create(params=params | {"account": "acct_nobody", "return_url": "https://x"})
    assert (unknown.value.http_status, unknown.value.param) == (400, "account")
    link = platform.v1.account_links.create(params=params | {"return_url": "https://x.example"})
    clock.now += 301
    late = requests.post(link.url, allow_redirects=False)
    assert (late.status_code, late.headers["Location"]) == (303, "https://r.example")
    assert platform.v1.accounts.retrieve(account.id).charges_enabled is False


def test_the_control_sets_an_accounts_state_and_says_so_in_an_event(standin, receiver):
    account_id = onboarded_account(standin.url)
    changed = requests.post(
        f"{standin.url}/_standin/accounts/{account_id}",
        json={
            "charges_enabled": False,
            "currently_due": ["external_account"],
            "disabled_reason": "requirements.past_due",
        },
    ).json()
    assert (changed["charges_enabled"], changed["payouts_enabled"]) == (False, True)
    assert changed["capabilities"] == {"card_payments": "inactive", "transfers": "active"}
    requirements = changed["requirements"]
    assert (requirements["currently_due"], requirements["eventually_due"], requirements["past_due"]) == (
        ["external_account"],
        ["external_account"],
        ["external_account"],
    )
    standin.wait_delivered()
    assert [(e.type, e.data.object.charges_enabled) for e in receiver.events()] == [
        ("account.updated", True),
        ("account.updated", False),
    ]


def test_a_checkout_session_on_a_connected_account_is_paid_on_its_hosted_page(standin, receiver, clock):
    account_id = onboarded_account(standin.url)
    expires_at = int(clock.now) + 3600
    session = open_session(standin.url, account_id, fee=37, expires_at=expires_at, customer_email="a@b.example")
    assert session.to_dict() == {
        "id": session.id,
        "object": "checkout.session",
        "amount_subtotal": 1230,
        "amount_total": 1230,
        "cancel_url": CANCEL_URL,
        "client_reference_id": "ord_1",
        "created": int(clock.now),
        "currency": "eur",
        "customer_email": "a@b.example",
        "expires_at": expires_at,
        "livemode": False,
        "locale": None,
        "metadata": {"order_id": "ord_1"},
        "mode": "payment",
        "payment_intent": None,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "status": "open",
        "success_url": SUCCESS_URL,
        "ui_mode": "hosted",
        "url": f"{standin.url}/_standin/checkout/{session.id}",
    }
    assert session.id.startswith("cs_test_")
    assert standin.requests[-1]["stripe_account"] == account_id
    assert standin.requests[-1]["params"]["line_items[0][price_data][product_data][name]"] == "Flat white"

    shown = requests.get(session.url)
    assert shown.status_code == 200
    for part in (
        '<html lang="en">',
        "<title>Stripe stand-in: checkout</title>",
        "<main>",
        "<caption>Your order</caption>",
    ):
        assert part in shown.text
    assert '<tr><td>Flat white</td><td class="num">2</td><td class="num">€8.40</td></tr>' in shown.text
    assert '<th scope="row" colspan="2">Total</th><td class="num">€12.30</td>' in shown.text
    assert f'<form method="post" action="/_standin/checkout/{session.id}/pay">' in shown.text
    assert '<button type="submit">Pay</button>' in shown.text
    assert '<button type="submit" class="secondary">Cancel</button>' in shown.text
    assert '<label for="outcome">Test outcome</label>' in shown.text

    paid = requests.post(f"{session.url}/pay", data={"outcome": "paid"}, allow_redirects=False)
    assert (paid.status_code, paid.headers["Location"]) == (303, f"https://shop.example/paid?session={session.id}")
    connected = client(standin.url, account_id)
    done = connected.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.url) == ("complete", "paid", None)
    intent = connected.v1.payment_intents.retrieve(done.payment_intent).to_dict()
    assert {k: intent[k] for k in ("object", "status", "amount", "amount_received", "currency")} == {
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 1230,
        "amount_received": 1230,
        "currency": "eur",
    }
    assert (intent["application_fee_amount"], intent["metadata"]) == (37, {"order_id": "ord_1"})
    assert intent["latest_charge"] == "ch_" + intent["id"].removeprefix("pi_")
    assert "This checkout is complete." in requests.get(session.url).text

    for other in (client(standin.url), client(standin.url, "acct_someoneelse")):  # objects stay on their account
        with pytest.raises(stripe.InvalidRequestError) as hidden:
            other.v1.checkout.sessions.retrieve(session.id)
        assert (hidden.value.http_status, hidden.value.code) == (404, "resource_missing")

    standin.wait_delivered()
    events = receiver.events(CONNECT_SECRET)[1:]  # after the onboarding's account.updated
    assert [(e.type, e.account, e.data.object.id) for e in events] == [
        ("checkout.session.completed", account_id, session.id),
        ("payment_intent.succeeded", account_id, intent["id"]),
    ]
    assert (events[0].data.object.payment_status, events[0].data.object.payment_intent) == ("paid", intent["id"])


def test_the_same_idempotency_key_replays_and_with_other_params_is_refused(standin):
    connected = client(standin.url, "acct_one")
    first = open_session(standin.url, "acct_one")
    params = {
        "mode": "payment",
        "success_url": SUCCESS_URL,
        "line_items": [
            {"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 100, "product_data": {"name": "Water"}}}
        ],
    }
    made = connected.v1.checkout.sessions.create(params=params, options={"idempotency_key": "order-1"})
    replayed = connected.v1.checkout.sessions.create(params=params, options={"idempotency_key": "order-1"})
    assert replayed.id == made.id != first.id
    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in made.last_response.headers
    elsewhere = client(standin.url, "acct_two").v1.checkout.sessions.create(
        params=params, options={"idempotency_key": "order-1"}
    )
    assert elsewhere.id != made.id  # keys are scoped to the account
    with pytest.raises(stripe.IdempotencyError) as refused:
        connected.v1.checkout.sessions.create(
            params=params | {"client_reference_id": "x"}, options={"idempotency_key": "order-1"}
        )
    assert refused.value.http_status == 400
    assert refused.value.user_message.startswith(
        "Keys for idempotent requests can only be used with the same parameters they were first used with."
    )


@pytest.mark.parametrize(
    ("change", "account", "param"),
    [
        ({"mode": None}, "acct_one", "mode"),
        ({"success_url": None}, "acct_one", "success_url"),
        ({"expires_at": "soon"}, "acct_one", "expires_at"),
        ({"expires_at": 600}, "acct_one", "expires_at"),  # 10 minutes from now: too soon
        ({"expires_at": 25 * 3600}, "acct_one", "expires_at"),
        (
            {"line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 5}}]},
            "acct_one",
            "line_items[0][price_data][product_data][name]",
        ),
        ({}, None, "payment_intent_data[application_fee_amount]"),  # a fee needs a connected account
    ],
)
def test_checkout_sessions_refuse_what_stripe_refuses(standin, clock, change, account, param):
    if isinstance(change.get("expires_at"), int):
        change = {"expires_at": int(clock.now) + change["expires_at"]}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        open_session(standin.url, account, fee=10, **change)
    assert (refused.value.http_status, refused.value.param) == (400, param)


def test_a_session_expires_on_request_or_when_its_time_is_up(standin, receiver, clock):
    connected = client(standin.url, "acct_one")
    first, second = open_session(standin.url, "acct_one"), open_session(standin.url, "acct_one")
    expired = connected.v1.checkout.sessions.expire(first.id)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError) as again:
        connected.v1.checkout.sessions.expire(first.id)
    assert again.value.http_status == 400
    clock.now += 24 * 3600
    assert connected.v1.checkout.sessions.retrieve(second.id).status == "expired"
    assert "This checkout has expired." in requests.get(f"{standin.url}/_standin/checkout/{second.id}").text
    standin.wait_delivered()
    assert [(e.type, e.data.object.id) for e in receiver.events()] == [
        ("checkout.session.expired", first.id),
        ("checkout.session.expired", second.id),
    ]


def test_a_declined_card_changes_nothing_and_cancel_leaves_the_session_open(standin):
    session = open_session(standin.url, "acct_one")
    declined = requests.post(f"{session.url}/pay", data={"outcome": "declined"})
    assert declined.status_code == 402
    assert '<p class="error" role="alert">Your card was declined.' in declined.text
    assert '<button type="submit">Pay</button>' in declined.text
    cancelled = requests.post(f"{session.url}/cancel", allow_redirects=False)
    assert (cancelled.status_code, cancelled.headers["Location"]) == (303, CANCEL_URL)
    as_json = requests.post(f"{session.url}/cancel", headers=JSON).json()
    assert (as_json["redirect"], as_json["session"]["status"]) == (CANCEL_URL, "open")
    assert client(standin.url, "acct_one").v1.checkout.sessions.retrieve(session.id).status == "open"
    assert event_types(standin) == []


def test_a_slow_payment_completes_unpaid_and_settles_later(standin, receiver):
    good, bad = open_session(standin.url, "acct_one"), open_session(standin.url, "acct_one")
    answer = pay(standin.url, good.id, "async")
    assert answer["redirect"] == f"https://shop.example/paid?session={good.id}"
    assert (answer["session"]["status"], answer["session"]["payment_status"]) == ("complete", "unpaid")
    connected = client(standin.url, "acct_one")
    assert connected.v1.payment_intents.retrieve(answer["session"]["payment_intent"]).status == "processing"
    settled = requests.post(f"{standin.url}/_standin/checkout/{good.id}/settle", json={"outcome": "succeeded"}).json()
    assert (settled["session"]["payment_status"], settled["payment_intent"]["status"]) == ("paid", "succeeded")

    failing = pay(standin.url, bad.id, "async")["session"]
    failed = requests.post(f"{standin.url}/_standin/checkout/{bad.id}/settle", json={"outcome": "failed"}).json()
    intent = connected.v1.payment_intents.retrieve(failing["payment_intent"])
    assert (intent.status, intent.last_payment_error.type) == ("requires_payment_method", "card_error")
    assert failed["session"]["payment_status"] == "unpaid"
    again = requests.post(f"{standin.url}/_standin/checkout/{bad.id}/settle", json={"outcome": "succeeded"})
    assert again.status_code == 400

    standin.wait_delivered()
    assert [(e.type, e.data.object.id) for e in receiver.events()] == [
        ("checkout.session.completed", good.id),
        ("checkout.session.async_payment_succeeded", good.id),
        ("payment_intent.succeeded", settled["payment_intent"]["id"]),
        ("checkout.session.completed", bad.id),
        ("checkout.session.async_payment_failed", bad.id),
        ("payment_intent.payment_failed", intent.id),
    ]


def test_refunds_are_partial_or_whole_listed_newest_first_and_never_exceed_the_charge(standin, receiver):
    session = open_session(standin.url, "acct_one", fee=37)
    intent_id = pay(standin.url, session.id)["session"]["payment_intent"]
    connected = client(standin.url, "acct_one")
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        connected.v1.refunds.create(params={"payment_intent": intent_id, "amount": 2000})
    assert (too_much.value.param, too_much.value.code) == ("amount", "amount_too_large")
    assert too_much.value.user_message == "Refund amount (€20.00) is greater than charge amount (€12.30)"
    first = connected.v1.refunds.create(
        params={
            "payment_intent": intent_id,
            "amount": 500,
            "reason": "requested_by_customer",
            "metadata": {"tresen_refund_id": "rf_1"},
        }
    ).to_dict()
    assert first == {
        "id": first["id"],
        "object": "refund",
        "amount": 500,
        "balance_transaction": first["balance_transaction"],
        "charge": "ch_" + intent_id.removeprefix("pi_"),
        "created": first["created"],
        "currency": "eur",
        "destination_details": None,
        "metadata": {"tresen_refund_id": "rf_1"},
        "payment_intent": intent_id,
        "reason": "requested_by_customer",
        "receipt_number": None,
        "status": "succeeded",
    }
    assert first["id"].startswith("re_") and first["balance_transaction"].startswith("txn_")
    with pytest.raises(stripe.InvalidRequestError) as rest_exceeded:
        connected.v1.refunds.create(params={"payment_intent": intent_id, "amount": 731})
    assert (
        rest_exceeded.value.user_message == "Refund amount (€7.31) is greater than unrefunded amount on charge (€7.30)"
    )
    rest = connected.v1.refunds.create(params={"payment_intent": intent_id})
    assert (rest.amount, rest.metadata.to_dict(), rest.reason) == (730, {}, None)
    with pytest.raises(stripe.InvalidRequestError) as elsewhere:
        client(standin.url, "acct_two").v1.refunds.create(params={"payment_intent": intent_id, "amount": 1})
    assert (elsewhere.value.http_status, elsewhere.value.param) == (400, "payment_intent")

    page = connected.v1.refunds.list(params={"payment_intent": intent_id, "limit": 1})
    assert ([r.id for r in page.data], page.has_more, page.url) == ([rest.id], True, "/v1/refunds")
    assert [r.id for r in page.auto_paging_iter()] == [rest.id, first["id"]]

    standin.wait_delivered()
    refunded = [e.data.object for e in receiver.events() if e.type == "charge.refunded"]
    assert [(c.object, c.amount_refunded, c.refunded, c.payment_intent) for c in refunded] == [
        ("charge", 500, False, intent_id),
        ("charge", 1230, True, intent_id),
    ]
    assert all("refunds" not in charge for charge in refunded)
    assert event_types(standin)[-4:] == ["refund.created", "charge.refunded", "refund.created", "charge.refunded"]


def test_a_refund_set_to_fail_is_pending_then_fails_and_gives_the_money_back(standin, receiver):
    intent_id = pay(standin.url, open_session(standin.url, "acct_one").id)["session"]["payment_intent"]
    requests.post(f"{standin.url}/_standin/refunds/fail-next", json={"account": "acct_one"})
    connected = client(standin.url, "acct_one")
    refund = connected.v1.refunds.create(params={"payment_intent": intent_id, "amount": 300})
    assert refund.status == "pending"
    now = connected.v1.refunds.retrieve(refund.id)
    assert (now.status, now.failure_reason, now.failure_balance_transaction[:4]) == (
        "failed",
        "expired_or_canceled_card",
        "txn_",
    )
    standin.wait_delivered()
    events = receiver.events()[-4:]
    assert [(e.type, e.data.object.to_dict().get("status")) for e in events] == [
        ("refund.created", "pending"),
        ("charge.refunded", "succeeded"),
        ("refund.updated", "failed"),
        ("refund.failed", "failed"),
    ]
    again = connected.v1.refunds.create(params={"payment_intent": intent_id})  # the flag was used up
    assert (again.status, again.amount) == ("succeeded", 1230)


def test_a_payout_pays_out_the_balance_and_lists_its_transactions_with_their_sources(standin, receiver):
    intent_id = pay(standin.url, open_session(standin.url, "acct_one", fee=37).id)["session"]["payment_intent"]
    dashboard = requests.post(
        f"{standin.url}/_standin/refunds", json={"payment_intent": intent_id, "amount": 230, "account": "acct_one"}
    ).json()
    assert (dashboard["amount"], dashboard["metadata"], dashboard["status"]) == (230, {}, "succeeded")
    payout = requests.post(f"{standin.url}/_standin/payouts", json={"account": "acct_one"}).json()
    # 1230 charged; Stripe keeps 1.5 % (18) + 25, the platform 37: net 1150; minus the refund of 230
    assert (payout["object"], payout["amount"], payout["currency"], payout["status"]) == ("payout", 920, "eur", "paid")
    assert payout["arrival_date"] % 86400 == 0 and payout["arrival_date"] > payout["created"] + 86400
    nothing = requests.post(f"{standin.url}/_standin/payouts", json={"account": "acct_one"})
    assert nothing.status_code == 400

    connected = client(standin.url, "acct_one")
    listing = connected.v1.balance_transactions.list(params={"payout": payout["id"], "expand": ["data.source"]})
    assert standin.requests[-1]["params"] == {"payout": payout["id"], "expand[0]": "data.source"}
    txns = [t.to_dict() for t in listing.data]
    assert [(t["type"], t["reporting_category"], t["amount"], t["fee"], t["net"]) for t in txns] == [
        ("payout", "payout", -920, 0, -920),
        ("refund", "refund", -230, 0, -230),
        ("charge", "charge", 1230, 80, 1150),
    ]
    assert txns[2]["fee_details"] == [
        {
            "amount": 43,
            "application": None,
            "currency": "eur",
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        },
        {
            "amount": 37,
            "application": None,
            "currency": "eur",
            "description": "Application fee",
            "type": "application_fee",
        },
    ]
    assert (txns[0]["source"]["id"], txns[1]["source"]["id"]) == (payout["id"], dashboard["id"])
    charge = txns[2]["source"]
    assert (charge["object"], charge["payment_intent"], charge["amount"], charge["amount_refunded"]) == (
        "charge",
        intent_id,
        1230,
        230,
    )
    paged = connected.v1.balance_transactions.list(params={"payout": payout["id"], "limit": 2})
    assert (paged.has_more, paged.data[0].source) == (True, payout["id"])  # not expanded: the id
    assert [t.id for t in paged.auto_paging_iter()] == [t["id"] for t in txns]

    standin.wait_delivered()
    assert [(e.type, e.data.object.id) for e in receiver.events()][-1] == ("payout.paid", payout["id"])


def test_platform_objects_are_signed_with_the_platform_secret_and_carry_no_account(standin, receiver):
    session = open_session(standin.url, None)
    pay(standin.url, session.id)
    standin.wait_delivered()
    events = receiver.events(PLATFORM_SECRET)
    assert [(e.type, "account" in e) for e in events] == [
        ("checkout.session.completed", False),
        ("payment_intent.succeeded", False),
    ]


def test_failed_deliveries_are_retried_with_backoff_in_order(receiver):
    stand_in = StripeStandIn(receiver.url, PLATFORM_SECRET, CONNECT_SECRET)  # the real delays
    server, url = start(stand_in)
    try:
        receiver.answers = [500, 503]
        first, second = open_session(url, None), open_session(url, None)
        client(url).v1.checkout.sessions.expire(first.id)
        client(url).v1.checkout.sessions.expire(second.id)
        assert stand_in.wait_delivered() == 0
        gaps = [b["at"] - a["at"] for a, b in zip(receiver.posts, receiver.posts[1:], strict=False)]
        assert 0.2 <= gaps[0] < 0.5 <= gaps[1] < 1.0  # 0.2 s, then 0.5 s, each shorter than the next delay
        assert [e.data.object.id for e in receiver.events(PLATFORM_SECRET)] == [first.id] * 3 + [second.id]
        listed = requests.get(f"{url}/_standin/events").json()["data"]
        assert [(e["attempts"], e["delivered"], e["last_status"], e["state"]) for e in listed] == [
            (3, True, 200, "delivered"),
            (1, True, 200, "delivered"),
        ]
    finally:
        server.shutdown()


def test_a_receiver_that_keeps_failing_is_given_up_on_and_an_event_can_be_resent(standin, receiver):
    receiver.answers = [500] * 5
    session = open_session(standin.url, None)
    client(standin.url).v1.checkout.sessions.expire(session.id)
    assert requests.post(f"{standin.url}/_standin/wait").json() == {"pending": 0}
    [listed] = requests.get(f"{standin.url}/_standin/events").json()["data"]
    assert (listed["attempts"], listed["delivered"], listed["last_status"], listed["state"]) == (
        5,
        False,
        500,
        "failed",
    )
    resent = requests.post(f"{standin.url}/_standin/events/{listed['id']}/resend").json()
    assert resent == {"status": 200, "body": "ok"}
    stored = requests.get(f"{standin.url}/_standin/events/{listed['id']}")
    assert len({post["body"] for post in receiver.posts}) == 1 and receiver.posts[-1]["body"] == stored.content
    assert json.loads(stored.content)["request"] == {"id": None, "idempotency_key": None}
    assert requests.get(f"{standin.url}/_standin/events").json()["data"][0]["delivered"] is True


def test_an_unreachable_receiver_is_retried_too():
    stand_in = StripeStandIn(f"http://127.0.0.1:{free_port()}/nobody", retry_delays=(0.01,) * 4)
    server, url = start(stand_in)
    try:
        client(url).v1.checkout.sessions.expire(open_session(url, None).id)
        assert stand_in.wait_delivered() == 0
        [listed] = requests.get(f"{url}/_standin/events").json()["data"]
        assert (listed["attempts"], listed["delivered"], listed["last_status"], listed["state"]) == (
            5,
            False,
            None,
            "failed",
        )
    finally:
        server.shutdown()


def test_reset_forgets_everything(standin):
    session = open_session(standin.url, "acct_one")
    assert requests.post(f"{standin.url}/_standin/reset").json() == {"ok": True}
    with pytest.raises(stripe.InvalidRequestError):
        client(standin.url, "acct_one").v1.checkout.sessions.retrieve(session.id)
    assert standin.requests[-1]["status"] == 404 and len(standin.requests) == 1
    assert event_types(standin) == []


def test_the_command_line_serves_until_terminated():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tresen.standins.stripe_api", "--port", str(port)],
        cwd=ROOT / "functions",
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == f"stripe stand-in ready: http://127.0.0.1:{port}\n"
        account = client(f"http://127.0.0.1:{port}").v1.accounts.create(params={"country": "DE"})
        assert (account.type, account.country) == ("express", "DE")
        process.terminate()
        assert process.wait(timeout=5) == 0
    finally:
        process.kill()
