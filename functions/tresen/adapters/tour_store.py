"""Delivery tours in the document store: `tours/{tour}` (with its latest position, cleared when it
finishes), and below it the history of its driver's positions, `tours/{tour}/positions/{seq:012d}`,
one create-only record per seq, each expiring a day after it came (Firestore's TTL policy on
`positions.expires_at`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..domain.tours import HISTORY_LIFETIME, Point, Position, Tour
from ..services.documents import Documents
from .repository import as_aware

TOURS = "tours"


def tour_path(tour_id: str) -> str:
    return f"{TOURS}/{tour_id}"


def position_path(tour_id: str, seq: int) -> str:
    return f"{TOURS}/{tour_id}/positions/{seq:012d}"


def position_fields(position: Position) -> dict[str, Any]:
    return {
        "lat": position.lat,
        "lng": position.lng,
        "accuracy": position.accuracy,
        "at": position.at,
        "seq": position.seq,
    }


def position_to_doc(position: Position, received_at: datetime) -> dict[str, Any]:
    return position_fields(position) | {"received_at": received_at, "expires_at": received_at + HISTORY_LIFETIME}


def latest_to_doc(latest: Position) -> dict[str, Any]:
    return {"latest": position_fields(latest)}


def position_from(fields: dict[str, Any]) -> Position:
    return Position(fields["lat"], fields["lng"], fields["accuracy"], as_aware(fields["at"]), fields["seq"])


def tour_to_doc(tour: Tour) -> dict[str, Any]:
    return {
        "id": tour.id,
        "store_id": tour.store_id,
        "driver_uid": tour.driver_uid,
        "driver_name": tour.driver_name,
        "order_ids": list(tour.order_ids),
        "status": tour.status,
        "created_at": tour.created_at,
        "destinations": {order_id: {"lat": p.lat, "lng": p.lng} for order_id, p in tour.destinations.items()},
        "delivered": list(tour.delivered),
        "started_at": tour.started_at,
        "finished_at": tour.finished_at,
        "latest": position_fields(tour.latest) if tour.latest else None,
    }


def tour_from_doc(doc: dict[str, Any]) -> Tour:
    return Tour(
        id=doc["id"],
        store_id=doc["store_id"],
        driver_uid=doc["driver_uid"],
        driver_name=doc["driver_name"],
        order_ids=tuple(doc["order_ids"]),
        status=doc["status"],
        created_at=as_aware(doc["created_at"]),
        destinations={order_id: Point(**point) for order_id, point in doc["destinations"].items()},
        delivered=tuple(doc["delivered"]),
        started_at=as_aware(doc["started_at"]) if doc["started_at"] else None,
        finished_at=as_aware(doc["finished_at"]) if doc["finished_at"] else None,
        latest=position_from(doc["latest"]) if doc["latest"] else None,
    )


class DocumentTours:
    """services/tour_ports.py `Tours`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, tour_id: str) -> tuple[Tour, Any] | None:
        found = self._docs.get(tour_path(tour_id))
        return (tour_from_doc(found.data), found.version) if found else None

    def of_store(self, store_id: str, status: str, driver_uid: str | None = None) -> list[Tour]:
        # equality filters only: Firestore serves them from its single-field indexes
        where = [("store_id", "==", store_id), ("status", "==", status)]
        if driver_uid is not None:
            where.append(("driver_uid", "==", driver_uid))
        tours = [tour_from_doc(doc.data) for doc in self._docs.query(TOURS, where=where)]
        return sorted(tours, key=lambda tour: (tour.created_at, tour.id))

    def carrying(self, order_ids: Sequence[str]) -> list[Tour]:
        found = self._docs.query(TOURS, where=[("order_ids", "array_contains_any", list(order_ids))])
        return [tour_from_doc(doc.data) for doc in found]

    def recorded(self, tour_id: str, seqs: Sequence[int]) -> set[int]:
        found = self._docs.get_all([position_path(tour_id, seq) for seq in seqs])
        return {seq for seq, doc in zip(seqs, found, strict=True) if doc}
