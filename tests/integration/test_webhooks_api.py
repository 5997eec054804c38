"""Webhooks over HTTP to a merchant's system on 127.0.0.1 that verifies each request with the
`standardwebhooks` library: a business day arrives whole and verified, a receiver down for a while
(503 with Retry-After) gets everything under the same ids, a 410 disables the endpoint, both secrets
verify during a rotation, and events committed by an instance that sent nothing go out with the job.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from test_firestore_rules import DENIED, Rest

from support import auth, idem, order_body, paid_order, refund, run_tresen, sell, staff_token
from tresen.domain.webhooks import event_of
from webhook_receiver import Got, Receiver

SETTLE_S = 60  # at most, waiting for retries to settle: they normally do in a second or two


@pytest.fixture(scope="module")
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def quick_retries(backend, monkeypatch):
    """The schedule's 5 s first delay as 5 ms (WEBHOOK_RETRY_SCALE's effect): Retry-After still counts."""
    monkeypatch.setattr(backend.webhook_sender, "retry_scale", 0.001)


def owner(store_id: str) -> dict:
    return {"Authorization": f"Bearer {staff_token({store_id: 'owner'}, uid='owner-1')}"}


def make_endpoint(client, store_id, receiver, path, events=("*",)) -> dict:
    response = client.post(
        f"/v1/stores/{store_id}/webhook-endpoints",
        json={"url": receiver.url(path), "events": list(events), "description": "Warenwirtschaft"},
        headers=owner(store_id),
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    receiver.routes[path].secrets = [created["secret"]]
    return created


def expected_seqs(backend, store_id, after_seq: int) -> list[int]:
    return [e["seq"] for e in backend.journal.entries(store_id) if e["seq"] > after_seq and event_of(e["type"])]


def run_job(client):
    """The webhooks job on a run of its own: every store with an endpoint fanned out, as the minute's
    call does while its hour's run is not done."""
    return client.post("/v1/jobs/webhooks", query_string={"run": f"test-{uuid.uuid4().hex[:16]}"})


def settle(client, done) -> None:
    """Runs the job until `done()`: the courier threads normally get there first."""
    deadline = time.monotonic() + SETTLE_S
    while not done():
        assert time.monotonic() < deadline, "the webhooks did not settle"
        assert run_job(client).status_code == 200
        time.sleep(0.05)


def events_by_seq(taken: list[Got]) -> list[str]:
    return [got.body["type"] for got in sorted(taken, key=lambda got: got.body["data"]["seq"])]


def path_of(name: str) -> str:
    return f"/{name}/{uuid.uuid4().hex[:8]}"


def test_every_event_of_a_business_day_arrives_verified_once_and_complete(
    client, backend, store_id, receiver, quick_retries
):
    path = path_of("day")
    created = make_endpoint(client, store_id, receiver, path)
    counter = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    for status in ("accepted", "ready", "completed"):
        moved = client.post(
            f"/v1/stores/{store_id}/orders/{counter['id']}/status", json={"status": status}, headers=auth(store_id)
        )
        assert moved.status_code == 200, moved.get_json()
    online = paid_order(client, store_id)
    assert refund(client, store_id, online["id"], {"amount": 100}).status_code == 201
    sold = sell(client, store_id, 2500)
    closed = client.post(f"/v1/stores/{store_id}/closings", headers=auth(store_id, "owner") | idem())
    assert closed.status_code == 201, closed.get_json()

    after = backend.webhook_endpoints.get(store_id, created["id"])[0].after_seq
    wanted = expected_seqs(backend, store_id, after)
    settle(client, lambda: len(receiver.taken(path)) >= len(wanted))

    taken = receiver.taken(path)
    assert sorted(got.body["data"]["seq"] for got in taken) == wanted  # each once, none missing
    assert all(got.body["data"]["store_id"] == store_id for got in taken)
    assert events_by_seq(taken) == [
        "order.placed", "order.status_changed", "order.status_changed", "order.status_changed",
        "order.placed", "order.paid", "refund.created", "refund.succeeded", "giftcard.activate", "closing.created",
    ]  # fmt: skip
    by_type = {got.body["type"]: got.body["data"]["object"] for got in taken}
    assert (by_type["order.paid"]["id"], by_type["refund.succeeded"]["status"]) == (online["id"], "succeeded")
    card = by_type["giftcard.activate"]
    assert (card["id"], card["code"], card["balance"]) == (sold["id"], None, 2500)
    assert sold["code"] not in json.dumps(card) and sold["code"].replace("-", "") not in json.dumps(card)
    assert by_type["closing.created"]["z_number"] == 1
    assert all(got.body is not None for got in receiver.every(path))  # every request verified


