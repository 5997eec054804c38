"""The Stripe stand-in's customers, saved cards and off-session charges, driven through the real `stripe`
library and the hosted setup page as a browser posts it; their shapes held to Stripe's own published
fixtures (tests/data/stripe_billing_fixtures3.json beside tests/data/stripe_fixtures3.json, from
Stripe's OpenAPI repository) and its error fields to the library's `ErrorObject`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import stripe
from test_stripe_standin import CONNECT_SECRET, PLATFORM_SECRET, client

from tresen.standins.stripe_api import StripeStandIn, start

DATA = Path(__file__).parents[1] / "data"
FIXTURES = (
    json.loads((DATA / "stripe_fixtures3.json").read_text())["resources"]
    | json.loads((DATA / "stripe_billing_fixtures3.json").read_text())["resources"]
)
SUCCESS_URL = "https://billing.example/saved?session={CHECKOUT_SESSION_ID}"
JSON = {"Accept": "application/json"}


@pytest.fixture
def url():
    server, url = start(StripeStandIn(None, PLATFORM_SECRET, CONNECT_SECRET))
    yield url
    server.shutdown()


def new_customer(url: str, email: str = "owner@cafe.example") -> str:
    return client(url).v1.customers.create({"email": email}).id


def setup_session(url: str, customer: str | None, **more) -> stripe.checkout.Session:
    params = {"mode": "setup", "currency": "eur", "success_url": SUCCESS_URL} | more
    return client(url).v1.checkout.sessions.create({**params, **({"customer": customer} if customer else {})})


def saved(url: str, customer: str, number: str = "4242 4242 4242 4242") -> dict:
    """The card saved through a setup session: the control's answer (session, setup_intent, payment_method)."""
    session = setup_session(url, customer)
    answer = requests.post(f"{url}/_standin/checkout/{session.id}/setup", json={"card_number": number}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def off_session(customer: str, method: str, **more) -> dict:
    return {
        "amount": 4900,
        "currency": "eur",
        "customer": customer,
        "payment_method": method,
        "confirm": True,
        "off_session": True,
    } | more


def test_the_setup_page_asks_for_a_card_and_saves_the_one_typed(url):
    session = setup_session(url, new_customer(url))
    shown = requests.get(session.url, timeout=10)
    assert shown.status_code == 200
    for part in (
        "<title>Stripe stand-in: save a card</title>",
        f'<form method="post" action="/_standin/checkout/{session.id}/setup">',
        '<label for="card-number">Card number</label>',
        '<input id="card-number" name="card_number" value="4242 4242 4242 4242"',
        '<label for="card-expiry">Expiry (MM/YY)</label>',
        '<input id="card-expiry" name="exp" value="12/34"',
        '<button type="submit">Save card</button>',
        '<button type="submit" class="secondary">Cancel</button>',
    ):
        assert part in shown.text

    for typed, error in (
        ({"card_number": "4242 4242 4242 4241", "exp": "12/34"}, "Your card number is invalid."),
        ({"card_number": "4242 4242 4242 4242", "exp": "13/30"}, "Your card&#x27;s expiration month is invalid."),
        ({"card_number": "4242 4242 4242 4242", "exp": "01/20"}, "Your card&#x27;s expiration year is invalid."),
    ):
        refused = requests.post(f"{session.url}/setup", data=typed, timeout=10)
        assert refused.status_code == 402
        assert f'<p class="error" role="alert">{error}</p>' in refused.text
        assert f'name="card_number" value="{typed["card_number"]}"' in refused.text  # kept as typed
        assert f'name="exp" value="{typed["exp"]}"' in refused.text
    assert client(url).v1.checkout.sessions.retrieve(session.id).status == "open"

    done = requests.post(f"{session.url}/setup", data={}, allow_redirects=False, timeout=10)  # what it suggests
    assert (done.status_code, done.headers["Location"]) == (303, f"https://billing.example/saved?session={session.id}")
    complete = client(url).v1.checkout.sessions.retrieve(session.id, {"expand": ["setup_intent.payment_method"]})
    card = complete.setup_intent.payment_method.card
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2034)
    assert "This checkout is complete." in requests.get(session.url, timeout=10).text
    again = requests.post(f"{session.url}/setup", headers=JSON, timeout=10)
    assert (again.status_code, again.json()["error"]["message"]) == (400, "This Checkout Session is complete.")


