"""What the promotion use cases and an order's pricing read of the store's promotions, as a
protocol (adapters/promotion_store.py implements it over the documents).

A promotion's uses are not a field of it: each use is a number of the counter `PROMOTION_USES`
scoped by the promotion's id (services/unit_of_work.py `Counter`), claimed in the commit of the
order that uses it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from ..domain.promotions import Promotion

PROMOTION_USES = "promotion_uses"
Version = Any  # opaque: what a guarded write names as "the version I read"


class Promotions(Protocol):
    def live(self, store_id: str, now: datetime) -> list[Promotion]:
        """The store's promotions not ended at `now`, as read in the last few seconds (every order
        needs them): an ended one may still be among them that long; `Promotion.ended` tells."""

    def refresh(self, store_id: str, now: datetime) -> None:
        """Reads them again now: a promotion made or ended here applies (or stops) at once here."""

    def read(self, store_id: str, promotion_id: str) -> tuple[Promotion, Version] | None:
        """The promotion read now, with the version read."""

    def of_store(self, store_id: str) -> list[Promotion]:
        """Every promotion of the store, ended ones too, newest first."""

    def by_code(self, store_id: str, code: str) -> tuple[Promotion | None, Version | None]:
        """The promotion the code names, read now, and the version of its hold on the code; (None,
        None) where no promotion of the store ever had it."""

    def uses(self, store_id: str, promotion_id: str) -> int:
        """How many orders have used it: its counter's last number, read now."""
