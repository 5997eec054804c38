"""Sandbox webhooks over HTTP: signed, applied exactly once, never moving an order backwards."""

import json
import time
import uuid

from support import deliver, journal_types, online_order, payment_event, read


def test_success_marks_the_order_paid_once_with_an_invoice_number(client, store_id, backend):
    order = online_order(client, store_id)
    event = payment_event(order, "succeeded")
    first, replay = deliver(client, event), deliver(client, event)
    assert (first.status_code, first.get_json()) == (
        200,
        {"received": True, "duplicate": False, "ignored": None, "unprocessable": None},
    )
    assert (replay.status_code, replay.get_json()["duplicate"]) == (200, True)
    paid = read(client, order)
    assert (paid["status"], paid["payment_status"]) == ("paid", "paid")
    assert paid["invoice_number"] == f"DEMO-{paid['updated_at'][:4]}-000001"
    assert journal_types(backend, store_id) == ["order.placed", "order.paid"]


def test_late_failure_after_success_is_ignored_and_journaled(client, store_id, backend):
    order = online_order(client, store_id)
    deliver(client, payment_event(order, "succeeded"))
    assert deliver(client, payment_event(order, "failed")).status_code == 200
    assert read(client, order)["status"] == "paid"
    assert journal_types(backend, store_id) == ["order.placed", "order.paid", "payment.event_ignored"]


def test_success_after_cancellation_is_refunded_and_the_order_stays_canceled(client, store_id, backend):
    order = online_order(client, store_id)
    deliver(client, payment_event(order, "canceled"))
    deliver(client, payment_event(order, "succeeded"))
    final = read(client, order)
    assert (final["status"], final["payment_status"], final["refunded_amount"], final["invoice_number"]) == (
        "canceled",
        "refunded",
        order["amount_due"],
        None,
    )
    assert journal_types(backend, store_id) == [
        "order.placed",
        "order.canceled",
        "payment.succeeded_after_close",
        "refund.created",
        "refund.succeeded",
    ]


def test_amount_mismatch_is_flagged_never_paid(client, store_id):
    order = online_order(client, store_id)
    deliver(client, payment_event(order, "succeeded", amount=order["amount_due"] - 1))
    final = read(client, order)
    assert (final["status"], final["payment_status"], final["invoice_number"]) == ("awaiting_payment", "mismatch", None)


def test_bad_signatures_are_400_and_change_nothing(client, store_id, backend):
    order = online_order(client, store_id)
    event = payment_event(order, "succeeded")
    now = int(time.time())
    altered = json.dumps(event | {"data": event["data"] | {"amount": 1}}).encode()
    for response in (
        deliver(client, event, timestamp=now - 301),
        deliver(client, event, timestamp=now + 61),
        deliver(client, event, secret="whsec_wrong"),
        deliver(client, event, body=altered),
        client.post("/v1/webhooks/sandbox", json=event),
    ):
        assert (response.status_code, response.get_json()["code"]) == (400, "invalid_signature")
    assert read(client, order)["status"] == "awaiting_payment"
    assert journal_types(backend, store_id) == ["order.placed"]


def test_unknown_payments_are_parked_once_for_an_operator(client, backend):
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "payment.succeeded",
        "created": int(time.time()),
        "data": {"payment_id": "pay_sbx_unknown", "amount": 100, "currency": "EUR"},
    }
    first, replay = deliver(client, event), deliver(client, event)
    assert (first.status_code, first.get_json()["unprocessable"]) == (200, "unknown payment")
    assert (replay.status_code, replay.get_json()["duplicate"]) == (200, True)
    parked = backend.db.document(f"webhook_events/sandbox:{event['id']}").get().to_dict()
    assert (parked["status"], parked["reason"], parked["type"], parked["raw"]) == (
        "unprocessable",
        "unknown payment",
        "payment.succeeded",
        json.dumps(event).encode(),
    )


def test_payouts_are_stored_once_with_their_items_matched(client, backend):
    payout_id, paid = f"po_{uuid.uuid4().hex}", [f"pay_sbx_{uuid.uuid4().hex}" for _ in range(2)]
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "payout.paid",
        "created": int(time.time()),
        "data": {
            "payout_id": payout_id,
            "arrival_date": "2026-11-25",
            "amount": 1530,
            "currency": "EUR",
            "items": [
                {"payment_id": paid[0], "amount": 1000, "fee": 25},
                {"payment_id": paid[1], "amount": 580, "fee": 25},
            ],
        },
    }
    assert deliver(client, event).get_json()["duplicate"] is False
    assert deliver(client, event).get_json()["duplicate"] is True
    stored = backend.db.document(f"payouts/sandbox:{payout_id}").get().to_dict()
    assert (stored["amount"], stored["arrival_date"], stored["fee"], stored["item_count"]) == (
        1530,
        "2026-11-25",
        50,
        2,
    )
    matched = backend.payouts.matches("payment", paid)
    assert [(matched[p]["payout_id"], matched[p]["net"]) for p in paid] == [(payout_id, 975), (payout_id, 555)]
