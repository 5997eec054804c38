"""Delivery tours over HTTP on the emulator: planned by staff, started, delivered and finished by their
driver, journaled; the driver's positions refused outside a started tour (409) and for another driver's
tour (403), their order, duplicates and expiry; the customer's tracking; who may read a tour's document."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from test_firestore_rules import ALLOWED, DENIED, Rest

from support import auth, idem, journal_types, order_body, staff_token
from tresen.adapters import clock

DRIVER_UID, OTHER_DRIVER_UID = "driver-a", "driver-b"
HBF = {"lat": 50.1072, "lng": 8.6637}


@pytest.fixture
def store(backend) -> str:
    """A fresh copy of the demo store that delivers."""
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    store_id = f"t{uuid.uuid4().hex[:12]}"
    delivering = replace(DEMO_STORE, id=store_id, fulfilment_types=("pickup", "delivery"))
    seed_store(SeedStore(delivering, DEMO_PRODUCTS), backend)
    return store_id


def driver(store: str, uid: str = DRIVER_UID) -> dict[str, str]:
    return auth(store, "driver", uid=uid)


def ready_order(client, store: str) -> dict:
    """A delivery order paid on delivery, accepted and ready; with its customer's token."""
    body = order_body(fulfilment={"type": "delivery", "address": "Römerberg 1, 60311 Frankfurt"})
    placed = client.post(f"/v1/stores/{store}/orders", json=body, headers=idem())
    assert placed.status_code == 201, placed.get_json()
    order = placed.get_json()
    for target in ("accepted", "ready"):
        moved = client.post(
            f"/v1/stores/{store}/orders/{order['id']}/status", json={"status": target}, headers=auth(store)
        )
        assert moved.status_code == 200, moved.get_json()
    return order


def planned_tour(client, store: str, *orders: dict, **more) -> dict:
    body = {"driver_uid": DRIVER_UID, "driver_name": "Max", "order_ids": [o["id"] for o in orders], **more}
    response = client.post(f"/v1/stores/{store}/tours", json=body, headers=auth(store))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def step(client, store: str, tour: dict, action: str, headers=None):
    return client.post(f"/v1/stores/{store}/tours/{tour['id']}/{action}", headers=headers or driver(store))


def position(seq: int, lat: float = 50.11, at: datetime | None = None, **more) -> dict:
    moment = at or datetime(2026, 11, 23, 17, tzinfo=UTC) + timedelta(seconds=5 * seq)
    return {"lat": lat, "lng": 8.68, "at": moment.isoformat(), "seq": seq, **more}


def send(client, store: str, tour: dict, *positions: dict, headers=None):
    return client.post(
        f"/v1/stores/{store}/tours/{tour['id']}/positions",
        json={"positions": list(positions)},
        headers=headers or driver(store),
    )


