"""Which browser origins may call the customer endpoints: configured per store.

Cached like the catalog (a few seconds per process), so a changed `cors_origins` reaches every warm
instance within that time.
"""

from __future__ import annotations

from ..domain.ids import is_id
from .backend import backend
from .lazy import TtlCache
from .repository import CATALOG_TTL

_any_store: TtlCache[bool] = TtlCache(CATALOG_TTL)  # origin → allowed by some store


def origin_allowed(origin: str, path: str) -> bool:
    parts = path.split("/")
    if len(parts) > 3 and parts[2] == "stores":
        if not is_id(parts[3]):
            return False
        store, _ = backend().catalog.get(parts[3])
        return store is not None and origin in store.cors_origins
    # paths without a store (an order's page) admit the origins of any store
    return _any_store.get(origin, lambda: backend().stores.admitting(origin))
