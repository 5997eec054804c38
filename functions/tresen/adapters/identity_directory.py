"""The identity directory (services/identity_ports.py): Firebase Auth through firebase-admin, on the
app that verifies the staff tokens (adapters/identity.py), and its in-memory twin for the use-case
tests.

Passwords never pass through Tresen: the codes handed out are those of Firebase's own e-mail
action links, which the portal page sends straight to Identity Toolkit with the new password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from ..services.identity_ports import AccountSetup, UnknownAccount
from .identity import firebase_app


class FirebaseIdentityDirectory:
    def __init__(self) -> None:
        from firebase_admin import auth  # on first use: a quarter of a second to import

        # A client of its own on the shared app: firebase-admin fixes a client's endpoints when it
        # makes one, so this one talks to the Auth emulator named when the directory is made, even
        # where the app's first token check came before that emulator (the tests start theirs late).
        self._auth = auth.Client(firebase_app())

    def account_setup(self, email: str) -> AccountSetup:
        user = self._user_of(email)
        verify_code = None
        if not user.email_verified:
            verify_code = _oob_code(self._auth.generate_email_verification_link(email))
        return AccountSetup(user.uid, _oob_code(self._auth.generate_password_reset_link(email)), verify_code)

    def _user_of(self, email: str):
        from firebase_admin.auth import EmailAlreadyExistsError, UserNotFoundError

        try:
            return self._auth.get_user_by_email(email)
        except UserNotFoundError:
            pass
        try:
            return self._auth.create_user(email=email, email_verified=False)
        except EmailAlreadyExistsError:  # a concurrent invitation created it first
            return self._auth.get_user_by_email(email)

    def set_store_roles(self, uid: str, stores: dict[str, str]) -> None:
        from firebase_admin.auth import UserNotFoundError

        try:
            claims = dict(self._auth.get_user(uid).custom_claims or {})
            claims["stores"] = dict(stores)
            self._auth.set_custom_user_claims(uid, claims)
        except UserNotFoundError as error:
            raise UnknownAccount(uid) from error

    def end_sessions(self, uid: str) -> None:
        from firebase_admin.auth import UserNotFoundError

        try:
            self._auth.revoke_refresh_tokens(uid)
        except UserNotFoundError as error:
            raise UnknownAccount(uid) from error


def _oob_code(link: str) -> str:
    return parse_qs(urlsplit(link).query)["oobCode"][0]


@dataclass
class MemoryAccount:
    uid: str
    email: str  # lower-case, as Firebase keeps it
    email_verified: bool = False
    claims: dict[str, object] = field(default_factory=dict)


class MemoryIdentityDirectory:
    """Accounts in a dict, numbered uids (`uid-1`, …) and codes (`password-1`, `verify-2`, …) in the
    order they were handed out, so a test can name them; `codes` and `ended_sessions` record what
    the use cases asked for."""

    def __init__(self) -> None:
        self.accounts: dict[str, MemoryAccount] = {}  # by uid
        self.codes: dict[str, tuple[str, str]] = {}  # code → (uid, "password" or "verify")
        self.ended_sessions: list[str] = []  # uids, in call order

    def account_of(self, email: str) -> MemoryAccount | None:
        """The account of this address, matched without regard to case as Firebase matches it."""
        return next((a for a in self.accounts.values() if a.email == email.lower()), None)

    def account_setup(self, email: str) -> AccountSetup:
        account = self.account_of(email)
        if account is None:
            account = MemoryAccount(f"uid-{len(self.accounts) + 1}", email.lower())
            self.accounts[account.uid] = account
        verify_code = None if account.email_verified else self._code(account.uid, "verify")
        return AccountSetup(account.uid, self._code(account.uid, "password"), verify_code)

    def _code(self, uid: str, purpose: str) -> str:
        code = f"{purpose}-{len(self.codes) + 1}"
        self.codes[code] = (uid, purpose)
        return code

    def set_store_roles(self, uid: str, stores: dict[str, str]) -> None:
        self._account(uid).claims["stores"] = dict(stores)

    def end_sessions(self, uid: str) -> None:
        self._account(uid)
        self.ended_sessions.append(uid)

    def _account(self, uid: str) -> MemoryAccount:
        try:
            return self.accounts[uid]
        except KeyError:
            raise UnknownAccount(uid) from None