def tracking(client, order: dict) -> dict:
    response = client.get(f"/v1/orders/{order['id']}/tracking", headers={"X-Order-Token": order["access_token"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def history(backend, tour: dict) -> dict[int, dict]:
    return {doc.get("seq"): doc.to_dict() for doc in backend.db.collection(f"tours/{tour['id']}/positions").get()}


def test_a_tour_is_planned_started_delivered_and_finished_and_journaled(client, backend, store):
    first, second = ready_order(client, store), ready_order(client, store)
    tour = planned_tour(client, store, first, second)
    assert (tour["status"], tour["driver_uid"], tour["driver_name"], tour["order_ids"]) == (
        "planned", DRIVER_UID, "Max", [first["id"], second["id"]]
    )  # fmt: skip
    started = step(client, store, tour, "start")
    assert (started.status_code, started.get_json()["status"]) == (200, "started")
    detail = client.get(f"/v1/stores/{store}/tours/{tour['id']}", headers=driver(store)).get_json()
    assert [(o["order_id"], o["status"], o["address"], o["amount_due"]) for o in detail["orders"]] == [
        (first["id"], "out_for_delivery", "Römerberg 1, 60311 Frankfurt", first["amount_due"]),
        (second["id"], "out_for_delivery", "Römerberg 1, 60311 Frankfurt", second["amount_due"]),
    ]
    delivered = step(client, store, tour, f"orders/{first['id']}/delivered")
    assert (delivered.status_code, delivered.get_json()["delivered_order_ids"]) == (200, [first["id"]])
    finished = step(client, store, tour, "finish")
    assert (finished.status_code, finished.get_json()["status"]) == (200, "finished")
    statuses = [
        client.get(f"/v1/orders/{o['id']}", headers={"X-Order-Token": o["access_token"]}) for o in (first, second)
    ]
    assert [answer.get_json()["status"] for answer in statuses] == ["delivered", "ready"]
    assert journal_types(backend, store)[-7:] == [
        "tour.planned",
        "order.out_for_delivery",
        "order.out_for_delivery",
        "tour.started",
        "order.delivered",
        "order.returned",
        "tour.finished",
    ]


def test_positions_are_refused_outside_a_started_tour(client, store):
    tour = planned_tour(client, store, ready_order(client, store))
    early = send(client, store, tour, position(1))
    assert (early.status_code, early.get_json()["code"]) == (409, "tour_not_started")
    step(client, store, tour, "start")
    assert send(client, store, tour, position(1)).status_code == 202
    step(client, store, tour, "finish")
    late = send(client, store, tour, position(2))
    assert (late.status_code, late.get_json()["code"]) == (409, "tour_not_started")


def test_positions_and_steps_are_refused_for_another_drivers_tour(client, store):
    tour = planned_tour(client, store, ready_order(client, store))
    refused_start = step(client, store, tour, "start", headers=driver(store, OTHER_DRIVER_UID))
    assert (refused_start.status_code, refused_start.get_json()["code"]) == (403, "forbidden")
    step(client, store, tour, "start")
    for headers in (driver(store, OTHER_DRIVER_UID), auth(store, "owner")):  # staff is not the driver either
        refused = send(client, store, tour, position(1), headers=headers)
        assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden")
    elsewhere = send(client, "another-store", tour, position(1), headers=driver("another-store"))
    assert (elsewhere.status_code, elsewhere.get_json()["code"]) == (404, "tour_not_found")
    listed = client.get(f"/v1/stores/{store}/tours", headers=driver(store, OTHER_DRIVER_UID))
    assert listed.get_json() == {"data": []}
    plan_as_driver = client.post(
        f"/v1/stores/{store}/tours", json={"driver_uid": DRIVER_UID, "order_ids": ["ord_x"]}, headers=driver(store)
    )
    assert plan_as_driver.status_code == 403


def test_an_older_position_stays_in_the_history_and_a_duplicate_is_taken_again(client, backend, store):
    tour = planned_tour(client, store, ready_order(client, store))
    step(client, store, tour, "start")
    newest = send(client, store, tour, position(5, lat=50.5, accuracy=8.0))
    assert (newest.status_code, newest.get_json()["recorded"]) == (202, 1)
    older = send(client, store, tour, position(3, lat=50.3))
    assert (older.status_code, older.get_json()["latest_position"]["seq"]) == (202, 5)
    again = send(client, store, tour, position(5, lat=50.5, accuracy=8.0))
    assert (again.status_code, again.get_json()["received"], again.get_json()["recorded"]) == (202, 1, 0)
    assert {seq: record["lat"] for seq, record in history(backend, tour).items()} == {3: 50.3, 5: 50.5}
    listed = client.get(f"/v1/stores/{store}/tours?status=started", headers=auth(store)).get_json()["data"]
    assert [(t["id"], t["latest_position"]["seq"], t["latest_position"]["lat"]) for t in listed] == [
        (tour["id"], 5, 50.5)
    ]
    assert client.get(f"/v1/stores/{store}/tours?status=planned", headers=auth(store)).get_json() == {"data": []}


def test_a_call_carries_1_to_100_positions(client, backend, store):
    tour = planned_tour(client, store, ready_order(client, store))
    step(client, store, tour, "start")
    for count in (0, 101):
        refused = send(client, store, tour, *[position(seq) for seq in range(count)])
        assert (refused.status_code, refused.get_json()["code"]) == (422, "validation_failed")
    taken = send(client, store, tour, *[position(seq) for seq in reversed(range(100))])
    assert (taken.status_code, taken.get_json()["recorded"], taken.get_json()["latest_position"]["seq"]) == (
        202, 100, 99
    )  # fmt: skip
    assert sorted(history(backend, tour)) == list(range(100))


def test_each_history_record_expires_24_hours_after_it_came(client, backend, store):
    tour = planned_tour(client, store, ready_order(client, store))
    step(client, store, tour, "start")
    before = datetime.now(UTC)
    send(client, store, tour, position(1))
    after = datetime.now(UTC)
    record = history(backend, tour)[1]
    assert before - timedelta(seconds=1) <= record["received_at"] <= after + timedelta(seconds=1)
    assert record["expires_at"] - record["received_at"] == timedelta(hours=24)
    assert (record["lat"], record["lng"], record["accuracy"], record["seq"]) == (50.11, 8.68, None, 1)


def test_tracking_shows_a_position_only_while_the_order_is_out_for_delivery(client, backend, store, monkeypatch):
    order = ready_order(client, store)
    tour = planned_tour(client, store, order, destinations={order["id"]: HBF})
    assert tracking(client, order) == {
        "status": "ready", "driver": None, "position": None, "stale_seconds": None, "eta_minutes": None
    }  # fmt: skip
    step(client, store, tour, "start")
    assert tracking(client, order)["driver"] == {"first_name": "Max"}
    sent_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    send(client, store, tour, {"lat": 50.1106, "lng": 8.6821, "at": sent_at.isoformat(), "seq": 1})
    with monkeypatch.context() as later:
        later.setattr(clock, "now", lambda: sent_at + timedelta(seconds=150))
        on_the_way = tracking(client, order)
    assert (on_the_way["status"], on_the_way["driver"]) == ("out_for_delivery", {"first_name": "Max"})
    where = on_the_way["position"]
    assert (where["lat"], where["lng"], datetime.fromisoformat(where["at"])) == (50.1106, 8.6821, sent_at)
    assert (on_the_way["stale_seconds"], on_the_way["eta_minutes"]) == (150, 5)  # 1.37 km at 20 km/h, rounded up
    step(client, store, tour, f"orders/{order['id']}/delivered")
    assert tracking(client, order) == {
        "status": "delivered", "driver": None, "position": None, "stale_seconds": None, "eta_minutes": None
    }  # fmt: skip
    wrong = client.get(f"/v1/orders/{order['id']}/tracking", headers={"X-Order-Token": "not-its-token"})
    assert (wrong.status_code, wrong.get_json()["code"]) == (404, "order_not_found")


def test_staff_of_the_store_read_its_tours_and_a_driver_only_its_own(client, backend, emulators, store):
    rest = Rest(emulators.firestore_host, emulators.project)
    tour = planned_tour(client, store, ready_order(client, store))
    step(client, store, tour, "start")
    send(client, store, tour, position(1))
    readers = {
        "staff": (staff_token({store: "staff"}, uid="staff-a"), ALLOWED),
        "its driver": (staff_token({store: "driver"}, uid=DRIVER_UID), ALLOWED),
        "another driver": (staff_token({store: "driver"}, uid=OTHER_DRIVER_UID), DENIED),
        "other store's staff": (staff_token({"elsewhere": "owner"}, uid="staff-b"), DENIED),
        "customer": (None, DENIED),
    }
    for who, (token, expected) in readers.items():
        assert rest.get(f"tours/{tour['id']}", token).status_code == expected, who
        assert rest.get(f"tours/{tour['id']}/positions/{1:012d}", token).status_code == DENIED, who
