"""Promotions in the document store: `stores/{store}/promotions/{id}`, the hold on each code
`stores/{store}/promotion_codes/{CODE}` (`promotion_id`), and the uses, numbered like pickup
numbers: `stores/{store}/promotion_uses/{promotion id}-{n:09d}` (adapters/store_writer.py).

The store's promotions that have not ended are cached for a few seconds per process, like its
menu: every order needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from ..domain.promotions import AppliesTo, Promotion
from ..services.documents import Documents
from ..services.promotion_ports import PROMOTION_USES
from .lazy import TtlCache
from .repository import CATALOG_TTL, as_aware


def promotion_path(store_id: str, promotion_id: str) -> str:
    return f"stores/{store_id}/promotions/{promotion_id}"


def promotion_code_path(store_id: str, code: str) -> str:
    return f"stores/{store_id}/promotion_codes/{code}"


def promotion_to_doc(promotion: Promotion) -> dict[str, Any]:
    return asdict(promotion)


def promotion_from_doc(doc: Mapping[str, Any]) -> Promotion:
    applies_to = doc["applies_to"]
    return Promotion(
        **{
            **doc,
            "applies_to": AppliesTo(tuple(applies_to["products"]), tuple(applies_to["categories"])),
            "channels": tuple(doc["channels"]),
            "starts_at": as_aware(doc["starts_at"]),
            "ends_at": as_aware(doc["ends_at"]),
            "created_at": as_aware(doc["created_at"]),
            "ended_at": as_aware(doc["ended_at"]) if doc.get("ended_at") else None,
        }
    )


class DocumentPromotions:
    """services/promotion_ports.py `Promotions`."""

    def __init__(self, docs: Documents, ttl: float = CATALOG_TTL):
        self._docs = docs
        self.cache: TtlCache[list[Promotion]] = TtlCache(ttl)

    def live(self, store_id: str, now: datetime) -> list[Promotion]:
        return self.cache.get(store_id, lambda: self._not_ended(store_id, now))

    def refresh(self, store_id: str, now: datetime) -> None:
        self.cache.put(store_id, self._not_ended(store_id, now))

    def _not_ended(self, store_id: str, now: datetime) -> list[Promotion]:
        found = self._docs.query(f"stores/{store_id}/promotions", where=[("ends_at", ">", now)])
        return [promotion_from_doc(doc.data) for doc in found]

    def read(self, store_id: str, promotion_id: str) -> tuple[Promotion, Any] | None:
        found = self._docs.get(promotion_path(store_id, promotion_id))
        return (promotion_from_doc(found.data), found.version) if found else None

    def of_store(self, store_id: str) -> list[Promotion]:
        found = [promotion_from_doc(doc.data) for doc in self._docs.query(f"stores/{store_id}/promotions")]
        return sorted(found, key=lambda promotion: (promotion.created_at, promotion.id), reverse=True)

    def by_code(self, store_id: str, code: str) -> tuple[Promotion | None, Any]:
        hold = self._docs.get(promotion_code_path(store_id, code))
        if hold is None:
            return None, None
        found = self.read(store_id, hold.data["promotion_id"])
        return (found[0] if found else None), hold.version

    def uses(self, store_id: str, promotion_id: str) -> int:
        last = self._docs.query(
            f"stores/{store_id}/{PROMOTION_USES}",
            where=[("scope", "==", promotion_id)],
            order_by=[("n", True)],  # the composite index (scope, n desc), as the other counters'
            limit=1,
        )
        return last[0].data["n"] if last else 0
