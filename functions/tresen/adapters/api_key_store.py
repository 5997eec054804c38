"""API keys in the document store: `api_keys/{sha256 of the secret}`, top-level, so that
authentication finds a key from the bearer token alone and can tell a key of another store (403)
from no key at all (401)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..domain.api_keys import ApiKey
from ..services.documents import Doc, Documents
from ..services.setup_ports import StoredKey
from .repository import as_aware

API_KEYS = "api_keys"


def api_key_path(key_hash: str) -> str:
    return f"{API_KEYS}/{key_hash}"


def key_to_doc(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "store_id": key.store_id,
        "name": key.name,
        "scopes": list(key.scopes),
        "created_at": key.created_at,
        "created_by": dict(key.created_by),
        "revoked_at": key.revoked_at,
        "last_used_at": key.last_used_at,
    }


def key_from_doc(doc: Mapping[str, Any]) -> ApiKey:
    def moment(name: str) -> datetime | None:
        return as_aware(doc[name]) if doc.get(name) else None

    return ApiKey(
        id=doc["id"],
        store_id=doc["store_id"],
        name=doc["name"],
        scopes=tuple(doc["scopes"]),
        created_at=as_aware(doc["created_at"]),
        created_by=doc["created_by"],
        revoked_at=moment("revoked_at"),
        last_used_at=moment("last_used_at"),
    )


def stored_key(doc: Doc) -> StoredKey:
    return StoredKey(doc.id, key_from_doc(doc.data), doc.version)


class DocumentApiKeys:
    """services/setup_ports.py `ApiKeys`."""

    def __init__(self, docs: Documents):
        self.docs = docs

    def by_hash(self, key_hash: str) -> StoredKey | None:
        found = self.docs.get(api_key_path(key_hash))
        return stored_key(found) if found else None

    def of_store(self, store_id: str) -> list[ApiKey]:
        return [key_from_doc(doc.data) for doc in self.docs.query(API_KEYS, where=[("store_id", "==", store_id)])]

    def in_store(self, store_id: str, key_id: str) -> StoredKey | None:
        found = self.docs.query(API_KEYS, where=[("store_id", "==", store_id), ("id", "==", key_id)], limit=1)
        return stored_key(found[0]) if found else None
