"""Who works in which store: invitations by e-mail and the memberships they become.

An e-mail address belongs to at most one store. Whichever store first invites it holds it (an
`EmailHolder`) while the invitation is pending and for as long as the person is a member; a revoked
or expired invitation, or a removed member, lets it go. An invitation is answered with a secret token
sent only to that address, kept as its hash, good once and for seven days. A store keeps at least one
owner.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .errors import DomainError

INVITATION_LIFETIME = timedelta(days=7)
MEMBER_ROLES = ("owner", "supervisor", "staff", "finance", "driver")  # a driver acts on its own tours only
OWNER = "owner"


def token_hash(token: str) -> str:
    """What an invitation's token is kept as: the token itself is only in the e-mail."""
    return hashlib.sha256(token.encode()).hexdigest()


def email_key(email: str) -> str:
    """The id an address is held under (lower-cased before: addresses are compared that way)."""
    return hashlib.sha256(email.encode()).hexdigest()


@dataclass(frozen=True)
class Invitation:
    id: str
    store_id: str
    email: str  # normalised (lower case)
    role: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    invited_by: str  # uid of who invited
    status: str = "pending"  # pending | accepted | revoked
    closed_at: datetime | None = None  # when it was accepted or revoked

    def status_at(self, now: datetime) -> str:
        """`expired` is what a pending invitation becomes by itself after its lifetime."""
        if self.status == "pending" and now >= self.expires_at:
            return "expired"
        return self.status

    def open_at(self, now: datetime) -> bool:
        return self.status_at(now) == "pending"

    def accepted(self, now: datetime) -> Invitation:
        return replace(self, status="accepted", closed_at=now)

    def revoked(self, now: datetime) -> Invitation:
        return replace(self, status="revoked", closed_at=now)


def new_invitation(
    *, invitation_id: str, store_id: str, email: str, role: str, token: str, now: datetime, invited_by: str
) -> Invitation:
    if role not in MEMBER_ROLES:
        raise DomainError("validation_failed", f"role must be one of {', '.join(MEMBER_ROLES)}")
    return Invitation(
        invitation_id, store_id, email, role, token_hash(token), now, now + INVITATION_LIFETIME, invited_by
    )


@dataclass(frozen=True)
class EmailHolder:
    """The store an address belongs to, and through what: a pending invitation or a membership."""

    email: str
    store_id: str
    invitation_id: str | None = None  # while only invited
    uid: str | None = None  # once a member


@dataclass(frozen=True)
class Membership:
    uid: str
    email: str
    store_id: str
    role: str
    since: datetime


def holder_is_live(holder: EmailHolder | None, invitation: Invitation | None, now: datetime) -> bool:
    """Whether `holder` still holds its address: a member does; an invitation only while pending."""
    if holder is None:
        return False
    if holder.uid is not None:
        return True
    return invitation is not None and invitation.open_at(now)


def check_address_free(
    email: str, store_id: str, holder: EmailHolder | None, holder_invitation: Invitation | None, now: datetime
) -> None:
    """`email_taken` if another store holds the address; `already_member` if it is a member here."""
    if not holder_is_live(holder, holder_invitation, now):
        return
    if holder.store_id != store_id:
        raise DomainError("email_taken", "This e-mail address belongs to another store: ask for another address.")
    if holder.uid is not None:
        raise DomainError("already_member", f"{email} is a member of this store already.")


def check_acceptance(invitation: Invitation | None, email: str | None, email_verified: bool, now: datetime) -> None:
    """The person accepting must be the one invited, by a verified address, in time, once."""
    if invitation is None or not invitation.open_at(now):
        raise DomainError("invitation_gone", "This invitation was used, revoked or has expired.")
    if not email_verified or (email or "").lower() != invitation.email:
        raise DomainError(
            "invitation_email_mismatch", "Sign in with the verified e-mail address the invitation was sent to."
        )


def check_keeps_an_owner(members: list[Membership], uid: str, new_role: str | None) -> None:
    """`last_owner` if the change (a new role, or removal: None) would leave the store without one."""
    owners = [member for member in members if member.role == OWNER]
    if [member.uid for member in owners] == [uid] and new_role != OWNER:
        raise DomainError("last_owner", "A store keeps at least one owner: make another member owner first.")
