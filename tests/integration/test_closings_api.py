"""Closings over HTTP: idempotent POST, the Z-report as JSON and as a PDF, who may close and read,
409 when nothing happened, the nightly job, and a refund the provider fails after its closing added
back in the next."""

from __future__ import annotations

import uuid

from test_refunds_api import refund_event

from support import auth, deliver, idem, order_body, paid_order, read, refund


def test_close_read_and_print_a_z_report(client, store_id):
    on_site = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    online = paid_order(client, store_id)
    key = idem()
    closed = client.post(f"/v1/stores/{store_id}/closings", headers=auth(store_id, "supervisor") | key)
    assert closed.status_code == 201, closed.get_data(as_text=True)
    z = closed.get_json()
    assert (z["z_number"], z["first_seq"], z["counts"]["sales"]) == (1, 1, 2)
    assert z["payments"] == {
        "on_site": on_site["totals"]["total"],
        "online": online["totals"]["total"],
        "giftcard": 0,
        "card_present": 0,
    }
    assert z["card_brands"] == {}
    replay = client.post(f"/v1/stores/{store_id}/closings", headers=auth(store_id, "supervisor") | key)
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed"), replay.get_json()) == (201, "true", z)
    again = client.post(f"/v1/stores/{store_id}/closings", headers=auth(store_id, "owner") | idem())
    assert (again.status_code, again.get_json()["code"]) == (409, "nothing_to_close")

    finance = auth(store_id, "finance")
    assert client.get(f"/v1/stores/{store_id}/closings/1", headers=finance).get_json() == z
    listed = client.get(f"/v1/stores/{store_id}/closings", headers=finance).get_json()["data"]
    assert [c["z_number"] for c in listed] == [1]
    printed = client.get(f"/v1/stores/{store_id}/closings/1.pdf", headers=finance)
    assert (printed.status_code, printed.content_type, printed.data[:5]) == (200, "application/pdf", b"%PDF-")
    for path in ("/closings/2", "/closings/2.pdf", "/closings/x"):
        missing = client.get(f"/v1/stores/{store_id}{path}", headers=finance)
        assert (missing.status_code, missing.get_json()["code"]) == (404, "closing_not_found"), path


def test_only_owners_and_supervisors_close_and_staff_cannot_read(client, store_id):
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    for role in ("staff", "finance"):
        refused = client.post(f"/v1/stores/{store_id}/closings", headers=auth(store_id, role) | idem())
        assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden"), role
    assert client.get(f"/v1/stores/{store_id}/closings", headers=auth(store_id, "staff")).status_code == 403
    assert client.post(f"/v1/stores/{store_id}/closings", headers=auth(store_id, "owner")).status_code == 400


def test_the_nightly_job_closes_a_store_nobody_closed(client, store_id):
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    closed = client.post(f"/v1/jobs/close-due?run={uuid.uuid4().hex}").get_json()["closed"]
    mine = [c for c in closed if c["store_id"] == store_id]
    assert [(c["z_number"], c["closed_by"]) for c in mine] == [(1, {"type": "system", "job": "close-due"})]
    again = client.post(f"/v1/jobs/close-due?run={uuid.uuid4().hex}").get_json()["closed"]  # every store again
    assert [c for c in again if c["store_id"] == store_id] == []


def test_a_refund_failing_after_its_closing_is_added_back_in_the_next(client, store_id, backend):
    order = paid_order(client, store_id)  # online: 2 croissants (580 at 7 %) and an espresso (260 at 19 %)
    made = refund(client, store_id, order["id"], {"amount": 300}).get_json()
    split_300 = [{"rate": "7", "net": 193, "tax": 14, "gross": 207}, {"rate": "19", "net": 78, "tax": 15, "gross": 93}]
    online_300 = {"on_site": 0, "online": 300, "giftcard": 0, "card_present": 0}
    supervisor = auth(store_id, "supervisor")
    first = client.post(f"/v1/stores/{store_id}/closings", headers=supervisor | idem()).get_json()
    assert first["refunds"] == {"count": 1, "amount": 300, "vat": split_300, "by_method": online_300}
    assert (first["failed_refunds"]["count"], first["failed_refunds"]["amount"]) == (0, 0)

    reported = deliver(client, refund_event(backend, made["id"], "failed"))  # the provider's webhook
    assert (reported.status_code, read(client, order)["refunded_amount"]) == (200, 0)
    second = client.post(f"/v1/stores/{store_id}/closings", headers=supervisor | idem())
    assert second.status_code == 201, second.get_data(as_text=True)
    z = second.get_json()
    assert (z["z_number"], z["first_seq"], z["previous_hash"]) == (2, first["last_seq"] + 1, first["hash"])
    assert z["failed_refunds"] == {"count": 1, "amount": 300, "vat": split_300, "by_method": online_300}
    assert (z["refunds"]["amount"], z["counts"]["sales"], z["payments"]["online"]) == (0, 0, 0)
    finance = auth(store_id, "finance")
    assert client.get(f"/v1/stores/{store_id}/closings/2", headers=finance).get_json() == z
    printed = client.get(f"/v1/stores/{store_id}/closings/2.pdf", headers=finance)
    assert (printed.status_code, printed.data[:5]) == (200, b"%PDF-")
