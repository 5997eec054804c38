"""Invitations and memberships: who may act in a store, as Tresen keeps it.

An owner (or a platform administrator, for a store's owner) invites an e-mail address with a role;
the e-mail with its single-use link and the invitation are committed together. The invited person
sets a password with Firebase Auth, signs in, and accepts with an ID token carrying the invited,
verified address. Tresen's record of a person's roles (`user_roles`) is what authorises their next
request; it is mirrored into the token's `stores` claim for the Firestore rules, best effort, since
a token only picks a claim up when it is next refreshed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from ..domain.errors import DomainError
from ..domain.events import (
    MemberInvitationRevoked,
    MemberInvited,
    MemberJoined,
    MemberRemoved,
    MemberRoleChanged,
)
from ..domain.journal import JournalEvent, pseudonym, rfc3339
from ..domain.mail import Mail
from ..domain.memberships import (
    EmailHolder,
    Invitation,
    Membership,
    check_acceptance,
    check_address_free,
    check_keeps_an_owner,
    new_invitation,
    token_hash,
)
from .membership_ports import PortalUnitOfWork
from .order_ports import catalog_or_404
from .ports import StaffIdentity
from .unit_of_work import AlreadyWritten, Claims, Plan, Writes

log = logging.getLogger(__name__)
PLATFORM_ADMIN = "platform_admin"


@dataclass(frozen=True)
class Invite:
    store_id: str
    email: str
    role: str
    portal_url: str  # where the invitation's link leads: the portal page
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class Accept:
    token: str
    uid: str
    email: str | None  # as the caller's ID token says
    email_verified: bool


@dataclass(frozen=True)
class Accepted:
    store_id: str
    role: str


@dataclass(frozen=True)
class ChangeRole:
    store_id: str
    uid: str
    role: str | None  # None: remove the member
    actor: Mapping[str, Any]


def normalized_email(email: str) -> str:
    from ..domain.customer_fields import normalize_email

    try:
        return normalize_email(email)
    except ValueError as error:
        raise DomainError("validation_failed", str(error)) from None


def invite(command: Invite, uow: PortalUnitOfWork) -> Invitation:
    """`email_taken` if another store holds the address (pending there or a member), `already_member`
    if it is one here. A pending invitation of the same address here is replaced by the new one."""
    store, _ = catalog_or_404(uow, command.store_id)
    if command.actor.get("role") == PLATFORM_ADMIN and command.role != "owner":
        raise DomainError("forbidden", "Platform administrators invite a store's owners; owners invite their staff.")
    email = normalized_email(command.email)
    held = holding_of(uow, email)
    check_address_free(email, store.id, held.holder, held.invitation, uow.now())  # before any account is made
    setup = uow.identity.account_setup(email)
    token, now, pii_key = uow.new_secret_token(), uow.now(), uow.stores.pii_key(store.id)
    invitation = new_invitation(
        invitation_id=uow.new_id("inv"),
        store_id=store.id,
        email=email,
        role=command.role,
        token=token,
        now=now,
        invited_by=str(command.actor.get("uid")),
    )
    link = (
        command.portal_url
        + "?"
        + urlencode(
            {"invitation": token, "setup": setup.password_code}
            | ({"verify": setup.verify_code} if setup.verify_code else {})
        )
    )

    def build(_claims: Claims) -> Plan[Invitation]:
        held = holding_of(uow, email)
        check_address_free(email, store.id, held.holder, held.invitation, now)
        writes = Writes(command.actor)
        events = [JournalEvent.of(invited_event(invitation, pii_key))]
        replaced = held.invitation
        if replaced is not None and replaced.open_at(now):  # a pending one here: the new one replaces it
            writes.invitation(replaced.revoked(now), held.invitation_version)
            events.insert(0, JournalEvent.of(MemberInvitationRevoked(invitation_id=replaced.id)))
        writes.invitation(invitation)
        writes.email_holder(EmailHolder(email, store.id, invitation_id=invitation.id), held.holder_version)
        writes.mail(invitation_mail(uow.new_id("mail"), invitation, store.name, link))
        return Plan(invitation, now, command.actor, events, writes)

    return uow.commit(store.id, build).result


@dataclass(frozen=True)
class Holding:
    """Who holds an address, as read: the holder and its pending invitation, with their versions."""

    holder: EmailHolder | None = None
    holder_version: Any = None
    invitation: Invitation | None = None
    invitation_version: Any = None


def holding_of(uow: PortalUnitOfWork, email: str) -> Holding:
    found = uow.email_holders.get(email)
    if found is None:
        return Holding()
    holder, version = found
    read = uow.invitations.get(holder.invitation_id) if holder.invitation_id else None
    return Holding(holder, version, *(read or (None, None)))


def invited_event(invitation: Invitation, pii_key: bytes) -> MemberInvited:
    return MemberInvited(
        invitation_id=invitation.id,
        email=pseudonym(pii_key, invitation.email),
        role=invitation.role,
        expires_at=rfc3339(invitation.expires_at),
    )


def invitation_mail(mail_id: str, invitation: Invitation, store_name: str, link: str) -> Mail:
    expires = invitation.expires_at.strftime("%d.%m.%Y %H:%M UTC")
    text = (
        f"Guten Tag,\n\nSie wurden eingeladen, bei {store_name} mit Tresen zu arbeiten "
        f"(Rolle: {invitation.role}).\n\nÜber diesen Link legen Sie Ihr Passwort fest und nehmen die "
        f"Einladung an:\n{link}\n\nDer Link gilt einmal, bis {expires}, und nur für diese E-Mail-Adresse.\n"
    )
    return Mail(mail_id, invitation.email, f"Einladung zu {store_name} (Tresen)", text)


def revoke(store_id: str, invitation_id: str, actor: Mapping[str, Any], uow: PortalUnitOfWork) -> Invitation:
    """A pending invitation withdrawn (its link stops working, its address is free again); one no
    longer pending is answered as it is."""
    store, _ = catalog_or_404(uow, store_id)
    now = uow.now()

    def build(_claims: Claims) -> Plan[Invitation]:
        read = uow.invitations.get(invitation_id)
        if read is None or read[0].store_id != store.id:
            raise DomainError("invitation_not_found", f"No invitation {invitation_id} in this store.")
        invitation, version = read
        writes = Writes(actor)
        if not invitation.open_at(now):
            return Plan(invitation, now, actor, [], writes)
        revoked = invitation.revoked(now)
        writes.invitation(revoked, version)
        held = uow.email_holders.get(invitation.email)
        if held is not None and held[0].invitation_id == invitation.id:
            writes.email_released(invitation.email)
        return Plan(
            revoked, now, actor, [JournalEvent.of(MemberInvitationRevoked(invitation_id=invitation.id))], writes
        )

    return uow.commit(store.id, build).result


def accept(command: Accept, uow: PortalUnitOfWork) -> Accepted:
    """410 `invitation_gone` for a token used, revoked, expired or never issued; 403
    `invitation_email_mismatch` unless the caller's verified address is the invited one."""
    now = uow.now()
    found = uow.invitations.by_token_hash(token_hash(command.token))
    check_acceptance(found, command.email, command.email_verified, now)
    actor = {"type": "staff", "uid": command.uid, "role": found.role}

    def build(_claims: Claims) -> Plan[Accepted]:
        invitation, version = uow.invitations.get(found.id)
        check_acceptance(invitation, command.email, command.email_verified, now)
        membership = Membership(command.uid, invitation.email, invitation.store_id, invitation.role, now)
        roles = (uow.members.roles_of(command.uid) or {}) | {invitation.store_id: invitation.role}
        held = uow.email_holders.get(invitation.email)
        writes = Writes(actor)
        writes.invitation(invitation.accepted(now), version)
        writes.email_holder(
            EmailHolder(invitation.email, invitation.store_id, uid=command.uid), held[1] if held else None
        )
        writes.member(membership, roles)
        joined = MemberJoined(invitation_id=invitation.id, uid=command.uid, role=invitation.role)
        return Plan(roles, now, actor, [JournalEvent.of(joined)], writes)

    try:
        roles = uow.commit(found.store_id, build).result
    except AlreadyWritten:  # the address was taken meanwhile: not by this invitation any more
        raise DomainError("invitation_gone", "This invitation was used, revoked or has expired.") from None
    mirror_roles(uow, command.uid, roles)
    return Accepted(found.store_id, found.role)


