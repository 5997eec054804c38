"""Store passkeys (6-digit PINs) guarding sensitive actions, with a lockout after 5 wrong tries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import DomainError

PROTECTABLE = ("void_unpaid", "refund", "discount", "customer_data")
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class PasskeyState:
    protect: tuple[str, ...]
    failures: int
    locked_until: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def passkey_needed(state: PasskeyState | None, action: str, role: str, staff_needs_it: bool) -> bool:
    """Protected actions need it from everyone; some actions need it from plain staff always."""
    if staff_needs_it and role == "staff":
        return True
    return state is not None and action in state.protect


def check_attempt(state: PasskeyState | None, offered: str | None, now: datetime) -> None:
    """Refusals before the PIN is even compared: no passkey set, locked, or none offered."""
    if state is None:
        raise DomainError("passkey_required", "This action needs a store passkey, and none is set.")
    if state.locked(now):
        raise DomainError("passkey_locked", "Too many wrong passkeys: locked for 15 minutes.")
    if not offered:
        raise DomainError("passkey_required", "Send the store passkey in X-Passkey.")


def after_failure(state: PasskeyState, now: datetime) -> tuple[int, datetime | None]:
    """(failures, locked_until) after one more wrong passkey."""
    failures = state.failures + 1
    return failures, (now + LOCKOUT if failures >= MAX_FAILURES else state.locked_until)