@pytest.mark.parametrize(
    ("number", "brand"),
    [("5555555555554444", "mastercard"), ("2223 0031 2200 3222", "mastercard"), ("6011 1111 1111 1117", "unknown")],
)
def test_the_brand_is_read_from_the_number(url, number, brand):
    method = saved(url, new_customer(url), number)["payment_method"]
    assert (method["card"]["brand"], method["card"]["last4"]) == (brand, number[-4:])


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"mode": "subscription"}, "mode"),
        ({"currency": None}, "currency"),  # without payment_method_types Stripe chooses by currency
        ({"payment_method_types": ["sepa_debit"]}, "payment_method_types"),
        ({"line_items": [{"quantity": 1, "price": "price_1"}]}, "line_items"),
        ({"customer": "cus_nobody"}, "customer"),
        ({"customer_email": "owner@cafe.example"}, "customer"),  # with a customer: one or the other
    ],
)
def test_setup_sessions_refuse_what_stripe_refuses(url, change, param):
    customer = new_customer(url)
    params = {"mode": "setup", "currency": "eur", "customer": customer, "success_url": SUCCESS_URL} | change
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client(url).v1.checkout.sessions.create({key: value for key, value in params.items() if value is not None})
    assert (refused.value.http_status, refused.value.param) == (400, param)


