"""Live updates: a store's orders, and one order, pushed to a page as they change while its stream lasts.

A page asks once and is then told each change (http/live_routes.py frames them as server-sent
events) instead of asking again every few seconds. The feed (adapters/live_feed.py) listens to the
database on exactly what the stream shows, on a thread of its own; the stream hands each change from
that thread to the request's through a queue and unsubscribes however it ends.

While an order is out for delivery its stream also listens to the tour that carries it, and tells
its customer where the driver is each time the driver's device sends a position (`tracking`).

A stream lasts a bounded time (under the function's request timeout), then the page opens the next
one. A store's stream says where the next one resumes (`Pushed.resume`, the `since` of the next):
every change up to that moment has been sent, so a page that resumes from it misses nothing and
reads nothing twice but the last seconds.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..domain.errors import DomainError, FieldError
from ..domain.orders import Order
from ..domain.tours import OUT_FOR_DELIVERY, STARTED
from .order_views import OrderView, customer_order, linked_customers, refunds_by_order, sold_card_codes
from .tour_ports import TourUnitOfWork
from .tour_positions import tracking_of

KEEP_ALIVE_S = 15.0  # a quiet stream says it is still there this often (proxies close silent ones)
WAIT_S = 1.0  # how often a waiting stream checks that its listener still listens
# A change is in the database, and with every listener, this long after the time it carries: that
# time is taken before the commit (which may take seconds) on an instance whose clock may differ.
SETTLED = timedelta(seconds=10)
# How far back a store's stream resumes: a page away for longer fills its board afresh.
REPLAY_WINDOW = timedelta(minutes=15)

Deliver = Callable[[list[Any]], None]  # the records that changed: orders, or a tour


class Subscription(Protocol):
    @property
    def listening(self) -> bool:
        """False once the database ended the listener (the stream ends; its page opens another)."""

    def close(self) -> None:
        """Stops listening; nothing is delivered after it returns."""


class LiveFeed(Protocol):
    """The database's own change notifications, one listener per stream."""

    def store_orders(self, store_id: str, changed_after: datetime, deliver: Deliver) -> Subscription:
        """The store's orders changed after `changed_after`: `deliver` gets those changed already at
        once (an empty list when there are none), then each order again as it changes."""

    def order(self, order_id: str, deliver: Deliver) -> Subscription:
        """One order: `deliver` gets it as it is now, then again each time it changes."""

    def tour(self, tour_id: str, deliver: Deliver) -> Subscription:
        """One tour: `deliver` gets it as it is now, then again each time it changes (its driver's
        latest position moves it)."""


class LiveUnitOfWork(TourUnitOfWork, Protocol):
    live: LiveFeed


@dataclass(frozen=True)
class Pushed:
    """One thing a stream tells its page: an `order` changed (`value`, an OrderView), where its driver
    is (`tracking`, a Tracking), the stream is `ready` (everything before it was sent), a `keep-alive`,
    or its `end`."""

    event: str
    value: Any = None
    # a store's stream: where the next stream resumes (its `since`) and misses nothing
    resume: datetime | None = None


KEEP_ALIVE = Pushed("keep-alive")
Shown = Iterable[tuple[str, Any]]  # (event, value) for each record delivered


