"""Closings in the document store: `stores/{store}/closings/{z:09d}`, the Z-report as the API shows it,
created once by its closing's commit (adapters/records.py)."""

from __future__ import annotations

from ..domain.closings import Closing, closing_from_dict
from ..services.documents import Documents


def closing_collection(store_id: str) -> str:
    return f"stores/{store_id}/closings"


def closing_path(store_id: str, z_number: int) -> str:
    return f"{closing_collection(store_id)}/{z_number:09d}"


class DocumentClosings:
    def __init__(self, docs: Documents):
        self._docs = docs

    def latest(self, store_id: str) -> Closing | None:
        found = self._docs.query(closing_collection(store_id), order_by=[("z_number", True)], limit=1)
        return closing_from_dict(found[0].data) if found else None

    def at(self, store_id: str, z_number: int) -> Closing | None:
        found = self._docs.get(closing_path(store_id, z_number)) if z_number > 0 else None
        return closing_from_dict(found.data) if found else None

    def page(self, store_id: str, limit: int, after_z: int) -> tuple[list[Closing], bool]:
        found = self._docs.query(
            closing_collection(store_id),
            where=[("z_number", ">", after_z)],
            order_by=[("z_number", False)],
            limit=limit + 1,
        )
        return [closing_from_dict(doc.data) for doc in found[:limit]], len(found) > limit
