"""The store's TSS in the document store: `stores/{store}/tse/tss`, with its admin PIN (a secret:
firestore.rules let no client read it) and the tills registered as its clients."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..domain.tse import StoreTse, TseClient
from ..services.documents import Documents
from .repository import as_aware


def tse_path(store_id: str) -> str:
    return f"stores/{store_id}/tse/tss"


def tse_to_doc(tse: StoreTse) -> dict[str, Any]:
    return asdict(tse)


def tse_from_doc(doc: dict[str, Any]) -> StoreTse:
    clients = {
        client_id: TseClient(**(client | {"registered_at": as_aware(client["registered_at"])}))
        for client_id, client in doc.get("clients", {}).items()
    }
    installed = doc.get("installed_at")
    return StoreTse(**(doc | {"clients": clients, "installed_at": as_aware(installed) if installed else None}))


class DocumentTse:
    """services/tse_ports.py `StoreTses`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str) -> tuple[StoreTse, Any] | None:
        found = self._docs.get(tse_path(store_id))
        return (tse_from_doc(found.data), found.version) if found else None
