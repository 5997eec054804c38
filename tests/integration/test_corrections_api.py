"""Voids and discounts on unpaid orders over HTTP, with passkeys where the store wants them."""

from datetime import timedelta

from support import deliver, journal_types, online_order, payment_event, read, set_passkey, staff_token


def post(client, store_id, order_id, action, body, role="staff", passkey=None):
    headers = {"Authorization": f"Bearer {staff_token({store_id: role})}"}
    if passkey:
        headers["X-Passkey"] = passkey
    return client.post(f"/v1/stores/{store_id}/orders/{order_id}/{action}", json=body, headers=headers)


def test_void_lowers_what_the_customer_pays_and_the_provider_expects(client, store_id, backend):
    order = online_order(client, store_id)  # 2 croissants + 1 espresso = 840
    response = post(client, store_id, order["id"], "void", {"lines": [{"line_id": "L1", "quantity": 1}]})
    assert response.status_code == 200, response.get_data(as_text=True)
    voided = response.get_json()
    assert (voided["totals"]["total"], voided["amount_due"], voided["lines"][0]["quantity"]) == (550, 550, 1)
    assert backend.db.document(f"payments/{order['payment']['id']}").get().get("amount") == 550
    deliver(client, payment_event(order | {"amount_due": 550}, "succeeded"))
    assert (read(client, order)["status"], read(client, order)["payment_status"]) == ("paid", "paid")
    assert journal_types(backend, store_id) == ["order.placed", "order.voided", "order.paid"]


def test_voiding_everything_cancels(client, store_id):
    order = online_order(client, store_id)
    body = {"lines": [{"line_id": "L1", "quantity": 2}, {"line_id": "L2", "quantity": 1}]}
    assert post(client, store_id, order["id"], "void", body).get_json()["status"] == "canceled"


def test_late_voids_need_the_passkey_when_protected(client, store_id, backend):
    set_passkey(client, store_id, protect=("void_unpaid",))
    order = online_order(client, store_id)
    body = {"lines": [{"line_id": "L1", "quantity": 1}]}
    assert post(client, store_id, order["id"], "void", body).status_code == 200  # within 30 s: free
    created = backend.db.document(f"orders/{order['id']}").get().get("created_at")
    backend.db.document(f"orders/{order['id']}").update({"created_at": created - timedelta(minutes=1)})
    late = post(client, store_id, order["id"], "void", body)
    assert (late.status_code, late.get_json()["code"]) == (403, "passkey_required")
    approved = post(
        client, store_id, order["id"], "void", {"lines": [{"line_id": "L2", "quantity": 1}]}, passkey="246810"
    )
    assert approved.status_code == 200


def test_discounts_by_supervisor_or_by_staff_with_passkey(client, store_id, backend):
    order = online_order(client, store_id)
    by_percent = post(
        client, store_id, order["id"], "discount", {"percent": 10, "reason": "regular"}, role="supervisor"
    )
    assert (by_percent.status_code, by_percent.get_json()["totals"]["discount"]) == (200, 84)
    assert post(client, store_id, order["id"], "discount", {"amount": 100}).status_code == 403
    set_passkey(client, store_id, protect=())
    by_staff = post(client, store_id, order["id"], "discount", {"amount": 100}, passkey="246810")
    assert (by_staff.status_code, by_staff.get_json()["amount_due"]) == (200, 740)
    [last] = [
        e for e in backend.db.collection(f"stores/{store_id}/journal").get() if e.get("type") == "order.discounted"
    ][-1:]
    assert last.get("actor") == {"type": "staff", "uid": "staff-1", "role": "staff", "passkey": True}
    both = post(client, store_id, order["id"], "discount", {"amount": 1, "percent": 1}, role="owner")
    assert both.status_code == 422