def test_a_receiver_down_for_a_while_gets_everything_under_the_same_ids(
    client, backend, store_id, receiver, quick_retries
):
    path = path_of("down")
    created = make_endpoint(client, store_id, receiver, path)
    receiver.routes[path].statuses = [(503, {"Retry-After": "1"})] * 3
    for _ in range(2):
        assert client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).status_code == 201

    wanted = expected_seqs(backend, store_id, backend.webhook_endpoints.get(store_id, created["id"])[0].after_seq)
    settle(client, lambda: len(receiver.taken(path)) == len(wanted))

    assert sorted(got.body["data"]["seq"] for got in receiver.taken(path)) == wanted
    attempts: dict[str, list[Got]] = {}
    for got in receiver.every(path):
        attempts.setdefault(got.webhook_id, []).append(got)
    assert sorted(len(tries) for tries in attempts.values()) in ([1, 4], [2, 3])  # 3 refusals, then taken
    for tries in attempts.values():
        assert len({json.dumps(got.body, sort_keys=True) for got in tries}) == 1  # the same bytes each time
        assert [got.answered for got in tries][-1] == 200
        for before, retry in zip(tries, tries[1:], strict=False):
            assert retry.at - before.at >= 1.0  # Retry-After: 1 honoured over the schedule's 5 ms
    listed = client.get(f"/v1/stores/{store_id}/webhook-endpoints/{created['id']}/deliveries", headers=owner(store_id))
    assert sorted((d["status"], d["last_status_code"]) for d in listed.get_json()["data"]) == [
        ("succeeded", 200)
    ] * len(wanted)
    assert sum(d["attempts"] for d in listed.get_json()["data"]) == 5


def test_a_410_disables_the_endpoint(client, backend, store_id, receiver, quick_retries):
    path = path_of("gone")
    created = make_endpoint(client, store_id, receiver, path)
    receiver.routes[path].statuses = [(410, {})]
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    endpoint_url = f"/v1/stores/{store_id}/webhook-endpoints/{created['id']}"

    settle(client, lambda: client.get(endpoint_url, headers=owner(store_id)).get_json()["status"] == "disabled")

    assert client.get(endpoint_url, headers=owner(store_id)).get_json()["disabled_reason"] == "gone"
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    assert run_job(client).status_code == 200
    assert [got.answered for got in receiver.every(path)] == [410]
    assert backend.journal.entries(store_id)[-2]["type"] == "webhook_endpoint.disabled"


def test_during_a_rotation_receivers_with_the_old_and_the_new_secret_both_accept(
    client, store_id, receiver, quick_retries
):
    path = path_of("rotated")
    created = make_endpoint(client, store_id, receiver, path)
    rotated = client.post(
        f"/v1/stores/{store_id}/webhook-endpoints/{created['id']}/rotate-secret", headers=owner(store_id)
    ).get_json()
    assert rotated["secret"] != created["secret"] and rotated["previous_secret_valid_until"] is not None
    # a receiver still verifying with the old secret, and one already verifying with the new: both must accept
    receiver.routes[path].secrets = [created["secret"], rotated["secret"]]
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())

    settle(client, lambda: len(receiver.every(path)) == 1)

    [got] = receiver.every(path)
    assert (got.body["type"], got.answered) == ("order.placed", 200)
    assert [signature[:3] for signature in got.signatures] == ["v1,", "v1,"]


