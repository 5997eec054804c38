"""What the merchant portal needs from the identity provider (Firebase Auth), as a protocol: the
account of an e-mail address, whose password only the provider ever sees, and the `stores` claim
that mirrors a person's memberships into their ID token for the Firestore rules. The adapters
implement it (adapters/identity_directory.py: Firebase, and the in-memory twin of the use-case tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class UnknownAccount(LookupError):
    """No account has this uid (deleted in the provider's console, say)."""


@dataclass(frozen=True)
class AccountSetup:
    """What the invited person's page needs to set their password and prove their address: the
    codes of the provider's own e-mail links, which the page sends back to the provider."""

    uid: str
    password_code: str  # the oobCode of a password-reset link: the page sets the password with it
    verify_code: str | None  # the oobCode of an e-mail verification link; None if already verified


class IdentityDirectory(Protocol):
    def account_setup(self, email: str) -> AccountSetup:
        """The account of this address, created without a password if there is none, and fresh
        codes for it."""

    def set_store_roles(self, uid: str, stores: dict[str, str]) -> None:
        """The account's `stores` claim (store id → role) replaced by `stores`; its other claims
        (`platform`) kept. Its next ID token carries it. Raises UnknownAccount."""

    def end_sessions(self, uid: str) -> None:
        """The account's refresh tokens revoked: its clients get no new ID token without signing
        in again. Raises UnknownAccount."""
