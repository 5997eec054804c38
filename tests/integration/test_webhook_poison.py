"""Correctly signed bodies we cannot understand: acknowledged 200, parked once, nothing else touched.

Every case goes to both providers. Where a case can point at a real payment, it does: a parser that
let it through would pay the order, which the "nothing changed" check would see.
"""

import hashlib
import json
import time
import uuid

import pytest

from fake_stripe import stripe_signature
from support import idem, online_order, order_body, run_tresen
from tresen.domain.journal import rfc3339
from tresen.domain.signatures import sign

SECRETS = {"sandbox": "whsec_sandbox_dev", "stripe": "whsec_stripe_dev"}
STRIPE_TYPES = {
    "payment.succeeded": "payment_intent.succeeded",
    "payment.failed": "payment_intent.payment_failed",
    "payout.paid": "payout.paid",
}
DEEP = 5000  # json.loads gives up with a RecursionError near 1000


def deliver(client, provider: str, raw: bytes):
    header = "Stripe-Signature" if provider == "stripe" else "Sandbox-Signature"
    signature = (
        stripe_signature(raw, SECRETS[provider])
        if provider == "stripe"
        else sign(raw, SECRETS[provider], int(time.time()))
    )
    return client.post(
        f"/v1/webhooks/{provider}", data=raw, content_type="application/json", headers={header: signature}
    )


def envelope(provider: str, kind: str, found, event_id: str | None = None) -> dict:
    """An event as each provider sends it, about `found` (Stripe: `data.object`; sandbox: `data`)."""
    event_id = event_id or f"evt_{uuid.uuid4().hex}"
    if provider == "sandbox":
        return {"id": event_id, "type": kind, "created": int(time.time()), "data": found}
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": STRIPE_TYPES[kind],
        "data": {"object": found},
    }


def payment(provider: str, payment_id: str, amount: int, changes: dict | None = None) -> dict:
    changes = changes or {}
    if provider == "sandbox":
        return {"payment_id": payment_id, "amount": amount, "currency": "EUR"} | changes
    intent = {
        "id": payment_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": "eur",
        "last_payment_error": None,
        "status": "succeeded",
    }
    return intent | changes


def payout(provider: str, payout_id: str, **changes) -> dict:
    if provider == "sandbox":
        found = {"payout_id": payout_id, "arrival_date": "2026-11-25", "amount": 1530, "currency": "EUR", "items": []}
    else:
        found = {
            "id": payout_id,
            "object": "payout",
            "amount": 1530,
            "currency": "eur",
            "arrival_date": 1795564800,
            "status": "paid",
        }
    return found | changes


def success(provider: str, order: dict, changes: dict | None = None) -> dict:
    return envelope(provider, "payment.succeeded", payment(provider, order["payment"]["id"], 840, changes))


def failure_with_a_string_error(provider: str, order: dict) -> dict:
    found = payment(provider, order["payment"]["id"], 840)
    if provider == "sandbox":
        found["error"] = {"message": "declined"}  # the sandbox's error is a string
    else:
        found |= {"last_payment_error": "declined", "amount_received": 0, "status": "requires_payment_method"}
    return envelope(provider, "payment.failed", found)


def too_deep(provider: str, order: dict) -> bytes:
    event = json.dumps(envelope(provider, "payment.succeeded", "here"))
    return event.replace('"here"', "[" * DEEP + "]" * DEEP).encode()


# case → (provider, order) → body (JSON-able, or raw bytes); the key is the event id unless the
# body has no usable one (then the SHA-256 of the raw body)
CASES = {
    "array body": lambda p, o: b"[]",
    "null body": lambda p, o: b"null",
    "string body": lambda p, o: b'"x"',
    "object null": lambda p, o: envelope(p, "payment.succeeded", None),
    "object a list": lambda p, o: envelope(p, "payment.succeeded", [payment(p, o["payment"]["id"], 840)]),
    "object a string": lambda p, o: envelope(p, "payment.succeeded", o["payment"]["id"]),
    "payment error a string": failure_with_a_string_error,
    "payment id empty": lambda p, o: envelope(p, "payment.succeeded", payment(p, "", 840)),
    "payment id reserved": lambda p, o: envelope(p, "payment.succeeded", payment(p, "__x__", 840)),
    "payment id with a slash": lambda p, o: envelope(p, "payment.succeeded", payment(p, "a/b", 840)),
    "amount a float": lambda p, o: success(p, o, {"amount": 840.0, "amount_received": 840.0}),
    "amount beyond a JSON integer": lambda p, o: success(p, o, {"amount": 10**20, "amount_received": 10**20}),
    "payout id with a slash": lambda p, o: envelope(p, "payout.paid", payout(p, "po_1/po_2")),
    "payout id of 1600 characters": lambda p, o: envelope(p, "payout.paid", payout(p, "p" * 1600)),
    "arrival date 1e20": lambda p, o: envelope(p, "payout.paid", payout(p, "po_x", arrival_date=1e20)),
    "nesting 5000 deep": too_deep,
    "event id reserved": lambda p, o: success(p, o) | {"id": "__x__"},
    "event id with a slash": lambda p, o: success(p, o) | {"id": "evt/1"},
    "event id missing": lambda p, o: {k: v for k, v in success(p, o).items() if k != "id"},
}
USABLE_ID = (
    "object null",
    "object a list",
    "object a string",
    "payment error a string",
    "payment id empty",
    "payment id reserved",
    "payment id with a slash",
    "amount a float",
    "amount beyond a JSON integer",
    "payout id with a slash",
    "payout id of 1600 characters",
    "arrival date 1e20",
)


