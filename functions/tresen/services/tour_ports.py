"""What the delivery-tour use cases read through, as protocols: the tours and the history of their
drivers' positions (adapters/tour_store.py implements them), and the unit of work as they see it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .order_ports import OrderUnitOfWork

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from ..domain.tours import Tour
    from .membership_ports import Members

Version = Any  # opaque: what a guarded write names as "the version I read"


class Tours(Protocol):
    def read(self, tour_id: str) -> tuple[Tour, Version] | None:
        """The tour, whichever store it is of, with the version read."""

    def of_store(self, store_id: str, status: str, driver_uid: str | None = None) -> list[Tour]:
        """The store's tours in this status (of this driver, if named), oldest first."""

    def carrying(self, order_ids: Sequence[str]) -> list[Tour]:
        """Every tour, finished or not, that carries any of these orders (at most 30 at once)."""

    def recorded(self, tour_id: str, seqs: Sequence[int]) -> set[int]:
        """Which of these seqs the tour's history holds already."""


class TourUnitOfWork(OrderUnitOfWork, Protocol):
    tours: Tours
    members: Members
