"""Delivery tours: planned and listed by staff, started, delivered and finished by their driver (or
staff), the driver's positions while on the way, and an order's tracking for its customer — routes and
their models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field, StringConstraints

from ..domain.orders import Order
from ..domain.tours import MAX_ORDERS, MAX_POSITIONS, STARTED, Point, Position, Tour
from ..services import tour_positions, tours
from ..services.tour_positions import Recorded, RecordPositions, Tracking
from ..services.tours import DeliverOrder, PlanTour, TourStep, TourView
from . import models as m
from .present import local_time
from .router import UNKNOWN, Call, current_uow, route, staff

UNKNOWN["tour"] = "tour_not_found"
DENIED = ("unauthenticated", "forbidden")
STAFF = staff("owner", "supervisor", "staff")
# a driver acts on its own tours only (the use cases check whose a tour is)
ON_TOURS = staff("owner", "supervisor", "staff", "driver")
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class PointIn(m.Inbound):
    lat: Latitude
    lng: Longitude


class TourIn(m.Inbound):
    driver_uid: m.Id = Field(description="the driver's user id (a member with the role `driver`, or staff)")
    order_ids: list[m.Id] = Field(min_length=1, max_length=MAX_ORDERS, description="delivery orders of the store")
    driver_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = Field(
        None, description="the driver's first name as customers see it; else from the member's e-mail address"
    )
    destinations: dict[m.Id, PointIn] = Field(
        default_factory=dict, max_length=MAX_ORDERS, description="order id → where it goes, for the customer's ETA"
    )


class PositionIn(m.Inbound):
    lat: Latitude
    lng: Longitude
    accuracy: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] | None = Field(
        None, description="metres, as the device reports it"
    )
    at: m.Time = Field(description="when the device took it")
    seq: int = Field(ge=0, lt=10**12, strict=True, description="the device's own count: the latest is the highest")


class PositionsIn(m.Inbound):
    positions: list[PositionIn] = Field(min_length=1, max_length=MAX_POSITIONS, description="in any order")


class PositionOut(m.Model):
    lat: float
    lng: float
    accuracy: float | None
    at: datetime
    seq: int


class TourOut(m.Model):
    id: str
    store_id: str
    status: Literal["planned", "started", "finished"]
    driver_uid: str
    driver_name: str
    order_ids: list[str]
    delivered_order_ids: list[str] = Field(description="in the order they were delivered")
    destinations: dict[str, dict[str, float]] = Field(description="order id → {lat, lng}, where staff gave one")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    latest_position: PositionOut | None = Field(description="while started: the newest the driver sent")


class TourList(m.Model):
    data: list[TourOut]


class StopOut(m.Model):
    """An order of the tour as its driver needs it."""

    order_id: str
    number: int
    status: m.OrderStatus
    address: str | None
    customer_name: str
    customer_phone: str | None
    payment_method: Literal["on_site", "online"]
    amount_due: int = Field(description="what the customer pays on delivery, where the payment method is on_site")


class TourDetail(TourOut):
    orders: list[StopOut]


class ToursQuery(m.Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    status: Literal["planned", "started"] = Field(STARTED, description="finished tours are not listed")


class RecordedOut(m.Model):
    received: int = Field(description="positions in the call")
    recorded: int = Field(description="of them, new to the tour's history (the rest were sent before)")
    latest_position: PositionOut | None


class TrackedPosition(m.Model):
    lat: float
    lng: float
    at: datetime


class DriverOut(m.Model):
    first_name: str


class TrackingOut(m.Model):
    status: m.OrderStatus
    driver: DriverOut | None = Field(description="while the order is out for delivery")
    position: TrackedPosition | None = Field(description="the driver's latest, while the order is out for delivery")
    stale_seconds: int | None = Field(description="how old the position is")
    eta_minutes: int | None = Field(description="straight line at 20 km/h to the order's destination, if known")


def position_out(position: Position | None, zone) -> PositionOut | None:
    if position is None:
        return None
    return PositionOut(**vars(position) | {"at": local_time(position.at, zone)})


def tour_out(tour: Tour) -> TourOut:
    zone = current_uow().catalog.get(tour.store_id)[0].zone  # cached: the use case has just read the store
    return TourOut(
        id=tour.id,
        store_id=tour.store_id,
        status=tour.status,
        driver_uid=tour.driver_uid,
        driver_name=tour.driver_name,
        order_ids=list(tour.order_ids),
        delivered_order_ids=list(tour.delivered),
        destinations={order_id: vars(point) for order_id, point in tour.destinations.items()},
        created_at=local_time(tour.created_at, zone),
        started_at=local_time(tour.started_at, zone),
        finished_at=local_time(tour.finished_at, zone),
        latest_position=position_out(tour.latest, zone),
    )


def stop_out(order: Order) -> StopOut:
    return StopOut(
        order_id=order.id,
        number=order.number,
        status=order.status,
        address=order.fulfilment.address,
        customer_name=order.customer.name,
        customer_phone=order.customer.phone,
        payment_method=order.payment_method,
        amount_due=order.amount_due,
    )


def tour_detail(view: TourView) -> TourDetail:
    return TourDetail(**tour_out(view.tour).model_dump(), orders=[stop_out(order) for order in view.orders])


def tracking_out(tracking: Tracking) -> TrackingOut:
    position, zone = tracking.position, ZoneInfo(tracking.timezone)
    return TrackingOut(
        status=tracking.status,
        driver=DriverOut(first_name=tracking.driver_name) if tracking.driver_name else None,
        position=TrackedPosition(lat=position.lat, lng=position.lng, at=local_time(position.at, zone))
        if position
        else None,
        stale_seconds=tracking.stale_seconds,
        eta_minutes=tracking.eta_minutes,
    )


@route(
    "POST",
    "/v1/stores/{store}/tours",
    summary="Plan a delivery tour: a driver and the delivery orders it takes out",
    tag="staff",
    access=STAFF,
    body=TourIn,
    response=TourOut,
    present=tour_out,
    status=201,
    errors=(*DENIED, "store_not_found", "order_not_found", "validation_failed", "invalid_transition", "order_in_tour"),
)
def plan(call: Call) -> Tour:
    body: TourIn = call.body
    destinations = {order_id: Point(point.lat, point.lng) for order_id, point in body.destinations.items()}
    store_id, order_ids = call.params["store"], tuple(body.order_ids)
    command = PlanTour(store_id, body.driver_uid, body.driver_name, order_ids, destinations, call.caller.actor())
    return tours.plan_tour(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/tours",
    summary="The store's tours on their way (or planned), each with its latest position; a driver's own only",
    tag="staff",
    access=ON_TOURS,
    query=ToursQuery,
    response=TourList,
    errors=(*DENIED, "store_not_found", "validation_failed"),
)
def listed(call: Call) -> TourList:
    query: ToursQuery = call.query
    found = tours.tours_of_store(call.uow, call.params["store"], query.status, call.caller.actor())
    return TourList(data=[tour_out(tour) for tour in found])


@route(
    "GET",
    "/v1/stores/{store}/tours/{tour}",
    summary="A tour with the orders it carries (addresses, customers, what to collect)",
    tag="staff",
    access=ON_TOURS,
    response=TourDetail,
    present=tour_detail,
    errors=(*DENIED, "store_not_found", "tour_not_found"),
)
def read(call: Call) -> TourView:
    return tours.tour_view(call.uow, call.params["store"], call.params["tour"], call.caller.actor())


@route(
    "POST",
    "/v1/stores/{store}/tours/{tour}/start",
    summary="The driver leaves: every order of the tour goes out for delivery",
    tag="staff",
    access=ON_TOURS,
    response=TourOut,
    present=tour_out,
    errors=(*DENIED, "store_not_found", "tour_not_found", "invalid_transition"),
)
def start(call: Call) -> Tour:
    return tours.start_tour(TourStep(call.params["store"], call.params["tour"], call.caller.actor()), call.uow)


@route(
    "POST",
    "/v1/stores/{store}/tours/{tour}/orders/{order}/delivered",
    summary="The driver handed an order of the tour over",
    tag="staff",
    access=ON_TOURS,
    response=TourOut,
    present=tour_out,
    errors=(*DENIED, "store_not_found", "tour_not_found", "order_not_found", "tour_not_started", "invalid_transition"),
)
def delivered(call: Call) -> Tour:
    params = call.params
    command = DeliverOrder(params["store"], params["tour"], params["order"], call.caller.actor())
    return tours.deliver_order(command, call.uow)


@route(
    "POST",
    "/v1/stores/{store}/tours/{tour}/finish",
    summary="The tour is over: what was not delivered comes back ready",
    tag="staff",
    access=ON_TOURS,
    response=TourOut,
    present=tour_out,
    errors=(*DENIED, "store_not_found", "tour_not_found"),
)
def finish(call: Call) -> Tour:
    return tours.finish_tour(TourStep(call.params["store"], call.params["tour"], call.caller.actor()), call.uow)


@route(
    "POST",
    "/v1/stores/{store}/tours/{tour}/positions",
    summary="The tour's driver sends 1 to 100 positions (a backlog at once) while the tour is on its way",
    tag="staff",
    access=ON_TOURS,
    body=PositionsIn,
    response=RecordedOut,
    status=202,
    errors=(*DENIED, "tour_not_found", "tour_not_started", "validation_failed", "service_unavailable"),
)
def positions(call: Call) -> RecordedOut:
    body: PositionsIn = call.body
    sent = tuple(Position(p.lat, p.lng, p.accuracy, p.at, p.seq) for p in body.positions)
    command = RecordPositions(call.params["store"], call.params["tour"], call.caller.uid, sent)
    recorded: Recorded = tour_positions.record_positions(command, call.uow)
    zone = call.uow.catalog.get(call.params["store"])[0].zone
    return RecordedOut(
        received=recorded.received, recorded=recorded.recorded, latest_position=position_out(recorded.latest, zone)
    )


@route(
    "GET",
    "/v1/orders/{order}/tracking",
    summary="Where an order on its way is: its driver's latest position, for the customer holding its X-Order-Token",
    tag="customer",
    headers=("X-Order-Token",),
    response=TrackingOut,
    present=tracking_out,
    errors=("order_not_found",),
)
def tracking(call: Call) -> Tracking:
    return tour_positions.track_order(call.uow, call.params["order"], call.request.headers.get("X-Order-Token"))
