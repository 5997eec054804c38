"""A driver's positions while the tour is on its way, and where a customer's order is now.

Positions are neither journaled nor committed through the store's writer: they are personal data,
arriving often (200 drivers every 5 s are 40 calls a second), and nothing about them is numbered or
counted, so they wait in no store's commit lane. A call reads the tour once — on its way, this
caller its driver; a cache could not tell that the tour finished a moment ago — and commits one batch: each position's
history record, create-only by its seq, and, only where the newest of them is newer than the tour's
latest, the latest, guarded by the version read. A seq sent again (a backlog resent after a lost
answer) is found recorded and left out; a tour that changed meanwhile is read once more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain.orders import Order
from ..domain.tours import (
    OUT_FOR_DELIVERY,
    STARTED,
    Position,
    Tour,
    check_driven_by,
    check_started,
    distinct,
    eta_minutes,
    newer_latest,
    stale_seconds,
)
from .documents import Conflict
from .order_views import customer_order
from .tour_ports import TourUnitOfWork
from .tours import tour_in_store
from .unit_of_work import RetryLater, Writes


@dataclass(frozen=True)
class RecordPositions:
    store_id: str
    tour_id: str
    driver_uid: str  # who sends them: only the tour's driver may
    positions: tuple[Position, ...]


@dataclass(frozen=True)
class Recorded:
    received: int  # positions in the call
    recorded: int  # of them, those new to the history (the others were recorded before)
    latest: Position | None  # the tour's latest now


@dataclass(frozen=True)
class Tracking:
    """What the customer sees of an order on its way: a position only while it is out for delivery."""

    status: str
    timezone: str  # the store's: times are shown in it
    driver_name: str | None = None
    position: Position | None = None
    stale_seconds: int | None = None
    eta_minutes: int | None = None  # only where the tour knows where the order goes


def record_positions(command: RecordPositions, uow: TourUnitOfWork) -> Recorded:
    received_at, fresh, moved = uow.now(), distinct(command.positions), False
    while True:
        tour, version = tour_in_store(uow, command.store_id, command.tour_id)
        check_driven_by(tour, command.driver_uid)
        check_started(tour)
        latest = newer_latest(tour, fresh)
        writes = Writes({})
        writes.tour_positions(tour.id, fresh, received_at)
        if latest is not None:
            writes.tour_latest(tour.id, latest, version)
        if not writes.ops:
            return Recorded(len(command.positions), 0, tour.latest)
        try:
            uow.commit_writes(writes)
        except Conflict as conflict:
            if conflict.kind == "exists":
                fresh = unrecorded(uow, tour, fresh)
            elif moved:  # read again once already: the device sends them again later
                raise RetryLater(f"tour {tour.id} changed twice while its positions were recorded") from None
            else:
                moved = True  # the tour changed since it was read: read it once more
            continue
        return Recorded(len(command.positions), len(fresh), latest or tour.latest)


def unrecorded(uow: TourUnitOfWork, tour: Tour, positions: tuple[Position, ...]) -> tuple[Position, ...]:
    """Those of `positions` the history does not hold yet."""
    recorded = uow.tours.recorded(tour.id, [position.seq for position in positions])
    if not recorded:  # the batch met something else that exists: not ours to skip
        raise RetryLater(f"tour {tour.id}: a position record exists that was not found")
    return tuple(position for position in positions if position.seq not in recorded)


def track_order(uow: TourUnitOfWork, order_id: str, token: str | None) -> Tracking:
    """For the holder of the order's token: its status, and while it is out for delivery its driver's
    first name and latest position, how old that is, and how far from the door in minutes."""
    order = customer_order(uow, order_id, token)
    tour = None
    if order.status == OUT_FOR_DELIVERY:
        carrying = uow.tours.carrying([order.id])
        tour = next((t for t in carrying if t.status == STARTED and t.store_id == order.store_id), None)
    return tracking_of(order, tour, uow.now())


def tracking_of(order: Order, tour: Tour | None, now: datetime) -> Tracking:
    """What the customer sees of the order on its way (the tracking endpoint and the order's live
    stream alike): the driver's first name and latest position, how old it is and how far from the
    door, only while the order is out for delivery with a tour on its way."""
    if order.status != OUT_FOR_DELIVERY or tour is None or tour.status != STARTED:
        return Tracking(order.status, order.timezone)
    latest, destination = tour.latest, tour.destinations.get(order.id)
    if latest is None:
        return Tracking(order.status, order.timezone, tour.driver_name)
    eta = eta_minutes(latest, destination) if destination else None
    return Tracking(order.status, order.timezone, tour.driver_name, latest, stale_seconds(latest, now), eta)
