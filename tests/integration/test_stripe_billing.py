"""The platform's licence billing through adapters/stripe_billing.py, against the Stripe stand-in served
over HTTP: every call on the platform's own account, a card saved through Checkout in setup mode and
charged off-session, the test card deciding the outcome, and the webhooks verified by the `stripe`
library with the platform's secret."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import requests
import stripe
from test_stripe_standin import CONNECT_SECRET, PLATFORM_SECRET, Receiver
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from stack import free_port
from tresen.adapters.stripe_billing import StripeBilling
from tresen.config import settings
from tresen.services.billing_ports import CheckoutLink, OffSessionCharge, SavedCard
from tresen.standins.stripe_api import StripeStandIn, start

KEY = "sk_test_billing"
SUCCESS_URL = "https://billing.example/card-saved?session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://billing.example/billing"
DAY = 24 * 60 * 60


class Stripe:
    """The stand-in as these tests see it: its URL, its controls, the events the receiver got."""

    def __init__(self, stand_in: StripeStandIn, url: str, receiver: Receiver):
        self.stand_in, self.url, self.receiver = stand_in, url, receiver

    def save_card(self, session_id: str, number: str, expiry: str = "08/31") -> dict:
        answer = requests.post(
            f"{self.url}/_standin/checkout/{session_id}/setup", json={"card_number": number, "exp": expiry}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def requests(self, path: str) -> list[dict]:
        return [r for r in self.stand_in.requests if r["path"] == path]

    def events(self) -> list[stripe.Event]:
        """Every event delivered so far, each verified with the platform's webhook secret."""
        assert self.stand_in.wait_delivered() == 0
        return self.receiver.events(PLATFORM_SECRET)

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(KEY, base_addresses={"api": self.url})


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def stripe_at(monkeypatch):
    """Points the adapters' `stripe` client at a URL, as `STRIPE_API_BASE` does."""

    def point(url: str) -> None:
        monkeypatch.setenv("STRIPE_API_KEY", KEY)
        monkeypatch.setenv("STRIPE_API_BASE", url)
        settings.cache_clear()

    yield point
    settings.cache_clear()  # before monkeypatch puts the environment back: the next read is fresh


@pytest.fixture
def standin(receiver, stripe_at):
    stand_in = StripeStandIn(receiver.url, PLATFORM_SECRET, CONNECT_SECRET, retry_delays=(0.01,) * 4)
    server, url = start(stand_in)
    stripe_at(url)
    yield Stripe(stand_in, url, receiver)
    stand_in.wait_delivered()
    server.shutdown()


@pytest.fixture
def billing() -> StripeBilling:
    return StripeBilling()


def saved_card(standin: Stripe, billing: StripeBilling, number: str, store_id: str = "store-1") -> SavedCard:
    customer = billing.customer(store_id, f"{store_id}@merchant.example", None)
    link = billing.card_setup_checkout(
        store_id=store_id,
        customer_id=customer,
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
        idempotency_key=f"card-setup-{store_id}",
    )
    saved = standin.save_card(link.id, number)
    return billing.saved_card(saved["session"]["setup_intent"])


def charge(billing: StripeBilling, card: SavedCard, key: str = "charge-1", amount: int = 4900) -> OffSessionCharge:
    return billing.charge_off_session(
        customer_id=card.customer_id,
        payment_method_id=card.payment_method_id,
        amount=amount,
        currency="EUR",
        invoice_id="inv_2026_07",
        idempotency_key=key,
    )


def test_a_store_gets_one_customer_made_once_however_often_it_is_asked(standin, billing):
    first = billing.customer("store-1", "owner@cafe.example", None)
    again = billing.customer("store-1", "owner@cafe.example", None)
    assert first == again and first.startswith("cus_")
    assert billing.customer("store-1", "owner@cafe.example", "cus_known") == "cus_known"  # nothing asked
    made = standin.requests("/v1/customers")
    assert [(r["method"], r["stripe_account"], r["idempotency_key"], r["params"]) for r in made] == [
        (
            "POST",
            None,
            "tresen-billing-customer-store-1",
            {"email": "owner@cafe.example", "metadata[tresen_store]": "store-1"},
        )
    ] * 2
    customer = standin.client().v1.customers.retrieve(first)
    assert (customer.email, customer.metadata.to_dict(), customer.invoice_settings.default_payment_method) == (
        "owner@cafe.example",
        {"tresen_store": "store-1"},
        None,
    )
    assert [(e.type, e.data.object.id) for e in standin.events()] == [("customer.created", first)]


