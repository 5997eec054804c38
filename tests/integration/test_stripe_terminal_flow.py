"""A card payment at a Stripe Terminal reader end to end: the API served over HTTP, Stripe played by
the local stand-in on the store's connected account, its signed webhooks reaching the API over HTTP.
A reader registered at a workplace, payments approved (webhook), declined and canceled, one whose
answer is lost and recovered by asking Stripe; the shift's close reconciles with Stripe's charges;
every Stripe request of the store carries its `Stripe-Account` and Tresen's idempotency keys."""

from __future__ import annotations

import pytest
from test_stripe_connect import new_store, onboard, stripe  # noqa: F401  (the fixture)

from support import auth, idem, journal_types, order_body

pytestmark = pytest.mark.emulator

APPROVED_MASTERCARD, DECLINED_VISA = "5555555555554444", "4000000000000002"


def card_order(client, store_id: str, terminal: str) -> dict:
    body = order_body(
        fulfilment={"type": "table", "table": "3"}, payment={"method": "card_present", "terminal_id": terminal}
    )
    placed = client.post(f"/v1/stores/{store_id}/orders", json=body, headers=idem())
    assert placed.status_code == 201, placed.get_json()
    return placed.get_json()


def tap(stripe, account: str, reader: str, number: str) -> dict:  # noqa: F811
    path = f"/v1/test_helpers/terminal/readers/{reader}/present_payment_method"
    return stripe.api("POST", path, account, **{"type": "card_present", "card_present[number]": number})


def staff_order(client, store_id: str, order: dict) -> dict:
    return client.get(f"/v1/stores/{store_id}/orders/{order['id']}", headers=auth(store_id)).get_json()


def test_card_payments_at_a_stripe_reader_reconcile_with_stripes_charges(client, backend, stripe):  # noqa: F811
    store_id = new_store(backend)
    account = onboard(client, stripe, store_id)
    owner = auth(store_id, "owner")
    workplace = client.post(f"/v1/stores/{store_id}/workplaces", json={"name": "Theke"}, headers=owner).get_json()["id"]
    registered = client.post(
        f"/v1/stores/{store_id}/workplaces/{workplace}/terminals",
        json={
            "provider": "stripe_terminal",
            "model": "WisePOS E",
            "serial_number": "WSC-1",
            "registration_code": "simulated-wpe",
        },
        headers=owner,
    )
    assert registered.status_code == 201, registered.get_json()
    terminal, reader = registered.get_json()["id"], registered.get_json()["reader_id"]
    assert (registered.get_json()["status"], reader.startswith("tmr_")) == ("online", True)
    shift = client.post(f"/v1/stores/{store_id}/workplaces/{workplace}/shifts", headers=auth(store_id)).get_json()

    paid = card_order(client, store_id, terminal)
    assert paid["payment"]["id"].startswith("pi_") and paid["payment"]["status"] == "processing"
    tap(stripe, account, reader, APPROVED_MASTERCARD)
    shown = staff_order(client, store_id, paid)
    assert (shown["status"], shown["payment"]["brand"]) == ("paid", "mastercard")

    declined = card_order(client, store_id, terminal)
    tap(stripe, account, reader, DECLINED_VISA)
    assert staff_order(client, store_id, declined)["payment"]["status"] == "failed"
    canceled = client.post(f"/v1/stores/{store_id}/orders/{declined['id']}/payment/cancel", headers=auth(store_id))
    assert (canceled.status_code, canceled.get_json()["status"]) == (200, "canceled")

    lost = card_order(client, store_id, terminal)
    stripe.control(f"terminal/readers/{reader}/withhold-events")
    tap(stripe, account, reader, APPROVED_MASTERCARD)
    assert staff_order(client, store_id, lost)["status"] == "awaiting_payment"  # Stripe's answer never came

    closed = client.post(
        f"/v1/stores/{store_id}/workplaces/{workplace}/shifts/{shift['id']}/close", headers=auth(store_id)
    )
    assert closed.status_code == 201, closed.get_json()
    (reconciled,) = closed.get_json()["terminals"]
    both = {"count": 2, "amount": 1680, "by_brand": {"mastercard": {"count": 2, "amount": 1680}}}
    assert (closed.get_json()["matched"], reconciled["provider"], reconciled["tresen"]) == (True, both, both)
    assert staff_order(client, store_id, lost)["status"] == "paid"  # recovered by asking Stripe, once
    assert journal_types(backend, store_id).count("order.paid") == 2

    made = [request for request in stripe.stand_in.requests if request["stripe_account"] == account]
    assert not [
        request["path"]
        for request in stripe.stand_in.requests
        if request["path"].startswith(("/v1/terminal", "/v1/payment_intents", "/v1/charges"))
        and request["stripe_account"] != account
    ]
    keys = {request["idempotency_key"] for request in made if request["method"] == "POST"}
    assert {f"tresen-terminal-payment-{order['id']}" for order in (paid, declined, lost)} <= keys
    assert {f"tresen-location-{workplace}", f"tresen-reader-{terminal}"} <= keys
