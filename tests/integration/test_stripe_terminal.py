"""Stripe Terminal through Tresen's adapter (adapters/stripe_terminal.py) against the Stripe stand-in,
which the `stripe` library reaches over HTTP on the store's connected account: readers registered at
their workplace's location, card-present payments presented, paid, declined and canceled, each
reader's charges for a shift, the webhooks that tell the outcome, and the stand-in's objects held to
the fields Stripe's spec names (tests/data/stripe_terminal_spec3.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import stripe
from test_stripe_standin import Clock, Receiver

from tresen.adapters.stripe_provider import StripeProvider
from tresen.adapters.stripe_terminal import StripeTerminal
from tresen.config import settings
from tresen.domain.errors import DomainError
from tresen.domain.payments import OtherEvent, ReaderEvent
from tresen.domain.stripe_connect import PlatformFee
from tresen.domain.terminals import ProviderCharge, TerminalRegistration, Workplace
from tresen.services.seed import DEMO_STORE
from tresen.services.terminal_ports import CardPresentRequest, CardPresentState, ReaderCheck, TerminalRefused
from tresen.standins.stripe_api import StripeStandIn, start

SPEC = json.loads((Path(__file__).parents[1] / "data" / "stripe_terminal_spec3.json").read_text())["properties"]
KEY, PLATFORM_SECRET, CONNECT_SECRET = "sk_test_terminal", "whsec_terminal_platform", "whsec_terminal_connect"
T0 = 1_780_000_000  # 2026-05-28T20:26:40Z
MASTERCARD, VISA, DECLINED_VISA = "5555555555554444", "4242424242424242", "4000000000000002"
STORE = replace(DEMO_STORE, id="s_terminal", name="Café Tresen", address=("Hauptstraße 1", "10115 Berlin"))
THEKE = Workplace("wp_theke", STORE.id, "Theke", datetime.fromtimestamp(T0, UTC))
WISEPOS = TerminalRegistration("stripe_terminal", "WisePOS E", "WSC513105011295", "62001234", "simulated-wpe")
S700 = TerminalRegistration("stripe_terminal", "S700", "STRM26138003393", None, "simulated-s700")
FEE = PlatformFee("1.5", 10)


@dataclass
class Stripe:
    """The stand-in as the test drives it, with the store's connected account."""

    stand_in: StripeStandIn
    url: str
    clock: Clock
    receiver: Receiver
    account: str

    def on_account(self) -> stripe.StripeClient:
        return stripe.StripeClient(KEY, stripe_account=self.account, base_addresses={"api": self.url})

    def tap(self, reader_id: str, number: str = VISA) -> dict:
        """A customer taps a test card on the reader (Stripe's test helper), its webhooks delivered."""
        reader = self.on_account().v1.test_helpers.terminal.readers.present_payment_method(
            reader_id, {"type": "card_present", "card_present": {"number": number}}
        )
        self.stand_in.wait_delivered()
        return reader.to_dict()

    def control(self, path: str, body: dict) -> dict:
        answer = requests.post(f"{self.url}/_standin/{path}", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def requests(self, path: str) -> list[dict]:
        """The API requests made to `path`, oldest first."""
        return [made for made in self.stand_in.requests if made["path"] == path]

    def webhooks(self) -> list:
        """What every webhook delivered so far reads as, verified as Tresen verifies them."""
        self.stand_in.wait_delivered()
        return [StripeProvider().read_webhook(post["headers"], post["body"]) for post in self.receiver.posts]


@pytest.fixture
def stripe_stand_in(monkeypatch):
    receiver, clock = Receiver(), Clock()
    clock.now = T0
    stand_in = StripeStandIn(receiver.url, PLATFORM_SECRET, CONNECT_SECRET, clock=clock, retry_delays=(0.01,) * 4)
    server, url = start(stand_in)
    for name, value in {
        "STRIPE_API_KEY": KEY,
        "STRIPE_API_BASE": url,
        "STRIPE_WEBHOOK_SECRET": PLATFORM_SECRET,
        "STRIPE_CONNECT_WEBHOOK_SECRET": CONNECT_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    platform = stripe.StripeClient(KEY, base_addresses={"api": url, "connect": url})
    account = platform.v1.accounts.create({"type": "express", "country": "DE"}).id
    yield Stripe(stand_in, url, clock, receiver, account)
    stand_in.wait_delivered()
    server.shutdown()
    receiver.server.shutdown()
    settings.cache_clear()


@pytest.fixture
def terminal(stripe_stand_in) -> StripeTerminal:
    return StripeTerminal(stripe_stand_in.account, FEE)


def reader_at_theke(terminal: StripeTerminal, terminal_id: str = "term_1", registration=WISEPOS) -> str:
    return terminal.register(STORE, THEKE, terminal_id, registration).reader_id


def order(order_id: str, amount: int = 1250) -> CardPresentRequest:
    return CardPresentRequest(order_id, STORE.id, "term_1", amount, "EUR")


def test_a_workplaces_first_reader_makes_its_location_the_next_ones_are_registered_there(stripe_stand_in, terminal):
    first = terminal.register(STORE, THEKE, "term_1", WISEPOS)
    second = terminal.register(STORE, replace(THEKE, location=first.location), "term_2", S700)
    assert first.location.startswith("tml_") and second.location == first.location
    on_account = stripe_stand_in.on_account()
    location = on_account.v1.terminal.locations.retrieve(first.location).to_dict()
    assert (location["display_name"], location["address"]) == (
        "Café Tresen – Theke",
        {
            "city": "Berlin",
            "country": "DE",
            "line1": "Hauptstraße 1",
            "line2": None,
            "postal_code": "10115",
            "state": None,
        },
    )
    wisepos, s700 = (on_account.v1.terminal.readers.retrieve(reader.reader_id).to_dict() for reader in (first, second))
    assert (wisepos["device_type"], wisepos["location"], wisepos["label"], wisepos["metadata"]) == (
        "simulated_wisepos_e",
        first.location,
        "Theke WisePOS E WSC513105011295",
        {
            "tresen_terminal": "term_1",
            "store_id": "s_terminal",
            "serial_number": "WSC513105011295",
            "bank_terminal_id": "62001234",
        },
    )
    assert (s700["device_type"], s700["label"], s700["metadata"]) == (
        "simulated_stripe_s700",
        "Theke S700 STRM26138003393",
        {"tresen_terminal": "term_2", "store_id": "s_terminal", "serial_number": "STRM26138003393"},
    )
    keys = [made["idempotency_key"] for made in stripe_stand_in.requests("/v1/terminal/locations")]
    assert keys == ["tresen-location-wp_theke"]
    keys = [made["idempotency_key"] for made in stripe_stand_in.requests("/v1/terminal/readers")]
    assert keys == ["tresen-reader-term_1", "tresen-reader-term_2"]


def test_a_store_without_a_postal_address_or_a_code_stripe_refuses_registers_nothing(stripe_stand_in, terminal):
    with pytest.raises(DomainError) as no_address:
        terminal.register(replace(STORE, address=("Hauptstraße 1",)), THEKE, "term_1", WISEPOS)
    assert no_address.value.code == "store_address_required"
    assert stripe_stand_in.requests("/v1/terminal/locations") == []
    with pytest.raises(DomainError) as refused:
        terminal.register(STORE, THEKE, "term_1", replace(WISEPOS, registration_code="purple-cat-tiger"))
    assert (refused.value.code, refused.value.detail) == (
        "registration_refused",
        "Stripe refused the registration code: The registration code 'purple-cat-tiger' is invalid or has "
        "expired: type the code the reader shows.",
    )
    assert [made["status"] for made in stripe_stand_in.requests("/v1/terminal/readers")] == [400]


def test_a_check_tells_the_readers_connection_device_label_and_when_it_was_last_seen(stripe_stand_in, terminal):
    reader_id = reader_at_theke(terminal)
    seen_at_t0 = "simulated_wisepos_e, “Theke WisePOS E WSC513105011295”, last seen 2026-05-28T20:26:40+00:00"
    assert terminal.check(reader_id) == ReaderCheck("online", seen_at_t0)
    stripe_stand_in.control(f"terminal/readers/{reader_id}/connection", {"online": False})
    stripe_stand_in.clock.now = T0 + 600
    assert terminal.check(reader_id) == ReaderCheck("offline", seen_at_t0)
    stripe_stand_in.control(f"terminal/readers/{reader_id}/connection", {"online": True})
    assert terminal.check(reader_id) == ReaderCheck("online", seen_at_t0.replace("20:26:40", "20:36:40"))
    terminal.unregister(reader_id)
    terminal.unregister(reader_id)  # gone already: fine
    assert terminal.check(reader_id) == ReaderCheck(
        "offline", "Stripe knows no such reader: it was deleted (in Stripe's dashboard?)"
    )


def test_a_payment_presented_at_the_reader_and_paid_by_card(stripe_stand_in, terminal):
    reader_id = reader_at_theke(terminal)
    payment = terminal.create_payment(order("ord_1"))
    assert terminal.create_payment(order("ord_1")) == payment  # one PaymentIntent per order
    assert terminal.state(payment) == CardPresentState(payment, "processing")
    assert terminal.in_progress(reader_id) is None
    terminal.present(reader_id, payment)
    terminal.present(reader_id, payment)  # sent again, its answer lost: the reader is asking for it already
    assert terminal.in_progress(reader_id) == payment
    assert terminal.state(payment) == CardPresentState(payment, "processing")
    stripe_stand_in.tap(reader_id, MASTERCARD)
    assert terminal.state(payment) == CardPresentState(payment, "succeeded", 1250, "EUR", "mastercard")
    assert terminal.in_progress(reader_id) is None
    intent = stripe_stand_in.on_account().v1.payment_intents.retrieve(payment).to_dict()
    assert {name: intent[name] for name in ("application_fee_amount", "capture_method", "metadata")} == {
        "application_fee_amount": 29,  # 1.5 % of 12.50 € rounded, and 10 cents
        "capture_method": "automatic",
        "metadata": {"order_id": "ord_1", "store_id": "s_terminal", "tresen_terminal": "term_1"},
    }


def test_a_declined_card_fails_the_payment_which_is_then_presented_again_and_paid(stripe_stand_in, terminal):
    reader_id = reader_at_theke(terminal)
    payment = terminal.create_payment(order("ord_1", 480))
    terminal.present(reader_id, payment)
    stripe_stand_in.tap(reader_id, DECLINED_VISA)
    assert terminal.state(payment) == CardPresentState(payment, "failed", error="Your card was declined.")
    assert terminal.in_progress(reader_id) is None
    terminal.present(reader_id, payment)
    assert terminal.in_progress(reader_id) == payment
    stripe_stand_in.tap(reader_id, VISA)
    assert terminal.state(payment) == CardPresentState(payment, "succeeded", 480, "EUR", "visa")
    presents = stripe_stand_in.requests(f"/v1/terminal/readers/{reader_id}/process_payment_intent")
    assert [made["status"] for made in presents] == [200, 200]
    assert presents[0]["idempotency_key"] != presents[1]["idempotency_key"]  # a key each: no replay of the first


def test_a_reader_busy_with_another_payment_offline_or_unknown_refuses_it(stripe_stand_in, terminal):
    reader_id, other_id = reader_at_theke(terminal), reader_at_theke(terminal, "term_2", S700)
    first, second = terminal.create_payment(order("ord_1")), terminal.create_payment(order("ord_2"))
    terminal.present(reader_id, first)
    with pytest.raises(TerminalRefused) as busy:
        terminal.present(reader_id, second)
    assert (busy.value.code, str(busy.value)) == (
        "terminal_busy",
        f"Reader {reader_id} is busy with another action: wait for it or cancel it.",
    )
    stripe_stand_in.control(f"terminal/readers/{other_id}/connection", {"online": False})
    with pytest.raises(TerminalRefused) as offline:
        terminal.present(other_id, second)
    assert (offline.value.code, str(offline.value)) == (
        "terminal_offline",
        f"Reader {other_id} is offline: make sure it is switched on and connected, then try again.",
    )
    with pytest.raises(TerminalRefused) as unknown:
        terminal.present("tmr_unknown", second)
    assert (unknown.value.code, str(unknown.value)) == ("terminal_refused", "No such terminal.reader: 'tmr_unknown'")
    assert terminal.in_progress(reader_id) == first


def test_a_cancel_ends_the_readers_action_and_the_payment_unless_the_customer_paid_first(stripe_stand_in, terminal):
    reader_id = reader_at_theke(terminal)
    presented, never_presented, paid = (terminal.create_payment(order(f"ord_{n}")) for n in (1, 2, 3))
    terminal.present(reader_id, presented)
    assert terminal.cancel(reader_id, presented) == CardPresentState(presented, "canceled")
    assert terminal.in_progress(reader_id) is None
    assert terminal.cancel(reader_id, presented) == CardPresentState(presented, "canceled")  # again: the same
    terminal.present(reader_id, paid)
    assert terminal.cancel(reader_id, never_presented) == CardPresentState(never_presented, "canceled")
    assert terminal.in_progress(reader_id) == paid  # another payment's action is left alone
    stripe_stand_in.tap(reader_id, MASTERCARD)
    assert terminal.cancel(reader_id, paid) == CardPresentState(paid, "succeeded", 1250, "EUR", "mastercard")
    cancel_actions = stripe_stand_in.requests(f"/v1/terminal/readers/{reader_id}/cancel_action")
    assert [made["status"] for made in cancel_actions] == [200]


def test_a_readers_charges_are_its_payments_taken_within_the_window(stripe_stand_in, terminal):
    reader_id, other_id = reader_at_theke(terminal), reader_at_theke(terminal, "term_2", S700)

    def paid_at(moment: int, reader: str, order_id: str, amount: int, *numbers: str) -> str:
        stripe_stand_in.clock.now = moment
        payment = terminal.create_payment(order(order_id, amount))
        for number in numbers:
            terminal.present(reader, payment)
            stripe_stand_in.tap(reader, number)
        return payment

    paid_at(T0 - 1, reader_id, "ord_before", 900, VISA)
    first = paid_at(T0, reader_id, "ord_1", 1250, MASTERCARD)
    second = paid_at(T0 + 20, reader_id, "ord_2", 480, DECLINED_VISA, VISA)
    paid_at(T0 + 30, other_id, "ord_other", 700, VISA)
    canceled = paid_at(T0 + 40, reader_id, "ord_canceled", 300)
    terminal.present(reader_id, canceled)
    terminal.cancel(reader_id, canceled)
    paid_at(T0 + 101, reader_id, "ord_after", 1100, VISA)
    since, until = datetime.fromtimestamp(T0 + 0.4, UTC), datetime.fromtimestamp(T0 + 100.9, UTC)
    assert terminal.charges(reader_id, since, until) == [
        ProviderCharge(first, 1250, "EUR", "mastercard", datetime.fromtimestamp(T0, UTC)),
        ProviderCharge(second, 480, "EUR", "visa", datetime.fromtimestamp(T0 + 20, UTC)),
    ]
    assert terminal.charges(other_id, since, until)[0].amount == 700
    # the stand-in lists every charge in the window, the declined one too, a page at a time
    window = {"gte": T0, "lte": T0 + 100}
    listed = stripe_stand_in.on_account().v1.charges.list({"created": window, "limit": 1})
    assert [(charge.amount, charge.status) for charge in listed.auto_paging_iter()] == [
        (700, "succeeded"),
        (480, "succeeded"),
        (480, "failed"),
        (1250, "succeeded"),
    ]


def test_every_request_is_the_stores_with_the_keys_of_tresens_own_ids(stripe_stand_in, terminal):
    reader_id = reader_at_theke(terminal)
    payment = terminal.create_payment(order("ord_1"))
    terminal.present(reader_id, payment)
    terminal.check(reader_id)
    terminal.cancel(reader_id, payment)
    terminal.charges(reader_id, datetime.fromtimestamp(T0, UTC), datetime.fromtimestamp(T0 + 60, UTC))
    terminal.unregister(reader_id)
    made = [made for made in stripe_stand_in.stand_in.requests if made["path"] != "/v1/accounts"]
    assert [
        (made["method"], made["path"].replace(reader_id, "{reader}").replace(payment, "{pi}")) for made in made
    ] == [
        ("POST", "/v1/terminal/locations"),
        ("POST", "/v1/terminal/readers"),
        ("POST", "/v1/payment_intents"),
        ("POST", "/v1/terminal/readers/{reader}/process_payment_intent"),
        ("GET", "/v1/terminal/readers/{reader}"),
        ("GET", "/v1/terminal/readers/{reader}"),
        ("POST", "/v1/terminal/readers/{reader}/cancel_action"),
        ("POST", "/v1/payment_intents/{pi}/cancel"),
        ("GET", "/v1/charges"),
        ("DELETE", "/v1/terminal/readers/{reader}"),
    ]
    assert {made["stripe_account"] for made in made} == {stripe_stand_in.account}
    assert [made["idempotency_key"] for made in made[:3]] == [
        "tresen-location-wp_theke",
        "tresen-reader-term_1",
        "tresen-terminal-payment-ord_1",
    ]
    assert made[2]["params"]["application_fee_amount"] == "29"


def test_the_readers_webhooks_say_how_its_payment_ended_and_a_withheld_outcome_is_asked_for(stripe_stand_in, terminal):
    reader_id, account = reader_at_theke(terminal), stripe_stand_in.account
    payment = terminal.create_payment(order("ord_1"))
    terminal.present(reader_id, payment)
    stripe_stand_in.tap(reader_id, DECLINED_VISA)
    terminal.present(reader_id, payment)
    stripe_stand_in.tap(reader_id, MASTERCARD)
    ids = [listed["id"] for listed in requests.get(f"{stripe_stand_in.url}/_standin/events", timeout=10).json()["data"]]
    terminal_payment = "a terminal payment: handled through its reader's events"
    assert stripe_stand_in.webhooks() == [
        OtherEvent("stripe", ids[0], "payment_intent.payment_failed", terminal_payment),
        ReaderEvent(
            "stripe", ids[1], "terminal.reader.action_failed", payment, False, "Your card was declined.", account
        ),
        OtherEvent("stripe", ids[2], "payment_intent.succeeded", terminal_payment),
        ReaderEvent("stripe", ids[3], "terminal.reader.action_succeeded", payment, True, None, account),
    ]
    lost = terminal.create_payment(order("ord_2"))
    terminal.present(reader_id, lost)
    stripe_stand_in.control(f"terminal/readers/{reader_id}/withhold-events", {})
    stripe_stand_in.tap(reader_id, VISA)
    assert len(stripe_stand_in.webhooks()) == 4
    assert terminal.state(lost) == CardPresentState(lost, "succeeded", 1250, "EUR", "visa")
    assert terminal.cancel(reader_id, lost).status == "succeeded"
    assert len(stripe_stand_in.webhooks()) == 4  # the cancel Stripe refused sent nothing either


def unknown_fields(found: dict, component: str) -> list[str]:
    return sorted(set(found) - set(SPEC[component]))


def test_the_stand_ins_terminal_objects_have_only_fields_stripes_spec_names(stripe_stand_in, terminal):
    on_account = stripe_stand_in.on_account()
    registered = terminal.register(STORE, THEKE, "term_1", WISEPOS)
    reader_id = registered.reader_id
    location = on_account.v1.terminal.locations.retrieve(registered.location).to_dict()
    declined, paid = terminal.create_payment(order("ord_1")), terminal.create_payment(order("ord_2"))
    terminal.present(reader_id, declined)
    in_progress = on_account.v1.terminal.readers.retrieve(reader_id).to_dict()
    failed = stripe_stand_in.tap(reader_id, DECLINED_VISA)
    declined_intent = on_account.v1.payment_intents.retrieve(declined, {"expand": ["latest_charge"]}).to_dict()
    canceled_intent = on_account.v1.payment_intents.cancel(declined).to_dict()
    terminal.present(reader_id, paid)
    succeeded = stripe_stand_in.tap(reader_id, MASTERCARD)
    paid_intent = on_account.v1.payment_intents.retrieve(paid, {"expand": ["latest_charge"]}).to_dict()
    method = on_account.v1.payment_methods.retrieve(paid_intent["payment_method"]).to_dict()
    deleted = on_account.v1.terminal.readers.delete(reader_id).to_dict()
    checked = [
        (location, "terminal.location"),
        (location["address"], "address"),
        (deleted, "deleted_terminal.reader"),
        (method, "payment_method"),
        (method["card_present"], "payment_method_card_present"),
        (method["card_present"]["networks"], "payment_method_card_present_networks"),
        (method["billing_details"], "billing_details"),
        (declined_intent["last_payment_error"], "api_errors"),
        (failed["action"]["api_error"], "api_errors"),
    ]
    for reader in (in_progress, failed, succeeded):
        checked += [
            (reader, "terminal.reader"),
            (reader["action"], "terminal_reader_reader_resource_reader_action"),
            (
                reader["action"]["process_payment_intent"],
                "terminal_reader_reader_resource_process_payment_intent_action",
            ),
        ]
    for intent in (declined_intent, canceled_intent, paid_intent):
        checked.append((intent, "payment_intent"))
    for charge in (declined_intent["latest_charge"], paid_intent["latest_charge"]):
        checked += [
            (charge, "charge"),
            (charge["outcome"], "charge_outcome"),
            (charge["payment_method_details"], "payment_method_details"),
            (charge["payment_method_details"]["card_present"], "payment_method_details_card_present"),
        ]
    assert [(component, unknown_fields(found, component)) for found, component in checked] == [
        (component, []) for _, component in checked
    ]
    assert (failed["action"]["status"], succeeded["action"]["status"], deleted["deleted"]) == (
        "failed",
        "succeeded",
        True,
    )
    assert paid_intent["latest_charge"]["payment_method_details"]["card_present"]["reader"] == reader_id
