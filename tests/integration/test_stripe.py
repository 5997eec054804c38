"""Stripe end to end against the library's pluggable HTTP client and real webhook signatures."""

import json
import time

from fake_stripe import deliver, event, intent_event, intent_of, session_event
from support import idem, order_body, staff_token


def test_order_creates_an_idempotent_checkout_session_and_a_signed_completion_pays_it(client, stripe_store):
    store_id, fake = stripe_store
    order = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
    ).get_json()
    [call] = fake.calls
    fields = call["fields"]
    assert (call["path"], fields["mode"], fields["client_reference_id"]) == (
        "/v1/checkout/sessions",
        "payment",
        order["id"],
    )
    lines = [
        (
            fields[f"line_items[{n}][price_data][product_data][name]"],
            fields[f"line_items[{n}][price_data][unit_amount]"],
        )
        for n in range(2)
    ]
    assert lines == [("Butter-Croissant", "290"), ("Espresso", "260")]
    assert (fields["line_items[0][quantity]"], fields["line_items[1][quantity]"]) == ("2", "1")
    assert (fields["metadata[order_id]"], fields["payment_intent_data[metadata][checkout]"]) == (order["id"], "session")
    assert fields["success_url"] == f"http://127.0.0.1:8080/?store={store_id}#order={order['id']}"
    assert "payment_intent_data[application_fee_amount]" not in fields  # one merchant: no platform fee
    assert call["idempotency_key"] == f"tresen-checkout-{order['id']}"
    session_id = order["payment"]["id"]
    assert session_id.startswith("cs_1_")
    assert order["payment"] == {
        "id": session_id,
        "provider": "stripe",
        "status": "open",
        "checkout_url": f"https://checkout.stripe.com/c/pay/{session_id}",
        "client_secret": None,
        "terminal_id": None,
        "brand": None,
    }
    payload = session_event("completed", session_id, 840)
    assert deliver(client, payload).get_json()["duplicate"] is False
    assert deliver(client, payload).get_json()["duplicate"] is True
    paid = client.get(f"/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}).get_json()
    assert (paid["status"], paid["payment_status"]) == ("paid", "paid")


def test_success_after_expiry_is_refunded_through_stripe_with_our_refund_id(client, stripe_store):
    store_id, fake = stripe_store
    order = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
    ).get_json()
    session_id = order["payment"]["id"]
    assert deliver(client, session_event("expired", session_id, 840)).status_code == 200
    late = deliver(client, session_event("async_payment_succeeded", session_id, 840))
    assert late.status_code == 200, late.get_data(as_text=True)
    lookup, refund_call = fake.calls[-2:]
    assert (lookup["method"], lookup["path"]) == ("get", f"/v1/checkout/sessions/{session_id}")
    assert (refund_call["path"], refund_call["fields"]["payment_intent"], refund_call["fields"]["amount"]) == (
        "/v1/refunds",
        intent_of(session_id),
        "840",
    )
    assert refund_call["idempotency_key"] == "tresen-refund-" + refund_call["fields"]["metadata[tresen_refund_id]"]
    final = client.get(f"/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}).get_json()
    assert (final["status"], final["payment_status"]) == ("canceled", "refunded")


def test_stripe_signatures_old_future_or_wrong_are_400(client, stripe_store):
    payload = intent_event("succeeded", "pi_x", 840)
    now = int(time.time())
    for response in (
        deliver(client, payload, timestamp=now - 301),
        deliver(client, payload, timestamp=now + 61),
        deliver(client, payload, secret="whsec_other"),
        client.post("/v1/webhooks/stripe", data=payload, content_type="application/json"),
    ):
        assert (response.status_code, response.get_json()["code"]) == (400, "invalid_signature")


def test_other_stripe_event_types_are_acknowledged_and_recorded_once(client, stripe_store, backend):
    event_id = f"evt_{time.time_ns()}"
    customer = {"id": "cus_1", "object": "customer", "email": "anna@example.com"}
    payload = json.dumps(
        {"id": event_id, "object": "event", "type": "customer.created", "data": {"object": customer}}
    ).encode()
    first, replay = deliver(client, payload), deliver(client, payload)
    assert (first.status_code, first.get_json()) == (
        200,
        {"received": True, "duplicate": False, "ignored": "customer.created is not handled", "unprocessable": None},
    )
    assert (replay.status_code, replay.get_json()["duplicate"], replay.get_json()["ignored"]) == (200, True, None)
    record = backend.db.document(f"webhook_events/stripe:{event_id}").get().to_dict()
    assert (record["type"], record["status"], record["reason"]) == (
        "customer.created",
        "ignored",
        "customer.created is not handled",
    )


def test_a_stripe_payout_is_matched_through_its_paginated_balance_transactions_once(client, stripe_store, backend):
    """Three payments and a refund paid out; the third payment's own webhook comes after the payout.
    Stripe first drops the connection (503, retried by Stripe), and pages the list two at a time."""
    store_id, fake = stripe_store
    fake.page_size = 2
    orders = [
        client.post(
            f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
        ).get_json()
        for _ in range(3)
    ]
    sessions = [order["payment"]["id"] for order in orders]
    intents = [intent_of(session) for session in sessions]
    for session in sessions[:2]:
        assert deliver(client, session_event("completed", session, 840)).status_code == 200
    refunded = client.post(
        f"/v1/stores/{store_id}/orders/{orders[0]['id']}/refunds",
        json={"amount": 300},
        headers=idem() | {"Authorization": f"Bearer {staff_token({store_id: 'owner'})}"},
    )
    assert refunded.status_code == 201, refunded.get_data(as_text=True)
    payout_id = f"po_{time.time_ns()}"
    amount = fake.pay_out(
        payout_id, [(intent, 840, 25 + n) for n, intent in enumerate(intents)], [(fake.refunds[-1], 0)]
    )
    found = {"id": payout_id, "object": "payout", "amount": amount, "currency": "eur", "arrival_date": 1795564800}
    payload = json.dumps({"id": f"evt_{payout_id}", "type": "payout.paid", "data": {"object": found}}).encode()

    fake.unreachable = 1  # the list request fails as a dropped connection
    dropped = deliver(client, payload)
    assert (dropped.status_code, dropped.headers.get("Retry-After")) == (503, "1")
    assert backend.docs.get(f"payouts/stripe:{payout_id}") is None
    assert deliver(client, payload).get_json()["duplicate"] is False
    assert deliver(client, payload).get_json()["duplicate"] is True
    pages = [call for call in fake.calls if call["path"] == "/v1/balance_transactions" and "response_id" not in call]
    assert len(pages) >= 3 and pages[-1]["fields"].get("starting_after")  # 5 transactions, 2 a page

    assert deliver(client, session_event("completed", sessions[2], 840)).status_code == 200  # after its payout
    matched = backend.payouts.matches("payment", intents)
    assert [(matched[i]["payout_id"], matched[i]["fee"], matched[i]["net"]) for i in intents] == [
        (payout_id, 25, 815),
        (payout_id, 26, 814),
        (payout_id, 27, 813),
    ]
    refund_id = fake.refunds[-1]["id"]
    assert backend.payouts.matches("refund", [refund_id])[refund_id]["net"] == -300
    stored = backend.docs.get(f"payouts/stripe:{payout_id}").data
    assert (stored["amount"], stored["arrival_date"], stored["fee"], stored["item_count"]) == (
        amount,
        "2026-11-25",
        78,
        4,
    )


def test_a_stripe_refund_failing_later_makes_the_amount_refundable_again(client, stripe_store):
    store_id, fake = stripe_store
    order = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
    ).get_json()
    deliver(client, session_event("completed", order["payment"]["id"], 840))
    owner = {"Authorization": f"Bearer {staff_token({store_id: 'owner'})}"}
    refunded = client.post(
        f"/v1/stores/{store_id}/orders/{order['id']}/refunds", json={"amount": 300}, headers=owner | idem()
    )
    assert refunded.status_code == 201
    [stripe_refund] = fake.refunds
    assert deliver(client, event("refund.updated", stripe_refund | {"status": "failed"})).status_code == 200
    final = client.get(f"/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}).get_json()
    assert (final["refunded_amount"], final["payment_status"]) == (0, "paid")


def test_a_void_on_an_unpaid_checkout_order_makes_a_payment_of_the_old_amount_a_mismatch(client, stripe_store):
    """A Checkout Session's amount cannot change: nothing is asked of Stripe, and the customer's
    payment of what the session still asks is never taken for the new amount."""
    store_id, fake = stripe_store
    order = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
    ).get_json()
    staff = {"Authorization": f"Bearer {staff_token({store_id: 'staff'})}"}
    voided = client.post(
        f"/v1/stores/{store_id}/orders/{order['id']}/void",
        headers=staff,
        json={"lines": [{"line_id": "L2", "quantity": 1}]},
    )
    assert (voided.status_code, voided.get_json()["amount_due"]) == (200, 580)
    assert [call["path"] for call in fake.calls] == ["/v1/checkout/sessions"]
    deliver(client, session_event("completed", order["payment"]["id"], 840))
    paid = client.get(f"/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}).get_json()
    assert (paid["status"], paid["payment_status"]) == ("awaiting_payment", "mismatch")
