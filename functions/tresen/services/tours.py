"""Delivery tours: planned by staff, started, delivered order by order and finished by their driver.

Each step is one commit through the store's writer, journaled: the tour with every order it moves
(`tour.*`; `order.out_for_delivery`, `order.delivered`, `order.returned`), each order changed as every
order change is (services/order_changes.py `change_orders`), all or nothing. The tour is read afresh
in every attempt of the commit: its driver's positions move its latest position meanwhile
(services/tour_positions.py), which changes its version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.changes import OrderChange
from ..domain.errors import DomainError, FieldError
from ..domain.events import TourFinished, TourPlanned, TourStarted
from ..domain.journal import JournalEvent
from ..domain.orders import Order
from ..domain.tours import (
    DRIVER,
    FINISHED,
    OUT_FOR_DELIVERY,
    STARTED,
    Point,
    Tour,
    check_acting_on,
    check_carries,
    check_free,
    check_started,
    finished,
    first_name,
    name_of_email,
    new_tour,
    started,
    with_delivered,
)
from ..domain.workflow import tour_transition
from .order_changes import Changed, ChangeOrders, change_orders
from .order_ports import catalog_or_404
from .tour_ports import TourUnitOfWork, Version
from .unit_of_work import Claims, Plan, Writes


@dataclass(frozen=True)
class PlanTour:
    store_id: str
    driver_uid: str
    driver_name: str | None  # as staff typed it; None: from the e-mail address of the driver's membership
    order_ids: tuple[str, ...]
    destinations: Mapping[str, Point]  # order id → where it goes, where staff know it
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class TourStep:
    """Start or finish a tour: its driver, or staff."""

    store_id: str
    tour_id: str
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class DeliverOrder:
    store_id: str
    tour_id: str
    order_id: str
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class TourView:
    """A tour with the orders it carries: where each goes, whom to hand it to, what to collect."""

    tour: Tour
    orders: tuple[Order, ...]


def tour_in_store(uow: TourUnitOfWork, store_id: str, tour_id: str) -> tuple[Tour, Version]:
    found = uow.tours.read(tour_id)
    if found is None or found[0].store_id != store_id:
        raise DomainError("tour_not_found", f"Store {store_id} has no tour {tour_id!r}.")
    return found


def tour_for(uow: TourUnitOfWork, store_id: str, tour_id: str, actor: Mapping[str, Any]) -> tuple[Tour, Version]:
    """The store's tour, if the actor may act on it."""
    tour, version = tour_in_store(uow, store_id, tour_id)
    check_acting_on(tour, actor)
    return tour, version


def driver_name(uow: TourUnitOfWork, store_id: str, uid: str, typed: str | None) -> str:
    """What staff typed, else what the driver's e-mail address begins with."""
    name = first_name(typed)
    if name is None and (member := uow.members.get(store_id, uid)):
        name = name_of_email(member[0].email)
    if name is None:
        missing = FieldError("driver_name", "required: the driver is not a member of the store by e-mail")
        raise DomainError("validation_failed", "Name the driver: customers see the first name.", [missing])
    return name


def plan_tour(command: PlanTour, uow: TourUnitOfWork) -> Tour:
    store, _ = catalog_or_404(uow, command.store_id)
    name = driver_name(uow, store.id, command.driver_uid, command.driver_name)
    orders = [uow.orders.read_in_store(store.id, order_id)[0] for order_id in command.order_ids]
    now = uow.now()
    tour = new_tour(uow.new_id("tour_"), command.driver_uid, name, orders, command.destinations, now)
    check_free(tour.order_ids, uow.tours.carrying(tour.order_ids))
    planned = TourPlanned(tour_id=tour.id, driver_uid=tour.driver_uid, order_ids=list(tour.order_ids))

    def build(_claims: Claims) -> Plan[Tour]:
        writes = Writes(command.actor)
        writes.tour(tour)
        return Plan(tour, now, command.actor, [JournalEvent.of(planned)], writes)

    return uow.commit(store.id, build).result