@pytest.fixture(params=["sandbox", "stripe"])
def provider_order(request, client, backend):
    """(provider, store, an order awaiting its online payment through that provider)."""
    if request.param == "sandbox":
        store_id = request.getfixturevalue("store_id")
        return "sandbox", store_id, online_order(client, store_id)
    store_id, _ = request.getfixturevalue("stripe_store")
    order = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
    ).get_json()
    return "stripe", store_id, order


@pytest.mark.parametrize("case", list(CASES))
def test_a_signed_body_we_cannot_understand_is_parked_once_and_changes_nothing(client, backend, provider_order, case):
    provider, store_id, order = provider_order
    body = CASES[case](provider, order)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    key = body["id"] if case in USABLE_ID else "sha256_" + hashlib.sha256(raw).hexdigest()
    order_before = backend.db.document(f"orders/{order['id']}").get()
    journal_before = backend.journal.entries(store_id)

    first = deliver(client, provider, raw)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["duplicate"] is False
    assert first.get_json()["unprocessable"]
    parked = backend.db.document(f"webhook_events/{provider}:{key}").get().to_dict()
    assert (parked["status"], parked["provider"], parked["event_id"], parked["raw"], parked["size"]) == (
        "unprocessable",
        provider,
        key,
        raw,
        len(raw),
    )
    assert parked["reason"] == first.get_json()["unprocessable"]

    replay = deliver(client, provider, raw)
    assert (replay.status_code, replay.get_json()["duplicate"], replay.get_json()["unprocessable"]) == (200, True, None)
    after = backend.db.document(f"orders/{order['id']}").get()
    assert (after.update_time, after.get("status"), after.get("payment_status")) == (
        order_before.update_time,
        "awaiting_payment",
        "unpaid",
    )
    assert backend.journal.entries(store_id) == journal_before
    assert backend.db.collection("payouts").where("payout_id", "==", "po_x").limit(1).get() == []


def test_an_outage_is_still_a_503_so_the_provider_retries(client, store_id, monkeypatch):
    from google.api_core.exceptions import ServiceUnavailable

    from tresen.adapters.order_repository import DocumentPayments

    def unavailable(*args, **kwargs):
        raise ServiceUnavailable("firestore restarting")

    monkeypatch.setattr(DocumentPayments, "read_unless_seen", unavailable)
    order = online_order(client, store_id)
    response = deliver(client, "sandbox", json.dumps(success("sandbox", order)).encode())
    assert (response.status_code, response.get_json()["code"], response.headers["Retry-After"]) == (
        503,
        "service_unavailable",
        "1",
    )


def test_an_operator_lists_the_parked_events_newest_first(client, backend):
    parked = []
    for provider in ("sandbox", "stripe"):
        event = envelope(provider, "payment.succeeded", None)
        raw = json.dumps(event).encode()
        assert deliver(client, provider, raw).status_code == 200
        record = backend.db.document(f"webhook_events/{provider}:{event['id']}").get()
        kind = "payment.succeeded" if provider == "sandbox" else "payment_intent.succeeded"
        where = "data" if provider == "sandbox" else "data.object"
        at = rfc3339(record.get("received_at"))
        parked.append(
            f"{at}  {provider}  {event['id']}  {kind}  {len(raw)} bytes  {where}: Input should be a valid dictionary"
        )
    code, output = run_tresen("webhooks", "--unprocessable", "--limit", "2")
    assert (code, output.splitlines()) == (0, parked[::-1])
    code, output = run_tresen("webhooks")
    assert code == 2 and "--unprocessable" in output
