"""Delivery tours: a driver takes some of a store's delivery orders out, delivers them one by one and
comes back; where the driver is meanwhile, and how far that is from a customer's door.

A tour is `planned` by staff (a driver and up to 20 delivery orders), `started` by its driver (every
order goes out for delivery), and `finished` (an order not delivered comes back to the store, ready
again; a planned tour finished before it started took nothing out). Positions come from the driver's
device, numbered by it (`seq`) and timed by it (`at`): the newest by (seq, at) is the tour's latest,
which is forgotten when the tour finishes. No I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from .errors import DomainError, FieldError
from .orders import Order

PLANNED, STARTED, FINISHED = "planned", "started", "finished"
OUT_FOR_DELIVERY = "out_for_delivery"  # the status of an order while its tour is on its way
DRIVER = "driver"  # the role that acts on its own tours only
DELIVERY = "delivery"  # the fulfilment type of an order a tour may carry
# an order may join a tour while the kitchen still works on it; it leaves only once accepted
PLANNABLE = ("placed", "paid", "accepted", "ready")
MAX_ORDERS = 20  # a start commits every order with its journal entry and archive marker at once
MAX_POSITIONS = 100  # per call: a device that lost the network sends its backlog in one go
HISTORY_LIFETIME = timedelta(hours=24)  # a position's history record expires this long after it came
TOWN_SPEED_KMH = 20  # in a straight line through town, stops and traffic lights included
EARTH_RADIUS_KM = 6371.0088  # the mean radius
MAX_NAME = 40
NAME_PART = re.compile(r"[^\W\d_]+")  # letters only: "max.mustermann" → "max", "fahrer7" → "fahrer"


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float


@dataclass(frozen=True)
class Position:
    """Where the driver's device was at `at`, by its own count `seq`."""

    lat: float
    lng: float
    accuracy: float | None  # metres, as the device reports it
    at: datetime
    seq: int

    @property
    def rank(self) -> tuple[int, datetime]:
        """What orders positions: the device's count first, its clock only between equal counts."""
        return (self.seq, self.at)

    @property
    def point(self) -> Point:
        return Point(self.lat, self.lng)


@dataclass(frozen=True)
class Tour:
    id: str
    store_id: str
    driver_uid: str
    driver_name: str  # the first name the customers see
    order_ids: tuple[str, ...]
    status: str
    created_at: datetime
    destinations: Mapping[str, Point] = field(default_factory=dict)  # order id → where it goes, where known
    delivered: tuple[str, ...] = ()  # order ids, in the order they were delivered
    started_at: datetime | None = None
    finished_at: datetime | None = None
    latest: Position | None = None


def first_name(text: str | None) -> str | None:
    """The first word of what staff typed, as the customer sees it."""
    words = (text or "").split()
    return words[0][:MAX_NAME] if words else None


def name_of_email(email: str | None) -> str | None:
    """A first name from an e-mail address's local part: `max.mustermann@…` → `Max`."""
    found = NAME_PART.search((email or "").partition("@")[0])
    return found.group(0)[:MAX_NAME].capitalize() if found else None


def new_tour(
    tour_id: str,
    driver_uid: str,
    driver_name: str,
    orders: Sequence[Order],
    destinations: Mapping[str, Point],
    now: datetime,
) -> Tour:
    """A planned tour of the store's delivery orders, each still to leave the store."""
    ids = [order.id for order in orders]
    problems = [
        FieldError(f"destinations.{key}", "not an order of this tour") for key in destinations if key not in ids
    ]
    if not 1 <= len(ids) <= MAX_ORDERS or len(set(ids)) != len(ids):
        problems.append(FieldError("order_ids", f"1 to {MAX_ORDERS} different orders"))
    for index, order in enumerate(orders):
        if order.fulfilment.type != DELIVERY:
            problems.append(FieldError(f"order_ids[{index}]", "not a delivery order"))
    if problems:
        raise DomainError("validation_failed", "These orders cannot make a tour.", problems)
    for order in orders:
        if order.status not in PLANNABLE:
            raise DomainError("invalid_transition", f"Order {order.id} is {order.status}: it cannot join a tour.")
    return Tour(tour_id, orders[0].store_id, driver_uid, driver_name, tuple(ids), PLANNED, now, dict(destinations))


