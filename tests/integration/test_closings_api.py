"""Closings over HTTP: idempotent POST, the Z-report as JSON and as a PDF, who may close and read,
409 when nothing happened, and the nightly job."""

from __future__ import annotations

from support import auth, idem, order_body, paid_order


def test_close_read_and_print_a_z_report(client, store_id):
    on_site = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    online = paid_order(client, store_id)
    key = idem()
    closed = client.post(f"/v1/stores/{store_id}/closings", headers=auth(store_id, "supervisor") | key)
    assert closed.status_code == 201, closed.get_data(as_text=True)
    z = closed.get_json()
    assert (z["z_number"], z["first_seq"], z["counts"]["sales"]) == (1, 1, 2)
    assert z["payments"] == {"on_site": on_site["totals"]["total"], "online": online["totals"]["total"], "giftcard": 0}
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
    closed = client.post("/v1/jobs/close-due").get_json()["closed"]
    mine = [c for c in closed if c["store_id"] == store_id]
    assert [(c["z_number"], c["closed_by"]) for c in mine] == [(1, {"type": "system", "job": "close-due"})]
    assert [c for c in client.post("/v1/jobs/close-due").get_json()["closed"] if c["store_id"] == store_id] == []
