"""Which browser origins may call the customer endpoints: configured per store.

Cached like the catalog (a few seconds per process), so a changed `cors_origins` reaches every warm
instance within that time.
"""

from __future__ import annotations

import time

from ..domain.ids import is_id
from .repository import CATALOG_TTL

_any_store: dict[str, tuple[float, bool]] = {}  # origin → (when looked up, allowed by some store)


def origin_allowed(origin: str, path: str) -> bool:
    from .backend import backend

    parts = path.split("/")
    if len(parts) > 3 and parts[2] == "stores":
        if not is_id(parts[3]):
            return False
        store, _ = backend().catalog.get(parts[3])
        return store is not None and origin in store.cors_origins
    return allowed_by_any_store(backend().db, origin)


def allowed_by_any_store(db, origin: str) -> bool:
    """Paths without a store (an order's page) admit the origins of any store."""
    cached = _any_store.get(origin)
    if cached is None or time.monotonic() - cached[0] > CATALOG_TTL:
        from google.cloud.firestore import FieldFilter

        query = db.collection("stores").where(filter=FieldFilter("cors_origins", "array_contains", origin)).limit(1)
        cached = _any_store[origin] = (time.monotonic(), bool(query.get()))
    return cached[1]