def start_tour(command: TourStep, uow: TourUnitOfWork) -> Tour:
    """Every order of the tour goes out for delivery (each accepted or ready), or none does."""
    store, _ = catalog_or_404(uow, command.store_id)
    tour, _ = tour_for(uow, store.id, command.tour_id, command.actor)
    if tour.status == STARTED:
        return tour  # a start sent again: its first answer did not arrive
    now = uow.now()

    def decide(order: Order) -> OrderChange:
        return tour_transition(order, OUT_FOR_DELIVERY, tour.id, now)

    def along(_changed: list[Changed]) -> Plan[Tour]:
        current, version = tour_in_store(uow, store.id, tour.id)
        going = started(current, now)
        writes = Writes(command.actor)
        writes.tour(going, version)
        return Plan(going, now, command.actor, [JournalEvent.of(TourStarted(tour_id=tour.id))], writes)

    return change_orders(ChangeOrders(store, tour.order_ids, decide, command.actor, now), uow, along)[1]


def deliver_order(command: DeliverOrder, uow: TourUnitOfWork) -> Tour:
    store, _ = catalog_or_404(uow, command.store_id)
    tour, _ = tour_for(uow, store.id, command.tour_id, command.actor)
    check_started(tour)
    check_carries(tour, command.order_id)
    if command.order_id in tour.delivered:
        return tour  # delivered before: its first answer did not arrive
    now = uow.now()

    def decide(order: Order) -> OrderChange:
        return tour_transition(order, "delivered", tour.id, now)

    def along(_changed: list[Changed]) -> Plan[Tour]:
        current, version = tour_in_store(uow, store.id, tour.id)
        handed_over = with_delivered(current, command.order_id)
        writes = Writes(command.actor)
        writes.tour(handed_over, version)
        return Plan(handed_over, now, command.actor, [], writes)

    return change_orders(ChangeOrders(store, (command.order_id,), decide, command.actor, now), uow, along)[1]


def finish_tour(command: TourStep, uow: TourUnitOfWork) -> Tour:
    """Over: what is still out comes back ready; a planned tour finishes having taken nothing out."""
    store, _ = catalog_or_404(uow, command.store_id)
    tour, _ = tour_for(uow, store.id, command.tour_id, command.actor)
    if tour.status == FINISHED:
        return tour
    now = uow.now()

    def decide(order: Order) -> OrderChange:
        if order.status != OUT_FOR_DELIVERY:  # delivered, or it never left
            return OrderChange(None)
        return tour_transition(order, "ready", tour.id, now)

    def along(changed: list[Changed]) -> Plan[Tour]:
        current, version = tour_in_store(uow, store.id, tour.id)
        if current.status == FINISHED:  # finished meanwhile by someone else: nothing more to say
            return Plan(current, now, command.actor, [])
        returned = [each.order.id for each in changed if each.changed]
        event = TourFinished(tour_id=tour.id, delivered=list(current.delivered), returned=returned)
        over = finished(current, now)
        writes = Writes(command.actor)
        writes.tour(over, version)
        return Plan(over, now, command.actor, [JournalEvent.of(event)], writes)

    return change_orders(ChangeOrders(store, tour.order_ids, decide, command.actor, now), uow, along)[1]


def tours_of_store(uow: TourUnitOfWork, store_id: str, status: str, actor: Mapping[str, Any]) -> list[Tour]:
    """The store's tours in this status; a driver sees its own only."""
    catalog_or_404(uow, store_id)
    return uow.tours.of_store(store_id, status, actor.get("uid") if actor.get("role") == DRIVER else None)


def tour_view(uow: TourUnitOfWork, store_id: str, tour_id: str, actor: Mapping[str, Any]) -> TourView:
    catalog_or_404(uow, store_id)
    tour, _ = tour_for(uow, store_id, tour_id, actor)
    return TourView(tour, tuple(uow.orders.read_in_store(store_id, order_id)[0] for order_id in tour.order_ids))
