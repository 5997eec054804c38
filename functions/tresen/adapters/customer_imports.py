"""Customer imports in the document store: `stores/{store}/customer_imports/{id}` holds the import's
state and counts; its failed rows, as the CSV handed back, in parts below a document's 1 MiB
(`…/errors/{n}`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..services.documents import Documents
from .repository import as_aware

ERRORS_PART = 900_000  # bytes of the errors CSV per document


def import_path(store_id: str, import_id: str) -> str:
    return f"stores/{store_id}/customer_imports/{import_id}"


def errors_path(store_id: str, import_id: str, part: int) -> str:
    return f"{import_path(store_id, import_id)}/errors/{part:04d}"


class DocumentCustomerImports:
    """services/customer_ports.py `CustomerImports`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def start(self, store_id: str, import_id: str, by: dict[str, Any], now: datetime) -> None:
        batch = self._docs.batch()
        counts = {"rows": None, "processed": 0, "create": 0, "update": 0, "unchanged": 0, "errors": 0}
        state = {"id": import_id, "store_id": store_id, "status": "running", "by": by, "error_parts": 0}
        batch.create(import_path(store_id, import_id), state | counts | {"created_at": now, "updated_at": now})
        batch.commit()

    def read(self, store_id: str, import_id: str) -> dict[str, Any] | None:
        found = self._docs.get(import_path(store_id, import_id))
        if found is None:
            return None
        doc = found.data
        return doc | {"created_at": as_aware(doc["created_at"]), "updated_at": as_aware(doc["updated_at"])}

    def keep_errors(self, store_id: str, import_id: str, csv: bytes) -> None:
        parts = [csv[start : start + ERRORS_PART] for start in range(0, len(csv), ERRORS_PART)]
        for number, part in enumerate(parts):  # one commit each: together they could pass 10 MiB
            batch = self._docs.batch()
            batch.set(errors_path(store_id, import_id, number), {"csv": part})
            batch.commit()
        batch = self._docs.batch()
        batch.update(import_path(store_id, import_id), {"error_parts": len(parts)})
        batch.commit()

    def errors(self, store_id: str, import_id: str) -> bytes:
        state = self.read(store_id, import_id)
        paths = [errors_path(store_id, import_id, n) for n in range(state["error_parts"] if state else 0)]
        return b"".join(doc.data["csv"] for doc in self._docs.get_all(paths) if doc)
