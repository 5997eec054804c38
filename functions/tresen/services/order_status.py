"""Staff moving an order through the kitchen: accepted, ready, completed, or rejected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..adapters.backend import Backend
from ..domain.changes import OrderChange
from ..domain.orders import Order
from ..domain.workflow import staff_transition
from .order_changes import change_order
from .orders import OrderView, catalog_or_404, with_refunds


def change_status(
    backend: Backend, store_id: str, order_id: str, target: str, actor: Mapping[str, Any], reason: str | None
) -> OrderView:
    store, _ = catalog_or_404(backend, store_id)
    now = backend.now()

    def decide(order: Order) -> OrderChange:
        return staff_transition(order, target, now, reason)

    return with_refunds(backend, change_order(backend, store, order_id, decide, actor, now).order)
