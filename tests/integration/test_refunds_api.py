"""Refunds over HTTP: by amount or lines, capped by what was paid under any concurrency."""

import threading
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from support import deliver, idem, journal_types, order_body, paid_order, read, refund, staff_token


def test_partial_refund_by_lines_then_the_rest_by_amount(client, store_id, backend):
    order = paid_order(client, store_id)  # 2 croissants (580) + 1 espresso (260)
    first = refund(client, store_id, order["id"], {"lines": [{"line_id": "L1", "quantity": 1}], "reason": "burnt"})
    assert first.status_code == 201
    assert first.get_json() | {"id": None} == {
        "id": None,
        "order_id": order["id"],
        "amount": 290,
        "status": "pending",
        "to": "original",
        "provider_amount": 290,
        "giftcard_amount": 0,
        "giftcard": None,
        "provider_refund_id": None,  # the provider is asked after this answer is stored
    }
    assert (read(client, order)["refunded_amount"], read(client, order)["payment_status"]) == (
        290,
        "partially_refunded",
    )
    rest = refund(client, store_id, order["id"], {"amount": 550})
    assert rest.status_code == 201
    assert read(client, order)["payment_status"] == "refunded"
    over = refund(client, store_id, order["id"], {"amount": 1})
    assert (over.status_code, over.get_json()["code"]) == (409, "refund_exceeds_paid")
    stored = backend.db.document(f"refunds/{first.get_json()['id']}").get().to_dict()
    assert (stored["status"], stored["vat"]) == ("succeeded", [{"rate": "7", "net": 271, "tax": 19, "gross": 290}])
    assert journal_types(backend, store_id)[-4:] == ["refund.created", "refund.succeeded"] * 2


def test_every_order_read_shows_the_refunds_with_the_providers_refund_id(client, store_id):
    order = paid_order(client, store_id)
    ids = [
        refund(client, store_id, order["id"], body).get_json()["id"]
        for body in ({"lines": [{"line_id": "L1", "quantity": 1}]}, {"amount": 100, "to": "giftcard"})
    ]
    staff = {"Authorization": f"Bearer {staff_token({store_id: 'staff'})}"}
    customer_view = read(client, order)
    staff_view = client.get(f"/v1/stores/{store_id}/orders/{order['id']}", headers=staff).get_json()
    [listed] = client.get(f"/v1/stores/{store_id}/orders", headers=staff).get_json()["data"]
    for view in (customer_view, staff_view, listed):
        assert [r | {"created_at": None} for r in view["refunds"]] == [
            {
                "id": ids[0],
                "amount": 290,
                "status": "succeeded",
                "provider_amount": 290,
                "giftcard_amount": 0,
                "provider_refund_id": f"sbx_{ids[0]}",
                "created_at": None,
            },
            {
                "id": ids[1],
                "amount": 100,
                "status": "succeeded",
                "provider_amount": 0,
                "giftcard_amount": 100,
                "provider_refund_id": None,  # onto a gift card: no provider involved
                "created_at": None,
            },
        ]
        created = datetime.fromisoformat(view["refunds"][0]["created_at"])  # in the store's time zone
        assert created.utcoffset() == ZoneInfo("Europe/Berlin").utcoffset(created.replace(tzinfo=None))


def test_the_order_list_reads_the_refunds_of_more_orders_than_one_query_takes(client, store_id):
    orders = [paid_order(client, store_id) for _ in range(32)]
    for order in orders[::3]:
        assert refund(client, store_id, order["id"], {"amount": 100}).status_code == 201
    staff = {"Authorization": f"Bearer {staff_token({store_id: 'staff'})}"}
    page = client.get(f"/v1/stores/{store_id}/orders?limit=40", headers=staff).get_json()["data"]
    refunded = {order["id"] for order in orders[::3]}
    assert len(page) == 32
    assert {o["id"]: [r["amount"] for r in o["refunds"]] for o in page} == {
        o["id"]: [100] if o["id"] in refunded else [] for o in orders
    }


