"""Invitations, the addresses stores hold, and memberships in the document store.

`invitations/{id}` (found by the hash of its token), `email_holders/{sha256 of the address}`,
`stores/{store}/members/{uid}` (a store's members, listed) and `user_roles/{uid}` (all of a person's
roles: the one read that authorises a signed-in person's request).
"""

from __future__ import annotations

from typing import Any

from ..domain.memberships import EmailHolder, Invitation, Membership, email_key
from ..services.documents import Documents


def invitation_path(invitation_id: str) -> str:
    return f"invitations/{invitation_id}"


def email_holder_path(email: str) -> str:
    return f"email_holders/{email_key(email)}"


def member_path(store_id: str, uid: str) -> str:
    return f"stores/{store_id}/members/{uid}"


def user_roles_path(uid: str) -> str:
    return f"user_roles/{uid}"


def invitation_to_doc(invitation: Invitation) -> dict[str, Any]:
    return {
        "store_id": invitation.store_id,
        "email": invitation.email,
        "role": invitation.role,
        "token_hash": invitation.token_hash,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "invited_by": invitation.invited_by,
        "status": invitation.status,
        "closed_at": invitation.closed_at,
    }


def invitation_from_doc(invitation_id: str, doc: dict[str, Any]) -> Invitation:
    return Invitation(
        invitation_id,
        doc["store_id"],
        doc["email"],
        doc["role"],
        doc["token_hash"],
        doc["created_at"],
        doc["expires_at"],
        doc["invited_by"],
        doc["status"],
        doc.get("closed_at"),
    )


def holder_to_doc(holder: EmailHolder) -> dict[str, Any]:
    return {
        "email": holder.email,
        "store_id": holder.store_id,
        "invitation_id": holder.invitation_id,
        "uid": holder.uid,
    }


def member_to_doc(member: Membership | None) -> dict[str, Any]:
    if member is None:
        return {}
    return {"uid": member.uid, "email": member.email, "role": member.role, "since": member.since}


def user_roles_to_doc(value: tuple[str, dict[str, str]]) -> dict[str, Any]:
    email, roles = value
    return {"email": email, "stores": roles}


class DocumentInvitations:
    def __init__(self, docs: Documents):
        self._docs = docs

    def get(self, invitation_id: str) -> tuple[Invitation, Any] | None:
        doc = self._docs.get(invitation_path(invitation_id))
        return (invitation_from_doc(doc.id, doc.data), doc.version) if doc else None

    def by_token_hash(self, token_hash: str) -> Invitation | None:
        found = self._docs.query("invitations", where=[("token_hash", "==", token_hash)], limit=1)
        return invitation_from_doc(found[0].id, found[0].data) if found else None

    def of_store(self, store_id: str) -> list[Invitation]:
        found = self._docs.query("invitations", where=[("store_id", "==", store_id)])
        invitations = [invitation_from_doc(doc.id, doc.data) for doc in found]
        return sorted(invitations, key=lambda invitation: (invitation.created_at, invitation.id), reverse=True)


class DocumentEmailHolders:
    def __init__(self, docs: Documents):
        self._docs = docs

    def get(self, email: str) -> tuple[EmailHolder, Any] | None:
        doc = self._docs.get(email_holder_path(email))
        if doc is None:
            return None
        data = doc.data
        return EmailHolder(data["email"], data["store_id"], data.get("invitation_id"), data.get("uid")), doc.version


class DocumentMembers:
    def __init__(self, docs: Documents):
        self._docs = docs

    def of_store(self, store_id: str) -> list[Membership]:
        found = self._docs.query(f"stores/{store_id}/members")
        members = [
            Membership(doc.id, doc.data["email"], store_id, doc.data["role"], doc.data["since"]) for doc in found
        ]
        return sorted(members, key=lambda member: (member.since, member.uid))

    def get(self, store_id: str, uid: str) -> tuple[Membership, Any] | None:
        doc = self._docs.get(member_path(store_id, uid))
        if doc is None:
            return None
        return Membership(uid, doc.data["email"], store_id, doc.data["role"], doc.data["since"]), doc.version

    def roles_of(self, uid: str) -> dict[str, str] | None:
        doc = self._docs.get(user_roles_path(uid))
        return dict(doc.data.get("stores") or {}) if doc else None
