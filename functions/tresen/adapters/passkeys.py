"""Passkeys in Firestore (`passkeys/{store}`): an argon2 hash, the protected actions, and the
failure count and lock — in Firestore so the lock holds across instances and restarts."""

from __future__ import annotations

from datetime import datetime

from ..domain.passkeys import PasskeyState, after_failure, check_attempt
from .lazy import once
from .repository import as_aware


@once
def hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def passkey_path(store_id: str) -> str:
    return f"passkeys/{store_id}"


def load_state(db, store_id: str) -> tuple[PasskeyState | None, dict]:
    snapshot = db.document(passkey_path(store_id)).get()
    if not snapshot.exists:
        return None, {}
    doc = snapshot.to_dict()
    locked = doc.get("locked_until")
    return PasskeyState(tuple(doc["protect"]), doc.get("failures", 0), as_aware(locked) if locked else None), doc


def hashed(pin: str) -> str:
    return hasher().hash(pin)


def verify_passkey(
    db, store_id: str, state: PasskeyState | None, doc: dict, offered: str | None, now: datetime
) -> None:
    """Checks `offered` against the state just loaded. Raises passkey_required / passkey_locked /
    passkey_invalid; a success resets the count."""
    from argon2.exceptions import InvalidHashError, VerificationError

    from ..domain.errors import DomainError

    check_attempt(state, offered, now)
    ref = db.document(passkey_path(store_id))
    try:
        hasher().verify(doc["hash"], offered)
    except (VerificationError, InvalidHashError):
        failures, locked_until = after_failure(state, now)
        ref.update({"failures": failures, "locked_until": locked_until})
        raise DomainError("passkey_invalid", "Wrong passkey.") from None
    if state.failures:
        ref.update({"failures": 0, "locked_until": None})
