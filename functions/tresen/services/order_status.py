"""Staff moving an order through the kitchen: accepted, ready, completed, or rejected."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.changes import OrderChange
from ..domain.orders import Order
from ..domain.workflow import staff_transition
from .order_changes import ChangeOrder, change_order
from .order_ports import OrderUnitOfWork, catalog_or_404
from .order_views import OrderView, with_refunds


@dataclass(frozen=True)
class ChangeStatus:
    store_id: str
    order_id: str
    target: str  # accepted, ready, completed or rejected
    actor: Mapping[str, Any]
    reason: str | None = None


def change_status(command: ChangeStatus, uow: OrderUnitOfWork) -> OrderView:
    store, _ = catalog_or_404(uow, command.store_id)
    now = uow.now()

    def decide(order: Order) -> OrderChange:
        return staff_transition(order, command.target, now, command.reason)

    changed = change_order(ChangeOrder(store, command.order_id, decide, command.actor, now), uow)
    return with_refunds(uow, changed.order)