def members_of(store_id: str, uow: PortalUnitOfWork) -> list[Membership]:
    store, _ = catalog_or_404(uow, store_id)
    return uow.members.of_store(store.id)


def invitations_of(store_id: str, uow: PortalUnitOfWork) -> list[Invitation]:
    store, _ = catalog_or_404(uow, store_id)
    return uow.invitations.of_store(store.id)


def change_role(command: ChangeRole, uow: PortalUnitOfWork) -> Membership | None:
    """A member re-roled, or removed (`role` None): `last_owner` if the store would have none left.
    Effective on the member's next request; the removed person's address is free again."""
    store, _ = catalog_or_404(uow, command.store_id)
    now = uow.now()

    def build(_claims: Claims) -> Plan[tuple[Membership | None, dict[str, str]]]:
        read = uow.members.get(store.id, command.uid)
        if read is None:
            raise DomainError("member_not_found", f"No member {command.uid} in this store.")
        member = read[0]
        check_keeps_an_owner(uow.members.of_store(store.id), member.uid, command.role)
        roles = dict(uow.members.roles_of(member.uid) or {})
        writes = Writes(command.actor)
        if command.role is None:
            roles.pop(store.id, None)
            writes.member_removed(store.id, member.uid, member.email, roles)
            writes.email_released(member.email)
            event = MemberRemoved(uid=member.uid, role=member.role)
            return Plan((None, roles), now, command.actor, [JournalEvent.of(event)], writes)
        changed = replace(member, role=command.role)
        roles[store.id] = command.role
        writes.member(changed, roles)
        if changed == member:
            return Plan((changed, roles), now, command.actor, [], writes)
        event = MemberRoleChanged(uid=member.uid, role=command.role, previous_role=member.role)
        return Plan((changed, roles), now, command.actor, [JournalEvent.of(event)], writes)

    member, roles = uow.commit(store.id, build).result
    mirror_roles(uow, command.uid, roles)
    if member is None:
        try:
            uow.identity.end_sessions(command.uid)
        except Exception as error:  # Tresen refuses the person already; the claims only serve the rules
            log.warning("could not end the sessions of removed member %s: %r", command.uid, error)
    return member


def mirror_roles(uow: PortalUnitOfWork, uid: str, roles: Mapping[str, str]) -> None:
    """Tresen's record is what counts; the claim is for the Firestore rules and is made right the
    next time this person's roles change."""
    try:
        uow.identity.set_store_roles(uid, dict(roles))
    except Exception as error:
        log.warning("could not mirror the roles of %s into their token's claims: %r", uid, error)


def effective_identity(identity: StaffIdentity, kept: Mapping[str, str] | None) -> StaffIdentity:
    """The roles a request is checked by: Tresen's record of the person's memberships where it has
    one (their token's claim may be an hour old), else the token's own `stores` claim."""
    if kept is None:
        return identity
    return replace(identity, stores=dict(kept))