def test_events_of_an_instance_killed_between_commit_and_send_go_out_with_the_job(
    client, backend, store_id, receiver, monkeypatch
):
    path = path_of("killed")
    make_endpoint(client, store_id, receiver, path)
    monkeypatch.setattr(backend, "webhooks_after_commit", False)  # as if the instance died after its commit
    online = paid_order(client, store_id)
    assert receiver.every(path) == []

    job = run_job(client).get_json()

    assert job["created"] >= 2  # other tests' stores may have had some too
    assert events_by_seq(receiver.taken(path)) == ["order.placed", "order.paid"]
    assert {got.body["data"]["object"]["id"] for got in receiver.taken(path)} == {online["id"]}
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    code, output = run_tresen("webhooks-deliver")
    assert code == 0 and output.splitlines()[-1].startswith("webhooks: "), output
    assert events_by_seq(receiver.taken(path)) == ["order.placed", "order.paid", "order.placed"]


def test_the_owner_manages_endpoints_and_their_deliveries(client, store_id, receiver):
    path = path_of("api")
    base = f"/v1/stores/{store_id}/webhook-endpoints"
    created = make_endpoint(client, store_id, receiver, path, events=("order.paid", "giftcard.*"))
    assert created["secret"].startswith("whsec_") and created["status"] == "enabled"
    assert created["events"] == ["giftcard.*", "order.paid"]

    listed = client.get(base, headers=owner(store_id)).get_json()["data"]
    assert [endpoint["id"] for endpoint in listed] == [created["id"]] and "secret" not in listed[0]
    ping = client.post(f"{base}/{created['id']}/test", headers=owner(store_id)).get_json()
    assert (ping["type"], ping["seq"], ping["status"], ping["attempts"], ping["last_status_code"]) == (
        "ping", None, "succeeded", 1, 200
    )  # fmt: skip
    assert receiver.taken(path)[-1].body["data"]["object"] == {"endpoint_id": created["id"]}
    retried = client.post(f"{base}/{created['id']}/deliveries/{ping['id']}/retry", headers=owner(store_id))
    assert (retried.status_code, retried.get_json()["attempts"]) == (200, 1)
    assert [got.webhook_id for got in receiver.taken(path)] == [ping["event_id"]] * 2

    refused = {
        "staff": client.get(base, headers=auth(store_id, "supervisor")),
        "private address": client.post(
            base, json={"url": "http://10.0.0.8/", "events": ["*"]}, headers=owner(store_id)
        ),
        "unknown event": client.post(base, json={"url": receiver.url(path), "events": ["order.eaten"]},
                                     headers=owner(store_id)),
        "malformed id": client.get(f"{base}/not!an-id", headers=owner(store_id)),
        "unknown delivery": client.post(f"{base}/{created['id']}/deliveries/nope/retry", headers=owner(store_id)),
    }  # fmt: skip
    assert {name: (r.status_code, r.get_json()["code"]) for name, r in refused.items()} == {
        "staff": (403, "forbidden"),
        "private address": (422, "validation_failed"),
        "unknown event": (422, "validation_failed"),
        "malformed id": (404, "webhook_endpoint_not_found"),
        "unknown delivery": (404, "webhook_delivery_not_found"),
    }
    assert client.delete(f"{base}/{created['id']}", headers=owner(store_id)).status_code == 204
    gone = client.get(f"{base}/{created['id']}", headers=owner(store_id))
    assert (gone.status_code, gone.get_json()["code"]) == (404, "webhook_endpoint_not_found")


@pytest.mark.parametrize("collection", ["webhook_endpoints", "webhook_deliveries", "webhook_cursors"])
def test_no_client_reads_the_webhooks_records(emulators, backend, store_id, collection):
    rest = Rest(emulators.firestore_host, emulators.project)
    path = f"{collection}/{uuid.uuid4().hex}"
    backend.db.document(path).set({"store_id": store_id, "secret": "whsec_x"})
    response = rest.get(path, staff_token({store_id: "owner"}, uid="owner-1"))
    assert response.status_code == DENIED, response.text
