"""Idempotency-Key semantics on the order endpoint."""

import hashlib
import json
import threading
from dataclasses import replace
from datetime import timedelta

from support import order_body
from tresen.adapters.clock import now
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store


def record_id(store_id: str, key: str) -> str:
    return hashlib.sha256(f"{store_id}|public|{key}".encode()).hexdigest()


def test_same_key_and_body_replays_the_first_response_byte_for_byte(client, store_id, backend):
    headers = {"Idempotency-Key": "replay-1"}
    first = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=headers)
    again = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    orders = backend.db.collection("orders").where("store_id", "==", store_id).get()
    assert len(orders) == 1
    journal = backend.db.collection(f"stores/{store_id}/journal").get()
    assert len(journal) == 1


def test_same_key_with_another_body_is_422(client, store_id):
    headers = {"Idempotency-Key": "reuse-1"}
    assert client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=headers).status_code == 201
    other = client.post(f"/v1/stores/{store_id}/orders", json=order_body(tip=50), headers=headers)
    assert (other.status_code, other.get_json()["code"]) == (422, "idempotency_key_reused")


def test_missing_or_overlong_key_is_400(client, store_id):
    for headers in ({}, {"Idempotency-Key": ""}, {"Idempotency-Key": "k" * 256}):
        response = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=headers)
        assert (response.status_code, response.get_json()["code"]) == (400, "idempotency_key_required")


def fingerprint(store_id: str, body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"POST /v1/stores/{store_id}/orders\n{canonical}".encode()).hexdigest()


def test_key_in_flight_is_409_with_retry_after(client, store_id, backend):
    # another instance is processing this very request right now
    backend.idempotency.begin(record_id(store_id, "busy-1"), fingerprint(store_id, order_body()), now())
    busy = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers={"Idempotency-Key": "busy-1"})
    assert (busy.status_code, busy.get_json()["code"], busy.headers["Retry-After"]) == (
        409,
        "idempotency_in_progress",
        "1",
    )
    assert backend.db.collection("orders").where("store_id", "==", store_id).get() == []


def test_abandoned_lease_is_taken_over(client, store_id, backend):
    stale = now() - timedelta(minutes=5)
    outcome = backend.idempotency.begin(record_id(store_id, "crashed-1"), fingerprint(store_id, order_body()), stale)
    assert outcome.lease is not None
    response = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers={"Idempotency-Key": "crashed-1"})
    assert response.status_code == 201


def test_a_failed_request_releases_its_key(client, store_id):
    headers = {"Idempotency-Key": "fix-and-retry"}
    sold_out = client.post(
        f"/v1/stores/{store_id}/orders", headers=headers, json=order_body(items=[{"product_id": "soup", "quantity": 1}])
    )
    assert sold_out.status_code == 409
    fixed = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=headers)
    assert fixed.status_code == 201


def counting_commits(monkeypatch, backend) -> list[int]:
    """How many batches the requests commit from now on (each a round trip); the archive's
    background commits are not the request's."""
    commits = []
    requests_thread = threading.get_ident()
    make_batch = backend.docs.batch

    def batch():
        made = make_batch()
        commit = made.commit

        def counted():
            if threading.get_ident() == requests_thread:
                commits.append(1)
            return commit()

        made.commit = counted
        return made

    monkeypatch.setattr(backend.docs, "batch", batch)
    return commits


def test_an_order_paid_at_the_counter_claims_its_key_in_its_own_commit(client, store_id, backend, monkeypatch):
    """Nothing leaves for a provider before its commit, so the key's record is created by that
    commit: one round trip. An online order creates the provider's payment first, so it claims
    its key before (two); a replay makes no order."""
    commits = counting_commits(monkeypatch, backend)
    headers = {"Idempotency-Key": "one-trip-1"}
    first = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=headers)
    assert (first.status_code, len(commits)) == (201, 1)
    record = backend.db.document(f"idempotency/{record_id(store_id, 'one-trip-1')}").get().to_dict()
    assert (record["state"], record["status"], record["body"]) == ("done", 201, first.get_data())
    online = client.post(
        f"/v1/stores/{store_id}/orders",
        json=order_body(payment={"method": "online"}),
        headers={"Idempotency-Key": "k2"},
    )
    assert (online.status_code, len(commits)) == (201, 1 + 2)
    again = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=headers)
    assert (again.status_code, again.get_data(), again.headers["Idempotent-Replayed"]) == (
        201,
        first.get_data(),
        "true",
    )
    assert len(backend.db.collection("orders").where("store_id", "==", store_id).get()) == 2
    assert len(backend.db.collection(f"stores/{store_id}/journal").get()) == 2


def test_a_retry_that_the_use_case_would_now_refuse_gets_the_first_answer(client, store_id, backend, monkeypatch):
    """Claimed at its commit, a retry runs the use case again before it meets the first record: if
    the store has closed meanwhile, the client still gets the first answer, not store_closed."""
    headers = {"Idempotency-Key": "before-closing"}
    first = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=headers)
    assert first.status_code == 201
    seed_store(SeedStore(replace(DEMO_STORE, id=store_id, opening_hours={}), DEMO_PRODUCTS), backend)
    monkeypatch.setattr(backend.catalog.cache, "ttl", 0)  # as if the catalog's few seconds had passed
    again = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=headers)
    assert (again.status_code, again.get_data(), again.headers["Idempotent-Replayed"]) == (
        201,
        first.get_data(),
        "true",
    )
    fresh = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers={"Idempotency-Key": "after"})
    assert (fresh.status_code, fresh.get_json()["code"]) == (409, "store_closed")
