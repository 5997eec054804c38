"""What Stripe Terminal's webhooks become: a reader's payment action that ended is a `ReaderEvent`
naming the PaymentIntent; its other actions, and the PaymentIntent events of a terminal payment,
change nothing; a reader event we cannot read is parked, never a 5xx."""

from __future__ import annotations

import json

import pytest

from fake_stripe import event
from tresen.adapters.stripe_provider import stripe_event
from tresen.adapters.webhook_bodies import read_event
from tresen.domain.payments import OtherEvent, ReaderEvent, UnprocessableEvent

ACCOUNT = "acct_1Store"


def read(kind: str, found: dict, account: str | None = ACCOUNT):
    body = json.loads(event(kind, found, "evt_1"))
    if account:
        body["account"] = account
    return read_event("stripe", json.dumps(body).encode(), stripe_event)


def reader(action: dict | None) -> dict:
    """A Terminal Reader as its action events show it (shaped as Stripe's own fixture)."""
    return {
        "id": "tmr_1",
        "object": "terminal.reader",
        "action": action,
        "device_sw_version": "2.37.2.0",
        "device_type": "bbpos_wisepos_e",
        "label": "Theke",
        "last_seen_at": 1_780_000_000_000,
        "location": "tml_1",
        "metadata": {"tresen_terminal": "term_1"},
        "serial_number": "WSC513105011295",
        "status": "online",
    }


def payment_action(status: str, **failure) -> dict:
    return {
        "failure_code": None,
        "failure_message": None,
        "process_payment_intent": {"payment_intent": "pi_1"},
        "status": status,
        "type": "process_payment_intent",
    } | failure


def test_a_payment_taken_at_the_reader_is_a_reader_event_of_its_payment_intent_on_the_account():
    taken = read("terminal.reader.action_succeeded", reader(payment_action("succeeded")))
    assert taken == ReaderEvent(
        "stripe", "evt_1", "terminal.reader.action_succeeded", payment_id="pi_1", succeeded=True, account=ACCOUNT
    )


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ({"failure_code": "card_declined", "failure_message": "Your card was declined."}, "Your card was declined."),
        ({"failure_code": "customer_canceled"}, "customer_canceled"),  # Stripe's words, else its code
        ({}, None),
    ],
)
def test_a_failed_payment_action_says_why_in_stripes_words(failure, error):
    failed = read("terminal.reader.action_failed", reader(payment_action("failed", **failure)))
    assert failed == ReaderEvent(
        "stripe", "evt_1", "terminal.reader.action_failed", "pi_1", succeeded=False, error=error, account=ACCOUNT
    )


def test_a_reader_event_off_connect_has_no_account():
    taken = read("terminal.reader.action_succeeded", reader(payment_action("succeeded")), account=None)
    assert (taken.payment_id, taken.account) == ("pi_1", None)


def test_a_readers_other_actions_change_nothing():
    display = {"status": "succeeded", "type": "set_reader_display", "set_reader_display": {"type": "cart"}}
    assert read("terminal.reader.action_succeeded", reader(display)) == OtherEvent(
        "stripe", "evt_1", "terminal.reader.action_succeeded", "a reader's set_reader_display action: not a payment"
    )
    refund = {"status": "failed", "type": "refund_payment", "failure_code": "card_declined"}  # Stripe's fixture's
    assert read("terminal.reader.action_failed", reader(refund)).reason == (
        "a reader's refund_payment action: not a payment"
    )


@pytest.mark.parametrize(
    "kind", ["payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"]
)
def test_a_terminal_payments_own_events_are_acknowledged_its_readers_tell_the_outcome(kind):
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 1250,
        "amount_received": 1250,
        "currency": "eur",
        "metadata": {"order_id": "ord_1", "store_id": "s1", "tresen_terminal": "term_1"},
    }
    assert read(kind, intent) == OtherEvent(
        "stripe", "evt_1", kind, "a terminal payment: handled through its reader's events"
    )


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        (reader(None), "data.object.action: "),
        (
            reader(payment_action("succeeded", process_payment_intent=None)),
            "data.object.action.process_payment_intent: ",
        ),
        (
            reader(payment_action("succeeded", process_payment_intent={"payment_intent": "pi/../x"})),
            "data.object.action.process_payment_intent.payment_intent: ",
        ),
        (reader(payment_action("failed", failure_message="x" * 501)), "data.object.action.failure_message: "),
    ],
)
def test_a_reader_event_that_cannot_be_read_is_parked_naming_the_field(found, reason):
    parked = read("terminal.reader.action_failed", found)
    assert isinstance(parked, UnprocessableEvent)
    assert (parked.id, parked.type) == ("evt_1", "terminal.reader.action_failed")
    assert parked.reason.startswith(reason)
