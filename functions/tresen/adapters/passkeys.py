"""Passkeys in Firestore (`passkeys/{store}`): an argon2 hash, the protected actions, and the
failure count and lock — in Firestore so the lock holds across instances and restarts."""

from __future__ import annotations

from datetime import datetime

from ..domain.passkeys import PasskeyState, after_failure, check_attempt
from ..services.documents import Documents
from .lazy import once
from .repository import as_aware


@once
def hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def passkey_path(store_id: str) -> str:
    return f"passkeys/{store_id}"


def load_state(docs: Documents, store_id: str) -> tuple[PasskeyState | None, dict]:
    found = docs.get(passkey_path(store_id))
    if found is None:
        return None, {}
    doc = found.data
    locked = doc.get("locked_until")
    return PasskeyState(tuple(doc["protect"]), doc.get("failures", 0), as_aware(locked) if locked else None), doc


def hashed(pin: str) -> str:
    return hasher().hash(pin)


def verify_passkey(
    docs: Documents, store_id: str, state: PasskeyState | None, doc: dict, offered: str | None, now: datetime
) -> None:
    """Checks `offered` against the state just loaded. Raises passkey_required / passkey_locked /
    passkey_invalid; a success resets the count."""
    from argon2.exceptions import InvalidHashError, VerificationError

    from ..domain.errors import DomainError

    check_attempt(state, offered, now)
    try:
        hasher().verify(doc["hash"], offered)
    except (VerificationError, InvalidHashError):
        failures, locked_until = after_failure(state, now)
        update_counts(docs, store_id, {"failures": failures, "locked_until": locked_until})
        raise DomainError("passkey_invalid", "Wrong passkey.") from None
    if state.failures:
        update_counts(docs, store_id, {"failures": 0, "locked_until": None})


def update_counts(docs: Documents, store_id: str, counts: dict) -> None:
    batch = docs.batch()
    batch.update(passkey_path(store_id), counts)
    batch.commit()
