"""The kitchen workflow staff drive, a delivery order's moves with its tour, and the expiry of unpaid
online orders."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .changes import OrderChange
from .errors import DomainError
from .events import OrderCanceled, OrderDelivered, OrderOutForDelivery, OrderRejected, OrderReturned, model_for
from .journal import JournalEvent
from .orders import Order

STAFF_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "awaiting_payment": ("rejected",),
    "paid": ("accepted", "rejected"),
    "placed": ("accepted", "rejected"),
    "accepted": ("ready",),
    "ready": ("completed",),
}

# A delivery order moves with its tour (services/tours.py), never by a status change of its own: out
# with the tour's start, delivered by its driver, back to ready when the tour finishes without it.
TOUR_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "accepted": ("out_for_delivery",),
    "ready": ("out_for_delivery",),
    "out_for_delivery": ("delivered", "ready"),
}
TOUR_EVENTS = {"out_for_delivery": OrderOutForDelivery, "delivered": OrderDelivered, "ready": OrderReturned}


def staff_transition(order: Order, target: str, now: datetime, reason: str | None = None) -> OrderChange:
    if order.status == target:
        return OrderChange(None)
    if target not in STAFF_TRANSITIONS.get(order.status, ()):
        raise DomainError("invalid_transition", f"An order that is {order.status} cannot become {target}.")
    changed = replace(order, status=target, updated_at=now)
    moved = {"order_id": order.id, "from_": order.status, "to": target}
    refund = 0
    if target == "rejected":
        event = OrderRejected(**moved, reason=reason)
        if order.payment_status == "paid" and order.payment_method == "online":
            # declined after the customer paid: all of it goes back, except gift cards it sold:
            # they are active and may be spent already, so the customer keeps them
            refund = order.totals.total - order.totals.giftcards_sold
            status = "refunded" if refund == order.totals.total else "partially_refunded"
            changed = replace(changed, payment_status=status, refunded_amount=refund)
        changed = replace(changed, expires_at=None)
    else:
        event = model_for(f"order.{target}")(**moved)
    return OrderChange(changed, (JournalEvent.of(event),), refund_amount=refund, refund_reason="rejected")


def expire(order: Order, now: datetime) -> OrderChange:
    """Cancel an online order nobody paid within its window; anything else is left alone."""
    due = order.expires_at is not None and order.expires_at <= now
    if order.status != "awaiting_payment" or order.payment_status != "unpaid" or not due:
        return OrderChange(None)
    canceled = replace(order, status="canceled", expires_at=None, updated_at=now)
    return OrderChange(canceled, (JournalEvent.of(OrderCanceled(order_id=order.id, reason="expired")),))


def tour_transition(order: Order, target: str, tour_id: str, now: datetime) -> OrderChange:
    """The order moved by its tour: `out_for_delivery`, `delivered`, or back to `ready`."""
    if target not in TOUR_TRANSITIONS.get(order.status, ()):
        raise DomainError("invalid_transition", f"An order that is {order.status} cannot become {target}.")
    moved = TOUR_EVENTS[target](order_id=order.id, from_=order.status, to=target, tour_id=tour_id)
    return OrderChange(replace(order, status=target, updated_at=now), (JournalEvent.of(moved),))