def test_refund_rules_and_roles(client, store_id):
    unpaid = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
    ).get_json()
    not_paid = refund(client, store_id, unpaid["id"], {"amount": 100})
    assert (not_paid.status_code, not_paid.get_json()["code"]) == (409, "order_not_paid")
    order = paid_order(client, store_id)
    assert refund(client, store_id, order["id"], {"amount": 100}, role="staff").status_code == 403
    both = refund(client, store_id, order["id"], {"amount": 100, "lines": [{"line_id": "L1", "quantity": 1}]})
    assert both.status_code == 422
    for bad in ({"amount": 1.5}, {"amount": "100"}, {"amount": -1}, {}):
        assert refund(client, store_id, order["id"], bad).status_code == 422, bad
    assert refund(client, store_id, order["id"], {"amount": 100}, headers={}).status_code == 400


def test_replayed_refund_moves_money_once(client, store_id, backend):
    order = paid_order(client, store_id)
    key = idem()
    first, again = (refund(client, store_id, order["id"], {"amount": 100}, headers=key) for _ in range(2))
    assert again.get_data() == first.get_data() and again.headers["Idempotent-Replayed"] == "true"
    assert read(client, order)["refunded_amount"] == 100


def test_twenty_concurrent_refunds_of_ten_euros_on_fifty(app, client, store_id, backend):
    order = paid_order(client, store_id, items=[{"product_id": "croissant", "quantity": 10}], tip=2100)
    assert order["amount_due"] == 5000
    statuses = []

    def one():
        statuses.append(refund(app.test_client(), store_id, order["id"], {"amount": 1000}).status_code)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 5 + [409] * 15
    assert (read(client, order)["refunded_amount"], read(client, order)["payment_status"]) == (5000, "refunded")
    refunds = backend.db.collection("refunds").where("order_id", "==", order["id"]).get()
    assert sorted(r.get("status") for r in refunds) == ["succeeded"] * 5
    assert journal_types(backend, store_id).count("refund.created") == 5


def refund_event(backend, refund_id, kind):
    provider_refund_id = backend.db.document(f"refunds/{refund_id}").get().get("provider_refund_id")
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": f"refund.{kind}",
        "created": int(time.time()),
        "data": {"refund_id": provider_refund_id, "payment_id": "pay_sbx_x", "amount": 1},
    }


def test_a_refund_failing_after_success_makes_its_amount_refundable_again(client, store_id, backend):
    order = paid_order(client, store_id)
    done = refund(client, store_id, order["id"], {"lines": [{"line_id": "L1", "quantity": 2}]}).get_json()
    assert read(client, order)["refunded_amount"] == 580
    failed = refund_event(backend, done["id"], "failed")
    assert deliver(client, failed).get_json()["duplicate"] is False
    assert deliver(client, failed).get_json()["duplicate"] is True
    restored = read(client, order)
    assert (restored["refunded_amount"], restored["payment_status"]) == (0, "paid")
    assert backend.db.document(f"refunds/{done['id']}").get().get("status") == "failed"
    assert journal_types(backend, store_id)[-1] == "refund.failed"
    late_success = deliver(client, refund_event(backend, done["id"], "succeeded"))
    assert late_success.status_code == 200
    assert read(client, order)["refunded_amount"] == 0
    again = refund(client, store_id, order["id"], {"lines": [{"line_id": "L1", "quantity": 2}]})
    assert again.status_code == 201
    assert read(client, order)["refunded_amount"] == 580


def test_on_site_orders_are_refunded_at_the_counter(client, store_id, backend):
    order = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    response = refund(client, store_id, order["id"], {"amount": 260, "reason": "espresso cold"})
    assert (response.status_code, response.get_json()["status"]) == (201, "succeeded")
    assert (read(client, order)["refunded_amount"], read(client, order)["payment_status"]) == (
        260,
        "partially_refunded",
    )
    stored = backend.db.document(f"refunds/{response.get_json()['id']}").get().to_dict()
    assert (stored["provider"], stored["status"], stored["payment_id"]) == ("counter", "succeeded", None)
    assert journal_types(backend, store_id)[-2:] == ["refund.created", "refund.succeeded"]
    over = refund(client, store_id, order["id"], {"amount": 841 - 260})
    assert (over.status_code, over.get_json()["code"]) == (409, "refund_exceeds_paid")