def check_free(order_ids: Iterable[str], tours: Iterable[Tour]) -> None:
    """`order_in_tour` if an order is on a tour that has not finished."""
    wanted = set(order_ids)
    for tour in tours:
        taken = sorted(wanted.intersection(tour.order_ids))
        if tour.status != FINISHED and taken:
            raise DomainError(
                "order_in_tour", f"Order {taken[0]} is on tour {tour.id} already.", extra={"tour_id": tour.id}
            )


def check_acting_on(tour: Tour, actor: Mapping[str, Any]) -> None:
    """A driver acts on its own tours only; staff on any of the store's."""
    if actor.get("role") == DRIVER and actor.get("uid") != tour.driver_uid:
        raise DomainError("forbidden", f"Tour {tour.id} is another driver's.")


def check_driven_by(tour: Tour, uid: str) -> None:
    """Positions come from the tour's own driver only, whatever their role."""
    if uid != tour.driver_uid:
        raise DomainError("forbidden", f"Tour {tour.id} is another driver's: only its driver sends positions.")


def started(tour: Tour, now: datetime) -> Tour:
    if tour.status != PLANNED:
        raise DomainError("invalid_transition", f"Tour {tour.id} is {tour.status}: only a planned tour starts.")
    return replace(tour, status=STARTED, started_at=now)


def check_started(tour: Tour) -> None:
    if tour.status != STARTED:
        raise DomainError("tour_not_started", f"Tour {tour.id} is {tour.status}, not on its way.")


def check_carries(tour: Tour, order_id: str) -> None:
    if order_id not in tour.order_ids:
        raise DomainError("order_not_found", f"Tour {tour.id} does not carry order {order_id}.")


def with_delivered(tour: Tour, order_id: str) -> Tour:
    check_started(tour)
    check_carries(tour, order_id)
    return tour if order_id in tour.delivered else replace(tour, delivered=(*tour.delivered, order_id))


def finished(tour: Tour, now: datetime) -> Tour:
    """Over: its latest position is forgotten (the history expires by itself)."""
    return replace(tour, status=FINISHED, finished_at=now, latest=None)


def distinct(positions: Iterable[Position]) -> tuple[Position, ...]:
    """Each seq once, as first sent: a device that sends one again sends the same position."""
    seen: dict[int, Position] = {}
    for position in positions:
        seen.setdefault(position.seq, position)
    return tuple(seen.values())


def newer_latest(tour: Tour, positions: Iterable[Position]) -> Position | None:
    """The newest of `positions` if it is newer than the tour's latest; None if it is not."""
    newest = max(positions, key=lambda position: position.rank, default=None)
    if newest is None or (tour.latest is not None and newest.rank <= tour.latest.rank):
        return None
    return newest


def distance_km(a: Point, b: Point) -> float:
    """Along the earth's surface (haversine)."""
    lat_a, lat_b = math.radians(a.lat), math.radians(b.lat)
    half_chord = (
        math.sin((lat_b - lat_a) / 2) ** 2
        + math.cos(lat_a) * math.cos(lat_b) * math.sin(math.radians(b.lng - a.lng) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(half_chord)))


def eta_minutes(position: Position, destination: Point) -> int:
    """Whole minutes, rounded up, in a straight line at town speed (stops on the way not counted)."""
    return math.ceil(distance_km(position.point, destination) / TOWN_SPEED_KMH * 60)


def stale_seconds(position: Position, now: datetime) -> int:
    """How old the position is; a device clock ahead of ours counts as now."""
    return max(0, int((now - position.at).total_seconds()))