def test_a_card_saved_through_checkout_in_setup_mode_is_read_back_exactly(standin, billing):
    customer = billing.customer("store-1", "owner@cafe.example", None)
    link = billing.card_setup_checkout(
        store_id="store-1",
        customer_id=customer,
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
        idempotency_key="card-setup-1",
    )
    [made] = standin.requests("/v1/checkout/sessions")
    assert (made["stripe_account"], made["idempotency_key"]) == (None, "card-setup-1")
    assert made["params"] == {
        "mode": "setup",
        "currency": "eur",
        "customer": customer,
        "payment_method_types[0]": "card",
        "metadata[tresen_card_setup]": "store-1",
        "setup_intent_data[metadata][tresen_card_setup]": "store-1",
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
    }
    session = standin.client().v1.checkout.sessions.retrieve(link.id)
    assert link == CheckoutLink(
        session.id, f"{standin.url}/_standin/checkout/{session.id}", datetime.fromtimestamp(session.created + DAY, UTC)
    )
    assert (session.mode, session.status, session.payment_status, session.setup_intent) == (
        "setup",
        "open",
        "no_payment_required",
        None,
    )

    saved = standin.save_card(link.id, "5555 5555 5555 4444")
    assert saved["redirect"] == f"https://billing.example/card-saved?session={link.id}"
    done = standin.client().v1.checkout.sessions.retrieve(
        link.id, {"expand": ["setup_intent", "setup_intent.payment_method"]}
    )
    intent = done.setup_intent
    assert (done.status, done.url, done.customer, intent.id) == (
        "complete",
        None,
        customer,
        saved["setup_intent"]["id"],
    )
    assert (intent.status, intent.usage, intent.customer, intent.metadata.to_dict()) == (
        "succeeded",
        "off_session",
        customer,
        {"tresen_card_setup": "store-1"},
    )
    card = billing.saved_card(intent.id)
    assert card == SavedCard(customer, intent.payment_method.id, "mastercard", "4444", 8, 2031)
    assert intent.payment_method.customer == customer

    events = standin.events()
    assert [(e.type, e.data.object.id) for e in events] == [
        ("customer.created", customer),
        ("payment_method.attached", card.payment_method_id),
        ("setup_intent.succeeded", intent.id),
        ("checkout.session.completed", link.id),
    ]
    assert all("account" not in event for event in events)  # the platform's own, not a connected account's
    completed = events[-1].data.object
    assert (completed.setup_intent, completed.metadata.to_dict()) == (intent.id, {"tresen_card_setup": "store-1"})


def test_a_setup_that_saved_no_card_of_a_customer_is_said_so(standin, billing):
    with pytest.raises(LookupError, match="^no setup intent seti_missing$"):
        billing.saved_card("seti_missing")
    nobodys = standin.client().v1.checkout.sessions.create(  # a setup without a customer: the card is no one's
        {"mode": "setup", "currency": "eur", "success_url": SUCCESS_URL}
    )
    intent = standin.save_card(nobodys.id, "4242 4242 4242 4242")["setup_intent"]
    with pytest.raises(LookupError, match=f"^setup intent {intent['id']} saved no card of a customer"):
        billing.saved_card(intent["id"])


def test_a_saved_4242_card_is_charged_off_session_and_stripe_says_so(standin, billing):
    card = saved_card(standin, billing, "4242 4242 4242 4242")
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 8, 2031)
    outcome = charge(billing, card)
    assert outcome.status == "succeeded" and outcome.payment_intent_id.startswith("pi_")
    assert outcome == OffSessionCharge("succeeded", outcome.payment_intent_id, None, None)

    [asked] = standin.requests("/v1/payment_intents")
    assert (asked["stripe_account"], asked["idempotency_key"], asked["status"]) == (None, "charge-1", 200)
    assert asked["params"] == {
        "amount": "4900",
        "currency": "eur",
        "customer": card.customer_id,
        "payment_method": card.payment_method_id,
        "off_session": "true",
        "confirm": "true",
        "metadata[tresen_licence_invoice]": "inv_2026_07",
        "description": "Tresen-Lizenz inv_2026_07",
    }
    intent = standin.client().v1.payment_intents.retrieve(outcome.payment_intent_id).to_dict()
    assert {
        k: intent[k] for k in ("status", "amount", "amount_received", "currency", "customer", "payment_method")
    } == {
        "status": "succeeded",
        "amount": 4900,
        "amount_received": 4900,
        "currency": "eur",
        "customer": card.customer_id,
        "payment_method": card.payment_method_id,
    }
    assert intent["latest_charge"] == "ch_" + intent["id"].removeprefix("pi_")
    [succeeded] = [e for e in standin.events() if e.type.startswith("payment_intent.")]
    assert (succeeded.type, succeeded.data.object.id, succeeded.data.object.metadata.to_dict()) == (
        "payment_intent.succeeded",
        outcome.payment_intent_id,
        {"tresen_licence_invoice": "inv_2026_07"},
    )


