"""Which browser origins may call the customer endpoints: configured per store."""

from __future__ import annotations

from functools import lru_cache

from ..domain.ids import is_id
from .firestore_client import db


@lru_cache(maxsize=1024)
def origin_allowed(origin: str, path: str) -> bool:
    parts = path.split("/")
    if len(parts) > 3 and parts[2] == "stores":
        if not is_id(parts[3]):
            return False
        snapshot = db().document(f"stores/{parts[3]}").get()
        return snapshot.exists and origin in (snapshot.to_dict().get("cors_origins") or [])
    from google.cloud.firestore import FieldFilter

    query = db().collection("stores").where(filter=FieldFilter("cors_origins", "array_contains", origin)).limit(1)
    return bool(query.get())
