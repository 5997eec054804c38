"""Delivery tours on the in-memory backend: planned, started (every order out or none), delivered,
finished (what is left comes back ready), journaled; the driver's positions, their order and their
history; and what the customer's tracking shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tresen.adapters import clock
from tresen.adapters.tour_store import position_path, tour_path
from tresen.domain.errors import DomainError
from tresen.domain.memberships import Membership
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.refunds import RefundRequest
from tresen.domain.tours import Point, Position, distance_km, eta_minutes, name_of_email
from tresen.services.order_status import ChangeStatus, change_status
from tresen.services.order_views import order_for_staff
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.refunds import RefundOrder, refund_order
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store
from tresen.services.tour_positions import RecordPositions, record_positions, track_order
from tresen.services.tours import (
    DeliverOrder,
    PlanTour,
    TourStep,
    deliver_order,
    finish_tour,
    plan_tour,
    start_tour,
    tour_view,
    tours_of_store,
)
from tresen.services.unit_of_work import RetryLater, Writes

STORE = "delivery"
NOW = datetime(2026, 11, 23, 17, tzinfo=UTC)  # 18:00 in the store
STAFF = {"type": "staff", "uid": "staff-1", "role": "staff"}
DRIVER = {"type": "staff", "uid": "driver-1", "role": "driver"}
OTHER_DRIVER = {"type": "staff", "uid": "driver-2", "role": "driver"}
RÖMER = Point(50.1106, 8.6821)


def open_delivery_store(backend) -> None:
    seed_store(
        SeedStore(replace(DEMO_STORE, id=STORE, fulfilment_types=("pickup", "delivery")), DEMO_PRODUCTS), backend
    )


@pytest.fixture
def moment(backend, monkeypatch):
    """The clock, moved by the test: [now]."""
    now = [NOW]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    open_delivery_store(backend)
    return now


def delivery_order(backend, status: str = "ready", fulfilment: str = "delivery"):
    address = "Römerberg 1, 60311 Frankfurt" if fulfilment == "delivery" else None
    request = OrderRequest(
        (CartItem("croissant", 2),),
        Fulfilment(fulfilment, address=address),
        Customer("Anna Beispiel", "anna@example.com", "+4917112345678"),
        "on_site",
    )
    placed = place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend)
    for target in ("accepted", "ready")[: ("placed", "accepted", "ready").index(status)]:
        change_status(ChangeStatus(STORE, placed.order.id, target, STAFF), backend)
    return placed


def plan(backend, *orders, driver_name="Max Mustermann", destinations=None, driver="driver-1"):
    command = PlanTour(STORE, driver, driver_name, tuple(o.order.id for o in orders), destinations or {}, STAFF)
    return plan_tour(command, backend)


def status_of(backend, placed) -> str:
    return order_for_staff(backend, STORE, placed.order.id).status


def journal(backend) -> list[dict]:
    return backend.journal.entries(STORE)


def at(seq: int, lat: float = 50.1, lng: float = 8.6, seconds: int = 0) -> Position:
    return Position(lat, lng, 12.5, NOW + timedelta(seconds=seconds), seq)


def send(backend, tour_id: str, *positions: Position, uid: str = "driver-1"):
    return record_positions(RecordPositions(STORE, tour_id, uid, positions), backend)


def refused(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


# -- planning ---------------------------------------------------------------------------------------


def test_a_tour_is_planned_with_the_drivers_first_name_and_journaled_without_it(backend, moment):
    first, second = delivery_order(backend), delivery_order(backend, "placed")
    tour = plan(backend, first, second, destinations={first.order.id: RÖMER})
    assert (tour.status, tour.driver_uid, tour.driver_name) == ("planned", "driver-1", "Max")
    assert tour.order_ids == (first.order.id, second.order.id)
    assert backend.docs.get(tour_path(tour.id)).data["destinations"] == {
        first.order.id: {"lat": 50.1106, "lng": 8.6821}
    }
    planned = journal(backend)[-1]
    assert (planned["type"], planned["actor"]) == ("tour.planned", STAFF)
    assert planned["data"] == {"tour_id": tour.id, "driver_uid": "driver-1", "order_ids": list(tour.order_ids)}


def test_without_a_name_typed_the_first_name_comes_from_the_drivers_membership(backend, moment):
    writes = Writes(STAFF)
    writes.member(Membership("driver-1", "jana.fahrer@example.de", STORE, "driver", NOW), {STORE: "driver"})
    backend.commit_writes(writes)
    assert plan(backend, delivery_order(backend), driver_name=None).driver_name == "Jana"
    assert refused(lambda: plan(backend, delivery_order(backend), driver_name="  ", driver="driver-9")) == (
        "validation_failed"
    )
    assert (name_of_email("fahrer7@example.de"), name_of_email("7@example.de")) == ("Fahrer", None)


def test_only_delivery_orders_still_to_leave_and_on_no_other_tour_make_a_tour(backend, moment):
    pickup = delivery_order(backend, fulfilment="pickup")
    with pytest.raises(DomainError) as caught:
        plan(backend, pickup, pickup)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("order_ids", "1 to 20 different orders"),
        ("order_ids[0]", "not a delivery order"),
        ("order_ids[1]", "not a delivery order"),
    ]
    delivered = delivery_order(backend)
    change_status(ChangeStatus(STORE, delivered.order.id, "completed", STAFF), backend)
    assert refused(lambda: plan(backend, delivered)) == "invalid_transition"
    taken = delivery_order(backend)
    first = plan(backend, taken)
    with pytest.raises(DomainError) as caught:
        plan(backend, delivery_order(backend), taken)
    assert (caught.value.code, caught.value.extra) == ("order_in_tour", {"tour_id": first.id})
    assert refused(lambda: plan(backend, delivery_order(backend), destinations={"ord_elsewhere": RÖMER})) == (
        "validation_failed"
    )
    finish_tour(TourStep(STORE, first.id, STAFF), backend)
    assert plan(backend, taken).order_ids == (taken.order.id,)  # its tour finished: free again


# -- the tour on its way ----------------------------------------------------------------------------


def test_a_tour_takes_its_orders_out_delivers_them_and_brings_back_the_rest(backend, moment):
    first, second = delivery_order(backend), delivery_order(backend, "accepted")
    tour = plan(backend, first, second)
    moment[0] = NOW + timedelta(minutes=5)
    started = start_tour(TourStep(STORE, tour.id, DRIVER), backend)
    assert (started.status, started.started_at) == ("started", NOW + timedelta(minutes=5))
    assert [status_of(backend, o) for o in (first, second)] == ["out_for_delivery", "out_for_delivery"]
    assert start_tour(TourStep(STORE, tour.id, DRIVER), backend) == started  # sent again: nothing more
    send(backend, tour.id, at(1))
    handed = deliver_order(DeliverOrder(STORE, tour.id, first.order.id, DRIVER), backend)
    assert handed.delivered == (first.order.id,)
    assert deliver_order(DeliverOrder(STORE, tour.id, first.order.id, DRIVER), backend) == handed
    moment[0] = NOW + timedelta(minutes=40)
    over = finish_tour(TourStep(STORE, tour.id, DRIVER), backend)
    assert (over.status, over.finished_at, over.latest) == ("finished", NOW + timedelta(minutes=40), None)
    assert backend.docs.get(tour_path(tour.id)).data["latest"] is None
    assert [status_of(backend, o) for o in (first, second)] == ["delivered", "ready"]
    moves = [
        (e["type"], e["data"].get("order_id"), e["data"].get("from"), e["actor"].get("uid")) for e in journal(backend)
    ]
    assert moves[-6:] == [
        ("order.out_for_delivery", first.order.id, "ready", "driver-1"),
        ("order.out_for_delivery", second.order.id, "accepted", "driver-1"),
        ("tour.started", None, None, "driver-1"),
        ("order.delivered", first.order.id, "out_for_delivery", "driver-1"),
        ("order.returned", second.order.id, "out_for_delivery", "driver-1"),
        ("tour.finished", None, None, "driver-1"),
    ]
    assert journal(backend)[-3]["data"] == {
        "order_id": first.order.id, "from": "out_for_delivery", "to": "delivered", "tour_id": tour.id
    }  # fmt: skip
    assert journal(backend)[-1]["data"] == {
        "tour_id": tour.id,
        "delivered": [first.order.id],
        "returned": [second.order.id],
    }


def test_a_start_moves_every_order_or_none(backend, moment):
    ready, still_placed = delivery_order(backend), delivery_order(backend, "placed")
    tour = plan(backend, ready, still_placed)
    entries = len(journal(backend))
    assert refused(lambda: start_tour(TourStep(STORE, tour.id, DRIVER), backend)) == "invalid_transition"
    assert [status_of(backend, o) for o in (ready, still_placed)] == ["ready", "placed"]
    assert (backend.tours.read(tour.id)[0].status, len(journal(backend))) == ("planned", entries)


def test_a_driver_acts_on_its_own_tours_only_and_staff_on_any(backend, moment):
    tour = plan(backend, delivery_order(backend))
    assert refused(lambda: start_tour(TourStep(STORE, tour.id, OTHER_DRIVER), backend)) == "forbidden"
    assert refused(lambda: start_tour(TourStep("demo", tour.id, DRIVER), backend)) == "tour_not_found"
    assert start_tour(TourStep(STORE, tour.id, STAFF), backend).status == "started"
    assert [t.id for t in tours_of_store(backend, STORE, "started", DRIVER)] == [tour.id]
    assert tours_of_store(backend, STORE, "started", OTHER_DRIVER) == []
    assert [t.id for t in tours_of_store(backend, STORE, "started", STAFF)] == [tour.id]
    assert refused(lambda: tour_view(backend, STORE, tour.id, OTHER_DRIVER)) == "forbidden"


def test_a_planned_tour_finished_takes_nothing_out(backend, moment):
    placed = delivery_order(backend)
    tour = plan(backend, placed)
    over = finish_tour(TourStep(STORE, tour.id, STAFF), backend)
    assert (over.status, status_of(backend, placed)) == ("finished", "ready")
    assert journal(backend)[-1]["data"] == {"tour_id": tour.id, "delivered": [], "returned": []}
    assert refused(lambda: start_tour(TourStep(STORE, tour.id, DRIVER), backend)) == "invalid_transition"


def test_a_delivery_needs_the_tour_on_its_way_and_one_of_its_orders(backend, moment):
    placed, elsewhere = delivery_order(backend), delivery_order(backend)
    tour = plan(backend, placed)
    assert refused(lambda: deliver_order(DeliverOrder(STORE, tour.id, placed.order.id, DRIVER), backend)) == (
        "tour_not_started"
    )
    start_tour(TourStep(STORE, tour.id, DRIVER), backend)
    assert refused(lambda: deliver_order(DeliverOrder(STORE, tour.id, elsewhere.order.id, DRIVER), backend)) == (
        "order_not_found"
    )


def test_an_order_paid_on_delivery_is_refundable_once_delivered(backend, moment):
    placed = delivery_order(backend)
    tour = plan(backend, placed)
    start_tour(TourStep(STORE, tour.id, DRIVER), backend)
    deliver_order(DeliverOrder(STORE, tour.id, placed.order.id, DRIVER), backend)
    staff = STAFF | {"role": "supervisor"}
    refund = refund_order(
        RefundOrder(STORE, placed.order.id, RefundRequest(amount=100), staff, "supervisor", None), backend
    )
    assert (refund.amount, refund.status) == (100, "succeeded")


# -- positions --------------------------------------------------------------------------------------


def test_positions_come_only_from_the_tours_driver_while_it_is_on_its_way(backend, moment):
    tour = plan(backend, delivery_order(backend))
    assert refused(lambda: send(backend, tour.id, at(1))) == "tour_not_started"
    start_tour(TourStep(STORE, tour.id, DRIVER), backend)
    assert refused(lambda: send(backend, tour.id, at(1), uid="driver-2")) == "forbidden"
    assert refused(lambda: send(backend, "tour_unknown", at(1))) == "tour_not_found"
    assert send(backend, tour.id, at(1)).recorded == 1
    finish_tour(TourStep(STORE, tour.id, DRIVER), backend)
    assert refused(lambda: send(backend, tour.id, at(2))) == "tour_not_started"


def test_an_older_position_is_kept_in_the_history_but_does_not_move_the_latest(backend, moment):
    tour = plan(backend, delivery_order(backend))
    start_tour(TourStep(STORE, tour.id, DRIVER), backend)
    assert send(backend, tour.id, at(5, lat=50.5)).latest == at(5, lat=50.5)
    late = send(backend, tour.id, at(3, lat=50.3))
    assert (late.recorded, late.latest) == (1, at(5, lat=50.5))
    history = {seq: backend.docs.get(position_path(tour.id, seq)).data["lat"] for seq in (3, 5)}
    assert history == {3: 50.3, 5: 50.5}
    # the same seq again is the same position: recorded once, answered all the same
    again = send(backend, tour.id, at(5, lat=50.5), at(6, lat=50.6))
    assert (again.received, again.recorded, again.latest) == (2, 1, at(6, lat=50.6))
    assert send(backend, tour.id, at(6, lat=50.6)).recorded == 0
    # between equal counts the device's clock decides
    assert send(backend, tour.id, at(7, seconds=1), at(7, lat=51.0, seconds=2)).latest == at(7, seconds=1)
    assert backend.tours.read(tour.id)[0].latest == at(7, seconds=1)


def test_a_backlog_is_sent_at_once_and_each_record_expires_a_day_after_it_came(backend, moment):
    tour = plan(backend, delivery_order(backend))
    start_tour(TourStep(STORE, tour.id, DRIVER), backend)
    moment[0] = NOW + timedelta(minutes=3)
    backlog = [at(seq, seconds=5 * seq) for seq in range(100, 0, -1)]
    answered = send(backend, tour.id, *backlog)
    assert (answered.received, answered.recorded, answered.latest) == (100, 100, at(100, seconds=500))
    record = backend.docs.get(position_path(tour.id, 42)).data
    assert (record["received_at"], record["expires_at"]) == (moment[0], moment[0] + timedelta(hours=24))
    assert (record["at"], record["accuracy"], record["seq"]) == (NOW + timedelta(seconds=210), 12.5, 42)


def test_a_tour_that_moved_under_the_commit_is_read_once_more_then_the_device_retries(backend, moment):
    tour = plan(backend, delivery_order(backend))
    start_tour(TourStep(STORE, tour.id, DRIVER), backend)
    commit_writes, moves = backend.commit_writes, [at(8)]

    def another_call_first(writes):  # the same tour's latest moved by a call in between
        if moves:
            send_now = moves.pop()
            bump = Writes({})
            bump.tour_latest(tour.id, send_now, backend.tours.read(tour.id)[1])
            commit_writes(bump)
        commit_writes(writes)

    backend.commit_writes = another_call_first
    assert send(backend, tour.id, at(9)).latest == at(9)
    moves.extend([at(10), at(11)])  # moved before each of the two attempts
    with pytest.raises(RetryLater):
        send(backend, tour.id, at(12))
    assert backend.docs.get(position_path(tour.id, 12)) is None


# -- tracking -------------------------------------------------------------------------------------------


def test_the_customer_sees_a_position_only_while_the_order_is_out_for_delivery(backend, moment):
    placed, other = delivery_order(backend), delivery_order(backend)
    token = placed.access_token
    tour = plan(backend, placed, other, destinations={placed.order.id: RÖMER})
    before = track_order(backend, placed.order.id, token)
    assert (before.status, before.driver_name, before.position) == ("ready", None, None)
    start_tour(TourStep(STORE, tour.id, DRIVER), backend)
    assert track_order(backend, placed.order.id, token).driver_name == "Max"  # no position sent yet
    send(backend, tour.id, at(1, lat=50.2106, lng=8.6821, seconds=-30))
    moment[0] = NOW + timedelta(seconds=45)
    on_the_way = track_order(backend, placed.order.id, token)
    assert (on_the_way.status, on_the_way.driver_name) == ("out_for_delivery", "Max")
    assert (on_the_way.position.lat, on_the_way.stale_seconds, on_the_way.eta_minutes) == (50.2106, 75, 34)
    assert track_order(backend, other.order.id, other.access_token).eta_minutes is None  # no destination given
    deliver_order(DeliverOrder(STORE, tour.id, placed.order.id, DRIVER), backend)
    after = track_order(backend, placed.order.id, token)
    assert (after.status, after.driver_name, after.position, after.stale_seconds) == ("delivered", None, None, None)
    assert refused(lambda: track_order(backend, placed.order.id, other.access_token)) == "order_not_found"


def test_distance_and_time_to_the_door_in_a_straight_line():
    assert round(distance_km(Point(50.0, 8.0), Point(51.0, 8.0)), 3) == 111.195  # one degree of latitude
    assert round(distance_km(RÖMER, Point(50.1072, 8.6637)), 2) == 1.37  # the Römer to the main station
    position = Position(50.0, 8.0, None, NOW, 1)
    assert (eta_minutes(position, Point(50.0, 8.0)), eta_minutes(position, Point(50.1, 8.0))) == (0, 34)
