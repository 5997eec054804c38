"""Passkeys in Firestore (`passkeys/{store}`): an argon2 hash, the protected actions, and the
failure count and lock — in Firestore so the lock holds across instances and restarts."""

from __future__ import annotations

from ..domain.passkeys import PasskeyState
from ..services.documents import Documents
from ..services.order_ports import StoredPasskey
from .lazy import once
from .repository import as_aware


@once
def hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def passkey_path(store_id: str) -> str:
    return f"passkeys/{store_id}"


class DocumentPasskeys:
    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str) -> StoredPasskey | None:
        found = self._docs.get(passkey_path(store_id))
        if found is None:
            return None
        doc = found.data
        locked = doc.get("locked_until")
        state = PasskeyState(tuple(doc["protect"]), doc.get("failures", 0), as_aware(locked) if locked else None)
        return StoredPasskey(state, doc["hash"])

    @staticmethod
    def hashed(pin: str) -> str:
        return hasher().hash(pin)

    @staticmethod
    def matches(stored_hash: str, offered: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return hasher().verify(stored_hash, offered)
        except (VerificationError, InvalidHashError):
            return False