def test_a_setup_session_takes_no_payment_and_a_payment_session_saves_no_card(url):
    setup = setup_session(url, new_customer(url), payment_method_types=["card"])
    line = {"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 900, "product_data": {"name": "Licence"}}}
    payment = client(url).v1.checkout.sessions.create(
        {"mode": "payment", "line_items": [line], "success_url": SUCCESS_URL}
    )
    paying = requests.post(f"{setup.url}/pay", json={"outcome": "paid"}, timeout=10)
    saving = requests.post(f"{payment.url}/setup", json={}, timeout=10)
    assert (paying.status_code, saving.status_code) == (400, 400)
    assert [client(url).v1.checkout.sessions.retrieve(s.id).status for s in (setup, payment)] == ["open", "open"]


def test_a_customers_default_card_can_only_be_one_of_its_own(url):
    mine, theirs = new_customer(url), new_customer(url, "other@shop.example")
    card, other = saved(url, mine)["payment_method"]["id"], saved(url, theirs)["payment_method"]["id"]
    customers = client(url).v1.customers
    updated = customers.update(mine, {"invoice_settings": {"default_payment_method": card}})
    assert updated.invoice_settings.default_payment_method == card
    expanded = customers.retrieve(mine, {"expand": ["invoice_settings.default_payment_method"]})
    assert (expanded.invoice_settings.default_payment_method.id, expanded.email) == (card, "owner@cafe.example")
    assert customers.retrieve(mine).invoice_settings.default_payment_method == card  # stored as the id
    with pytest.raises(stripe.InvalidRequestError) as refused:
        customers.update(mine, {"invoice_settings": {"default_payment_method": other}})
    assert (refused.value.http_status, refused.value.code, refused.value.param) == (
        400,
        "resource_missing",
        "invoice_settings[default_payment_method]",
    )
    unset = customers.update(mine, {"invoice_settings": {"default_payment_method": ""}})
    assert unset.invoice_settings.default_payment_method is None
    with pytest.raises(stripe.InvalidRequestError) as not_expandable:
        customers.retrieve(mine, {"expand": ["email"]})
    assert (not_expandable.value.http_status, not_expandable.value.param) == (400, "expand")


@pytest.mark.parametrize(
    ("change", "status", "param", "code"),
    [
        ({"off_session": False}, 400, None, None),  # the stand-in charges saved cards only
        ({"amount": 49}, 400, "amount", "amount_too_small"),
        ({"currency": None}, 400, "currency", "parameter_missing"),
        ({"payment_method": "pm_nothing"}, 400, "payment_method", "resource_missing"),
        ({"customer": "cus_nobody"}, 400, "customer", "resource_missing"),
    ],
)
def test_off_session_charges_refuse_what_stripe_refuses(url, change, status, param, code):
    customer = new_customer(url)
    method = saved(url, customer)["payment_method"]["id"]
    params = {key: value for key, value in (off_session(customer, method) | change).items() if value is not None}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client(url).v1.payment_intents.create(params, {"idempotency_key": "charge-1"})
    assert (refused.value.http_status, refused.value.param, refused.value.code) == (status, param, code)
    # refused before it took effect: the same key may be used again, with what Stripe takes
    charged = client(url).v1.payment_intents.create(off_session(customer, method), {"idempotency_key": "charge-1"})
    assert charged.status == "succeeded"


def test_a_card_saved_for_another_customer_is_not_charged(url):
    mine, theirs = new_customer(url), new_customer(url, "other@shop.example")
    method = saved(url, theirs)["payment_method"]["id"]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client(url).v1.payment_intents.create(off_session(mine, method))
    assert (refused.value.param, refused.value.code) == ("payment_method", "resource_missing")


def test_a_declined_charge_is_a_card_error_naming_its_payment_intent_and_replays_with_its_key(url):
    customer = new_customer(url)
    method = saved(url, customer, "4000 0000 0000 0341")["payment_method"]
    headers = {"Authorization": "Bearer sk_test_cards", "Idempotency-Key": "charge-7"}
    form = {
        "amount": "4900",
        "currency": "eur",
        "customer": customer,
        "payment_method": method["id"],
        "confirm": "true",
        "off_session": "true",
    }
    first = requests.post(f"{url}/v1/payment_intents", data=form, headers=headers, timeout=10)
    again = requests.post(f"{url}/v1/payment_intents", data=form, headers=headers, timeout=10)
    assert (first.status_code, again.status_code, again.text) == (402, 402, first.text)
    assert (first.headers.get("Idempotent-Replayed"), again.headers["Idempotent-Replayed"]) == (None, "true")
    error = first.json()["error"]
    intent = error.pop("payment_intent")
    assert error == {
        "type": "card_error",
        "message": "Your card was declined.",
        "code": "card_declined",
        "decline_code": "generic_decline",
        "payment_method": method,
    }
    assert (intent["object"], intent["status"], intent["amount"], intent["payment_method"]) == (
        "payment_intent",
        "requires_payment_method",
        4900,
        None,
    )
    assert intent["last_payment_error"] == error | {"type": "card_error"}

    with pytest.raises(stripe.CardError) as declined:  # as the library reads it
        client(url).v1.payment_intents.create(off_session(customer, method["id"]), {"idempotency_key": "charge-7"})
    assert (declined.value.http_status, declined.value.code, declined.value.error.decline_code) == (
        402,
        "card_declined",
        "generic_decline",
    )
    assert declined.value.error.payment_intent.id == intent["id"]


def allowed_fields(kind: str) -> set[str]:
    return set(FIXTURES[kind]) | ({"account"} if kind == "event" else set())


def test_the_stand_ins_customers_cards_and_charges_answer_no_field_stripes_objects_do_not_have():
    stand_in = StripeStandIn()
    server, url = start(stand_in)
    customer = client(url).v1.customers.create({"email": "owner@cafe.example"}).to_dict()
    first = saved(url, customer["id"])
    declined = saved(url, customer["id"], "4000 0027 6000 3184")["payment_method"]
    charged = client(url).v1.payment_intents.create(off_session(customer["id"], first["payment_method"]["id"]))
    with pytest.raises(stripe.CardError) as failed:
        client(url).v1.payment_intents.create(off_session(customer["id"], declined["id"]))
    events = [
        requests.get(f"{url}/_standin/events/{listed['id']}", timeout=10).json()
        for listed in requests.get(f"{url}/_standin/events", timeout=10).json()["data"]
    ]
    server.shutdown()
    error = failed.value.json_body["error"]
    made = {
        "customer": [customer],
        "checkout.session": [first["session"]],
        "setup_intent": [first["setup_intent"]],
        "payment_method": [first["payment_method"], declined],
        "payment_intent": [charged.to_dict(), error["payment_intent"]],
        "event": events,
    }
    for kind, objects in made.items():
        for answered in objects:
            assert answered["object"] == kind
            assert sorted(set(answered) - allowed_fields(kind)) == [], f"{kind}: not Stripe's"
    card = first["payment_method"]["card"]
    assert sorted(set(card) - set(FIXTURES["payment_method"]["card"])) == []
    assert sorted(set(customer["invoice_settings"]) - set(FIXTURES["customer"]["invoice_settings"])) == []
    assert sorted(set(error) - set(stripe.ErrorObject.__annotations__)) == []  # the library's model of Stripe's
    assert sorted({event["type"] for event in events}) == [
        "checkout.session.completed",
        "customer.created",
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
        "payment_method.attached",
        "setup_intent.succeeded",
    ]