@pytest.mark.parametrize(
    ("number", "status", "decline_code", "message"),
    [
        (
            "4000 0027 6000 3184",
            "authentication_required",
            "authentication_required",
            "Your card was declined. This transaction requires authentication.",
        ),
        ("4000 0000 0000 0341", "declined", "generic_decline", "Your card was declined."),
    ],
)
def test_a_card_that_fails_off_session_is_an_outcome_not_an_error(
    standin, billing, number, status, decline_code, message
):
    card = saved_card(standin, billing, number)
    assert (card.brand, card.last4) == ("visa", number[-4:])  # saved fine: it fails only when charged
    outcome = charge(billing, card)
    assert outcome == OffSessionCharge(status, outcome.payment_intent_id, decline_code, message)
    assert standin.requests("/v1/payment_intents")[0]["status"] == 402
    intent = standin.client().v1.payment_intents.retrieve(outcome.payment_intent_id)
    assert (intent.status, intent.payment_method, intent.latest_charge, intent.amount_received) == (
        "requires_payment_method",
        None,
        None,
        0,
    )
    assert (intent.last_payment_error.decline_code, intent.last_payment_error.payment_method.id) == (
        decline_code,
        card.payment_method_id,
    )
    [failed] = [e for e in standin.events() if e.type.startswith("payment_intent.")]
    assert (failed.type, failed.data.object.id) == ("payment_intent.payment_failed", outcome.payment_intent_id)


@pytest.mark.parametrize("number", ["4242 4242 4242 4242", "4000 0000 0000 0341"])
def test_the_same_idempotency_key_makes_one_payment_intent_and_answers_it_again(standin, billing, number):
    card = saved_card(standin, billing, number)
    first, again = charge(billing, card, key="licence-2026-07"), charge(billing, card, key="licence-2026-07")
    assert again == first
    other = charge(billing, card, key="licence-2026-08")
    assert other.payment_intent_id != first.payment_intent_id
    made = [e.data.object.id for e in standin.events() if e.type.startswith("payment_intent.")]
    assert made == [first.payment_intent_id, other.payment_intent_id]


def test_an_invoice_is_paid_through_checkout_on_the_platforms_account(standin, billing):
    customer = billing.customer("store-1", "owner@cafe.example", None)
    link = billing.invoice_checkout(
        invoice_id="inv_2026_07",
        invoice_number="TL-2026-0007",
        amount=4900,
        currency="EUR",
        customer_id=customer,
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
        idempotency_key="invoice-checkout-inv_2026_07",
    )
    [made] = standin.requests("/v1/checkout/sessions")
    assert (made["stripe_account"], made["idempotency_key"]) == (None, "invoice-checkout-inv_2026_07")
    assert made["params"] == {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "4900",
        "line_items[0][price_data][product_data][name]": "Tresen-Lizenz, Rechnung TL-2026-0007",
        "metadata[tresen_licence_invoice]": "inv_2026_07",
        "payment_intent_data[metadata][tresen_licence_invoice]": "inv_2026_07",
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "customer": customer,
    }
    assert link.url == f"{standin.url}/_standin/checkout/{link.id}"
    paid = requests.post(f"{link.url}/pay", json={"outcome": "paid"}, timeout=10).json()
    assert paid["redirect"] == f"https://billing.example/card-saved?session={link.id}"

    events = standin.events()
    assert [e.type for e in events] == ["customer.created", "checkout.session.completed", "payment_intent.succeeded"]
    assert all("account" not in event for event in events)
    completed, succeeded = events[1].data.object, events[2].data.object
    assert (completed.id, completed.payment_status, completed.amount_total, completed.customer) == (
        link.id,
        "paid",
        4900,
        customer,
    )
    assert completed.metadata.to_dict() == {"tresen_licence_invoice": "inv_2026_07"}
    assert (succeeded.id, succeeded.customer, succeeded.metadata.to_dict()) == (
        completed.payment_intent,
        customer,
        {"tresen_licence_invoice": "inv_2026_07"},
    )
    with pytest.raises(stripe.SignatureVerificationError):  # the platform's events: not the Connect secret's
        standin.receiver.events(CONNECT_SECRET)


def test_an_invoice_checkout_without_a_customer_names_none(standin, billing):
    billing.invoice_checkout(
        invoice_id="inv_1",
        invoice_number="TL-2026-0001",
        amount=900,
        currency="eur",
        customer_id=None,
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
        idempotency_key="k1",
    )
    [made] = standin.requests("/v1/checkout/sessions")
    assert "customer" not in made["params"] and made["params"]["mode"] == "payment"


def test_stripe_out_of_reach_is_a_connection_error_the_caller_retries(billing, stripe_at):
    stripe_at(f"http://127.0.0.1:{free_port()}")  # nobody listens there
    card = SavedCard("cus_1", "pm_1", "visa", "4242", 8, 2031)
    with pytest.raises(ConnectionError):
        charge(billing, card)


def test_a_failure_on_stripes_side_is_a_connection_error_the_caller_retries(billing, stripe_at):
    @Request.application
    def failing(request: Request) -> Response:
        body = '{"error": {"type": "api_error", "message": "An unknown error occurred"}}'
        return Response(body, 500, {"Stripe-Should-Retry": "false"}, mimetype="application/json")

    server = make_server("127.0.0.1", 0, failing, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    stripe_at(f"http://127.0.0.1:{server.port}")
    try:
        with pytest.raises(ConnectionError, match="An unknown error occurred"):
            billing.customer("store-1", "owner@cafe.example", None)
    finally:
        server.shutdown()