def store_updates(uow: LiveUnitOfWork, store_id: str, since: datetime | None, lifetime_s: float) -> Iterator[Pushed]:
    """The store's orders as staff see them, each time one changes, for `lifetime_s` seconds: first
    those changed after `since` (a page resuming), else after the last few seconds (a page that
    reads the whole board once this stream is ready)."""
    now = uow.now()
    if since is not None and since < now - REPLAY_WINDOW:
        minutes = int(REPLAY_WINDOW.total_seconds() // 60)
        raise DomainError(
            "validation_failed",
            f"A stream resumes at most {minutes} minutes back: read the orders afresh and start anew.",
            [FieldError("query.since", f"more than {minutes} minutes ago")],
        )
    start = since if since is not None else now - SETTLED

    def staff_views(orders: list[Order]) -> Shown:
        refunds = refunds_by_order(uow, [order.id for order in orders])
        linked = linked_customers(uow, store_id, orders)
        return [("order", OrderView(order, refunds[order.id], customer_id=linked.get(order.id))) for order in orders]

    return stream(
        lambda deliver: uow.live.store_orders(store_id, start, deliver),
        staff_views,
        clock=uow.now,
        lifetime_s=lifetime_s,
        resume_from=start,
    )


def order_updates(uow: LiveUnitOfWork, order_id: str, token: str | None, lifetime_s: float) -> Iterator[Pushed]:
    """The order as its customer sees it, now and each time it changes, and while it is out for
    delivery where its driver is, for `lifetime_s` seconds; the same 404 as reading it unless the
    token is the order's own."""
    customer_order(uow, order_id, token)  # before anything streams: a stranger gets a plain 404
    followed = FollowedOrder(uow, order_id, token or "")
    return stream(followed.subscribe, followed.show, clock=uow.now, lifetime_s=lifetime_s)


class FollowedOrder:
    """One order for its customer and, while it is out for delivery, the tour that carries it: the
    tour's listener is opened when the order goes out and closed when it is back or delivered. The
    listeners deliver on their threads; `show` runs on the stream's."""

    def __init__(self, uow: LiveUnitOfWork, order_id: str, token: str):
        self._uow, self._order_id, self._token = uow, order_id, token
        self._deliver: Callable[[Any], None] | None = None
        self._order_listener: Subscription | None = None
        self._tour_listener: Subscription | None = None
        self._order: Order | None = None

    def subscribe(self, deliver: Callable[[Any], None]) -> Subscription:
        self._deliver = deliver
        self._order_listener = self._uow.live.order(self._order_id, lambda orders: deliver(("order", orders)))
        return self

    @property
    def listening(self) -> bool:
        tour_listening = self._tour_listener is None or self._tour_listener.listening
        return self._order_listener is not None and self._order_listener.listening and tour_listening

    def close(self) -> None:
        for listener in (self._order_listener, self._tour_listener):
            if listener is not None:
                listener.close()

    def show(self, delivered: tuple[str, list[Any]]) -> Shown:
        kind, records = delivered
        for record in records:
            if kind == "tour":
                yield "tracking", tracking_of(self._order, record, self._uow.now())
                continue
            self._order = record
            refunds = refunds_by_order(self._uow, [record.id])[record.id]
            yield "order", OrderView(record, refunds, sold_card_codes(self._uow, record, self._token))
            yield from self._follow_tour(record)

    def _follow_tour(self, order: Order) -> Shown:
        if order.status == OUT_FOR_DELIVERY and self._tour_listener is None:
            carrying = self._uow.tours.carrying([order.id])
            tour = next((t for t in carrying if t.status == STARTED and t.store_id == order.store_id), None)
            if tour is None:
                yield "tracking", tracking_of(order, None, self._uow.now())
                return
            deliver = self._deliver
            self._tour_listener = self._uow.live.tour(tour.id, lambda tours: deliver(("tour", tours)))
        elif order.status != OUT_FOR_DELIVERY and self._tour_listener is not None:
            self._tour_listener.close()
            self._tour_listener = None
            yield "tracking", tracking_of(order, None, self._uow.now())  # nothing more to show


def stream(
    subscribe: Callable[[Callable[[Any], None]], Subscription],
    show: Callable[[Any], Shown],
    *,
    clock: Callable[[], datetime],
    lifetime_s: float,
    resume_from: datetime | None = None,
    keep_alive_s: float = KEEP_ALIVE_S,
    wait_s: float = WAIT_S,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[Pushed]:
    """What a page is pushed for `lifetime_s` seconds: each delivery `show`n as its events, `ready`
    after the first, a keep-alive after `keep_alive_s` of quiet, `end` when the time is up. With
    `resume_from` (a store's stream) each carries where the next stream resumes: a delivery's records
    all changed after the moment it arrived less SETTLED, so resuming from there misses none of those
    not sent yet. It listens from the first item asked for (a stream never started never subscribes)
    and unsubscribes however it ends."""
    arrivals: queue.SimpleQueue[tuple[datetime, Any]] = queue.SimpleQueue()
    subscription = subscribe(lambda delivered: arrivals.put((clock(), delivered)))
    try:
        ends = monotonic() + lifetime_s
        quiet_since = monotonic()
        resume, ready = resume_from, False
        while (left := ends - monotonic()) > 0:
            try:
                arrived, delivered = arrivals.get(timeout=min(wait_s, left))
            except queue.Empty:
                if not subscription.listening:
                    return
                if monotonic() - quiet_since >= keep_alive_s:
                    yield KEEP_ALIVE
                    quiet_since = monotonic()
                continue
            if resume is not None:
                resume = max(resume, arrived - SETTLED)
            for event, value in show(delivered):
                yield Pushed(event, value, resume)
            if not ready:
                yield Pushed("ready", resume=resume)
                ready = True
            quiet_since = monotonic()
        if resume is not None and ready and arrivals.empty():  # everything that arrived was sent
            resume = max(resume, clock() - SETTLED)
        yield Pushed("end", resume=resume)
    finally:
        subscription.close()
