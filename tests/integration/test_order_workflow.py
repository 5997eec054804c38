"""Staff move orders through the workflow; the scheduler expires unpaid online orders."""

from datetime import timedelta

from support import deliver, idem, journal_types, online_order, order_body, payment_event, read, staff_token
from tresen.adapters.clock import now


def post_status(client, store_id, order_id, status, role="staff"):
    return client.post(
        f"/v1/stores/{store_id}/orders/{order_id}/status",
        json={"status": status},
        headers={"Authorization": f"Bearer {staff_token({store_id: role})}"},
    )


def test_staff_accept_ready_complete_and_each_step_is_journaled(client, store_id, backend):
    order = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    for status in ("accepted", "ready", "completed"):
        response = post_status(client, store_id, order["id"], status)
        assert (response.status_code, response.get_json()["status"]) == (200, status)
    again = post_status(client, store_id, order["id"], "completed")
    assert again.status_code == 200
    backwards = post_status(client, store_id, order["id"], "accepted")
    assert (backwards.status_code, backwards.get_json()["code"]) == (409, "invalid_transition")
    assert journal_types(backend, store_id) == ["order.placed", "order.accepted", "order.ready", "order.completed"]
    [entry] = [e for e in backend.db.collection(f"stores/{store_id}/journal").get() if e.get("seq") == 2]
    assert entry.get("actor") == {"type": "staff", "uid": "staff-1", "role": "staff"}


def test_rejecting_a_paid_order_refunds_it(client, store_id, backend):
    order = online_order(client, store_id)
    deliver(client, payment_event(order, "succeeded"))
    response = post_status(client, store_id, order["id"], "rejected")
    assert (response.get_json()["status"], response.get_json()["payment_status"]) == ("rejected", "refunded")
    assert journal_types(backend, store_id)[-3:] == ["order.rejected", "refund.created", "refund.succeeded"]


def test_finance_may_not_move_orders(client, store_id):
    order = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    response = post_status(client, store_id, order["id"], "accepted", role="finance")
    assert (response.status_code, response.get_json()["code"]) == (403, "forbidden")


def test_expiry_cancels_only_orders_past_their_window(client, store_id, backend):
    stale, fresh = online_order(client, store_id), online_order(client, store_id)
    backend.db.document(f"orders/{stale['id']}").update({"expires_at": now() - timedelta(seconds=1)})
    response = client.post("/v1/jobs/expire-orders")
    assert (response.status_code, response.get_json()) == (200, {"expired": 1})
    assert read(client, stale)["status"] == "canceled"
    assert read(client, fresh)["status"] == "awaiting_payment"
    late = deliver(client, payment_event(stale, "succeeded"))
    assert late.status_code == 200
    assert (read(client, stale)["status"], read(client, stale)["payment_status"]) == ("canceled", "refunded")
