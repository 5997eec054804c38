"""The live streams on the in-memory backend: what a stream pushes and when, how each is framed as a
server-sent event, that it always unsubscribes, and the reads its listener costs.

The stream's monotonic clock is a counter that moves one second each time it is read, so its
keep-alives and its end come at exactly the same places on every run; the queue's waits are real
but a millisecond long.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from test_tours import DRIVER, RÖMER, at, delivery_order, moment, plan, send  # noqa: F401  (moment: its fixture)
from test_tours import STORE as STORE_WITH_DELIVERY
from test_use_cases import CART, STORE

from tresen.domain.errors import DomainError
from tresen.domain.orders import Customer, Fulfilment, OrderRequest
from tresen.domain.tours import Position, Tour
from tresen.http.live_routes import frame, framed
from tresen.http.present import order_out
from tresen.services.live import KEEP_ALIVE, SETTLED, Pushed, order_updates, store_updates, stream
from tresen.services.order_status import ChangeStatus, change_status
from tresen.services.order_views import OrderView
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.tour_positions import Tracking
from tresen.services.tours import DeliverOrder, TourStep, deliver_order, start_tour

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STAFF = {"type": "staff", "uid": "u1", "role": "staff"}


def ticking(step: float = 1.0):
    """A monotonic clock that moves `step` seconds each time it is read."""
    return itertools.count(0.0, step).__next__


def place(backend):
    request = OrderRequest(CART, Fulfilment("pickup"), Customer("Anna", "anna@example.com"), "on_site", None, 0)
    return place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend)


def accept(backend, order_id: str) -> None:
    change_status(ChangeStatus(STORE, order_id, "accepted", STAFF), backend)
    backend.live.changed(order_id)  # what Firestore's listener is told after the commit


def as_orders(records: list) -> list[tuple[str, object]]:
    return [("order", record) for record in records]


def events(pushed: list[Pushed]) -> list[str]:
    return [p.event for p in pushed]


class Listener:
    def __init__(self):
        self.listening, self.closed = True, False

    def close(self):
        self.closed, self.listening = True, False


def quiet_stream(listener: Listener, **options):
    """A stream whose listener delivers nothing but its first, empty snapshot."""

    def subscribe(deliver):
        deliver([])
        return listener

    return stream(subscribe, as_orders, clock=lambda: T0, wait_s=0.001, **options)


def test_a_quiet_stream_is_ready_keeps_alive_and_ends_after_its_lifetime_then_unsubscribes():
    listener = Listener()
    pushed = list(quiet_stream(listener, lifetime_s=10, keep_alive_s=3, monotonic=ticking()))
    # clock reads: ends at 1 + 10; ready by 3, quiet from 4; 8 - 4 >= 3 → keep-alive, quiet from 9; 12 > 11: end
    assert events(pushed) == ["ready", "keep-alive", "end"]
    assert pushed[1] is KEEP_ALIVE
    assert listener.closed


def test_a_stream_whose_listener_stopped_ends_at_once_without_an_end_event():
    listener = Listener()
    updates = quiet_stream(listener, lifetime_s=100, monotonic=ticking())
    assert next(updates).event == "ready"
    listener.listening = False  # Firestore gave up on it
    assert list(updates) == []
    assert listener.closed


def test_a_page_that_goes_away_mid_stream_unsubscribes_it_and_one_never_started_never_subscribes(backend):
    updates = store_updates(backend, STORE, None, lifetime_s=100)
    assert next(updates).event == "ready"
    [listener] = backend.live.listeners
    updates.close()  # the server closes the answer of a page that went away
    assert listener.closed
    never_started = store_updates(backend, STORE, None, lifetime_s=100)
    never_started.close()
    assert len(backend.live.listeners) == 1


def test_a_store_stream_sends_each_change_as_staff_see_it_after_being_ready(backend):
    updates = store_updates(backend, STORE, None, lifetime_s=100)
    assert next(updates).event == "ready"
    placed = place(backend)
    backend.live.changed(placed.order.id)
    new = next(updates)
    assert (new.event, new.value.order.status, new.value.order.id) == ("order", "placed", placed.order.id)
    assert new.value == OrderView(placed.order, ())
    accept(backend, placed.order.id)
    assert next(updates).value.order.status == "accepted"
    updates.close()


def test_a_resumed_store_stream_first_sends_what_changed_since_then_is_ready(backend):
    placed = place(backend)
    since = placed.order.updated_at - timedelta(seconds=1)
    updates = store_updates(backend, STORE, since, lifetime_s=100)
    first, ready = next(updates), next(updates)
    assert (first.event, first.value.order.id, ready.event) == ("order", placed.order.id, "ready")
    updates.close()
    after = store_updates(backend, STORE, placed.order.updated_at, lifetime_s=100)
    assert next(after).event == "ready"  # nothing changed after it
    after.close()


def test_a_store_stream_resumes_at_most_fifteen_minutes_back(backend):
    with pytest.raises(DomainError) as refused:
        store_updates(backend, STORE, backend.now() - timedelta(minutes=16), lifetime_s=100)
    assert (refused.value.code, [(e.field, e.message) for e in refused.value.errors]) == (
        "validation_failed",
        [("query.since", "more than 15 minutes ago")],
    )
    assert backend.live.listeners == []


def test_each_event_says_where_the_next_stream_resumes_without_missing_a_change():
    arrivals = iter([T0 + timedelta(seconds=30), T0 + timedelta(seconds=90)])
    deliveries = []

    def subscribe(deliver):
        deliveries.append(deliver)
        deliver(["first"])
        return Listener()

    updates = stream(subscribe, as_orders, clock=lambda: next(arrivals), lifetime_s=100, resume_from=T0, wait_s=0.001)
    first, ready = next(updates), next(updates)
    # the first snapshot arrived at T0+30 s: what changed up to SETTLED before that is in it
    assert (first.value, first.resume, ready.resume) == (
        "first",
        T0 + timedelta(seconds=20),
        T0 + timedelta(seconds=20),
    )
    deliveries[0](["later"])
    later = next(updates)
    assert (later.value, later.resume) == ("later", T0 + timedelta(seconds=90) - SETTLED)
    updates.close()


def test_the_order_stream_needs_the_orders_token_and_sends_it_as_its_customer_sees_it(backend):
    placed = place(backend)
    with pytest.raises(DomainError) as stranger:
        order_updates(backend, placed.order.id, "not-its-token", lifetime_s=100)
    assert stranger.value.code == "order_not_found"
    updates = order_updates(backend, placed.order.id, placed.access_token, lifetime_s=100)
    now, ready = next(updates), next(updates)
    assert (now.event, now.value, now.resume, ready.event) == ("order", OrderView(placed.order, (), ()), None, "ready")
    accept(backend, placed.order.id)
    assert next(updates).value.order.status == "accepted"
    updates.close()


def test_events_are_framed_as_server_sent_events(backend):
    placed = place(backend)
    view = OrderView(placed.order, ())
    resume = datetime(2026, 3, 2, 12, 0, 5, 250000, tzinfo=UTC)
    assert frame(Pushed("order", view, resume)) == (
        f"event: order\nid: 2026-03-02T12:00:05.250000+00:00\ndata: {order_out(view).model_dump_json()}\n\n".encode()
    )
    assert frame(Pushed("order", view)) == f"event: order\ndata: {order_out(view).model_dump_json()}\n\n".encode()
    assert frame(Pushed("ready", resume=resume)) == b"event: ready\nid: 2026-03-02T12:00:05.250000+00:00\ndata: {}\n\n"
    assert frame(KEEP_ALIVE) == b": keep-alive\n\n"
    on_its_way = Tracking("out_for_delivery", "Europe/Berlin", "Max", Position(50.1, 8.6, 12.5, T0, 3), 30, 4)
    assert frame(Pushed("tracking", on_its_way)) == (
        b'event: tracking\ndata: {"status":"out_for_delivery","driver":{"first_name":"Max"},'
        b'"position":{"lat":50.1,"lng":8.6,"at":"2026-03-02T13:00:00+01:00"},"stale_seconds":30,"eta_minutes":4}\n\n'
    )


def test_a_stream_that_fails_mid_way_ends_and_unsubscribes(backend):
    listener = Listener()

    def failing(orders):
        raise RuntimeError("the database went away")

    def subscribe(deliver):
        deliver([])
        deliver(["boom"])
        return listener

    updates = stream(subscribe, lambda records: failing(records) if records else [], clock=lambda: T0, lifetime_s=100)
    assert list(framed(updates)) == [b"event: ready\ndata: {}\n\n"]
    assert listener.closed


def test_a_listener_reads_one_document_per_change_and_one_when_it_finds_nothing(backend):
    quiet = store_updates(backend, STORE, None, lifetime_s=100)
    next(quiet)
    assert backend.live.reads.counts() == {"listeners": 1, "documents": 0, "reads": 1}
    placed = place(backend)
    backend.live.changed(placed.order.id)
    next(quiet)
    quiet.close()
    follow = order_updates(backend, placed.order.id, placed.access_token, lifetime_s=100)
    next(follow)
    follow.close()
    assert backend.live.reads.counts() == {"listeners": 2, "documents": 2, "reads": 3}


@pytest.mark.usefixtures("moment")  # the delivery store open, the clock at test_tours.NOW
def test_while_the_order_is_out_for_delivery_its_stream_tells_where_the_driver_is_and_nothing_after(backend):
    placed = delivery_order(backend)
    tour = plan(backend, placed, destinations={placed.order.id: RÖMER})
    updates = order_updates(backend, placed.order.id, placed.access_token, lifetime_s=100)
    assert [next(updates).event for _ in range(2)] == ["order", "ready"]  # ready: no tour followed yet

    start_tour(TourStep(STORE_WITH_DELIVERY, tour.id, DRIVER), backend)
    backend.live.changed(placed.order.id)
    out = next(updates)
    assert (out.event, out.value.order.status) == ("order", "out_for_delivery")
    first = next(updates)  # the tour's listener, opened as the order went out, tells it as it is
    assert (first.event, first.value) == ("tracking", Tracking("out_for_delivery", "Europe/Berlin", "Max"))

    sent = at(1, lat=50.2106, lng=8.6821, seconds=-30)  # 11 km north of the door, taken 30 s ago
    send(backend, tour.id, sent)
    backend.live.tour_changed(tour.id)
    moved = next(updates).value
    assert (moved.driver_name, moved.position, moved.stale_seconds, moved.eta_minutes) == ("Max", sent, 30, 34)

    deliver_order(DeliverOrder(STORE_WITH_DELIVERY, tour.id, placed.order.id, DRIVER), backend)
    backend.live.changed(placed.order.id)
    delivered, after = next(updates), next(updates)
    assert (delivered.value.order.status, after.event, after.value) == (
        "delivered",
        "tracking",
        Tracking("delivered", "Europe/Berlin"),
    )
    tour_listener = next(listener for listener in backend.live.listeners if listener.kind is Tour)
    assert tour_listener.closed  # the driver's positions are nobody's business once it is delivered
    updates.close()
    assert all(listener.closed for listener in backend.live.listeners)
