"""The merchant portal's people: stores opened by the platform, their business details, invitations
by e-mail, members and their roles, and who the caller is — routes and their models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from werkzeug.wrappers import Response

from ..domain.catalog import Store
from ..domain.memberships import MEMBER_ROLES, Invitation, Membership
from ..domain.store_profile import Address, StoreProfile
from ..services import memberships, store_profile
from ..services.memberships import Accept, Accepted, ChangeRole, Invite
from ..services.platform_stores import CreateStore, create_store
from ..services.store_profile import SetStoreProfile
from . import models as m
from .billing_routes import portal_url
from .router import PLATFORM_ADMIN, SIGNED_IN, Call, current_uow, route, staff

DENIED = ("unauthenticated", "forbidden")
OWNER = staff("owner")
Role = Literal[MEMBER_ROLES]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
StoreId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")]
TaxNumber = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]  # as the tax office writes it
VatId = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Za-z0-9]{2,13}$")]


class AddressIn(m.Inbound):
    street: Line
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{5}$")]
    city: Line


class StoreIn(m.Inbound):
    store_id: StoreId = Field(description="lower-case letters, digits and dashes, 2-40 characters")
    name: Line
    address: AddressIn
    timezone: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+){0,2}$")] = "Europe/Berlin"
    tax_number: TaxNumber | None = None
    vat_id: VatId | None = None
    owner_email: Email
    plan: Literal["starter", "business", "enterprise"]


class StoreOut(m.Model):
    id: str
    name: str
    timezone: str
    address: list[str]


class AddressOut(m.Model):
    street: str
    postal_code: str
    city: str


class StoreProfileIn(m.Inbound):
    name: Line
    address: AddressIn
    tax_number: TaxNumber | None = Field(None, description="the Steuernummer; left out, null or empty: none")
    vat_id: VatId | None = Field(None, description="the USt-IdNr.; left out or null: none")


class StoreProfileOut(m.Model):
    name: str
    address: AddressOut | None = Field(
        description="null: the store's postal lines are of another shape (set by `tresen store`) until a PUT sets them"
    )
    tax_number: str | None
    vat_id: str | None


def profile_out(profile: StoreProfile) -> StoreProfileOut:
    address = profile.address
    shown = AddressOut(street=address.street, postal_code=address.postal_code, city=address.city) if address else None
    return StoreProfileOut(name=profile.name, address=shown, tax_number=profile.tax_number, vat_id=profile.vat_id)


class InvitationIn(m.Inbound):
    email: Email
    role: Role


class InvitationOut(m.Model):
    id: str
    email: str
    role: str
    status: Literal["pending", "accepted", "revoked", "expired"]
    expires_at: datetime


class InvitationList(m.Model):
    data: list[InvitationOut]
    next_cursor: str | None = None
    has_more: bool = False


class AcceptIn(m.Inbound):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AcceptedOut(m.Model):
    store_id: str
    role: str


class MemberOut(m.Model):
    uid: str
    email: str
    role: str
    since: datetime


class MemberList(m.Model):
    data: list[MemberOut]
    next_cursor: str | None = None
    has_more: bool = False


class RoleIn(m.Inbound):
    role: Role


class MeOut(m.Model):
    uid: str
    email: str | None
    stores: dict[str, str] = Field(description="store id → role, as Tresen keeps them (else the token's claim)")
    platform: Literal["admin"] | None


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        status=invitation.status_at(current_uow().now()),
        expires_at=invitation.expires_at,
    )


def member_out(member: Membership) -> MemberOut:
    return MemberOut(uid=member.uid, email=member.email, role=member.role, since=member.since)


@route(
    "POST",
    "/v1/platform/stores",
    summary="Open a store for a merchant on a plan; its owner is invited by e-mail",
    tag="staff",
    access=PLATFORM_ADMIN,
    body=StoreIn,
    response=StoreOut,
    present=lambda store: StoreOut(id=store.id, name=store.name, timezone=store.timezone, address=list(store.address)),
    status=201,
    errors=(*DENIED, "store_exists", "email_taken", "validation_failed"),
)
def post_store(call: Call) -> Store:
    body: StoreIn = call.body
    command = CreateStore(
        body.store_id,
        body.name,
        Address(body.address.street, body.address.postal_code, body.address.city),
        body.timezone,
        body.tax_number,
        body.vat_id,
        body.owner_email,
        body.plan,
        portal_url(),
        call.caller.actor(),
    )
    return create_store(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/profile",
    summary="The store's business details its receipts and invoices print: name, address, tax number, VAT id",
    tag="staff",
    access=staff("owner", "finance"),
    response=StoreProfileOut,
    present=profile_out,
    errors=(*DENIED, "store_not_found"),
)
def get_profile(call: Call) -> StoreProfile:
    return store_profile.profile_of(call.params["store"], call.uow)


@route(
    "PUT",
    "/v1/stores/{store}/profile",
    summary="Replace the store's business details (its licence invoices' recipient too)",
    tag="staff",
    access=OWNER,
    body=StoreProfileIn,
    response=StoreProfileOut,
    present=profile_out,
    errors=(*DENIED, "store_not_found", "validation_failed"),
)
def put_profile(call: Call) -> StoreProfile:
    body: StoreProfileIn = call.body
    address = Address(body.address.street, body.address.postal_code, body.address.city)
    # an emptied field of a form means none, as an absent one does
    profile = StoreProfile(body.name, address, body.tax_number or None, body.vat_id)
    return store_profile.set_profile(SetStoreProfile(call.params["store"], profile, call.caller.actor()), call.uow)


@route(
    "POST",
    "/v1/stores/{store}/invitations",
    summary="Invite someone by e-mail with a role (an address belongs to at most one store)",
    tag="staff",
    access=staff("owner", platform_admins=True),
    body=InvitationIn,
    response=InvitationOut,
    present=invitation_out,
    status=201,
    errors=(*DENIED, "store_not_found", "email_taken", "already_member", "validation_failed"),
)
def post_invitation(call: Call) -> Invitation:
    body: InvitationIn = call.body
    command = Invite(call.params["store"], body.email, body.role, portal_url(), call.caller.actor())
    return memberships.invite(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/invitations",
    summary="The store's invitations, newest first",
    tag="staff",
    access=OWNER,
    response=InvitationList,
    present=lambda found: InvitationList(data=[invitation_out(invitation) for invitation in found]),
    errors=(*DENIED, "store_not_found"),
)
def list_invitations(call: Call) -> list[Invitation]:
    return memberships.invitations_of(call.params["store"], call.uow)


@route(
    "DELETE",
    "/v1/stores/{store}/invitations/{invitation}",
    summary="Revoke a pending invitation: its link stops working",
    tag="staff",
    access=OWNER,
    response=InvitationOut,
    present=invitation_out,
    errors=(*DENIED, "store_not_found", "invitation_not_found"),
)
def delete_invitation(call: Call) -> Invitation:
    return memberships.revoke(call.params["store"], call.params["invitation"], call.caller.actor(), call.uow)


@route(
    "POST",
    "/v1/invitations/accept",
    summary="Accept an invitation, signed in with the invited and verified e-mail address",
    tag="staff",
    access=SIGNED_IN,
    body=AcceptIn,
    response=AcceptedOut,
    present=lambda accepted: AcceptedOut(store_id=accepted.store_id, role=accepted.role),
    errors=("unauthenticated", "invitation_gone", "invitation_email_mismatch"),
)
def accept_invitation(call: Call) -> Accepted:
    identity = call.caller.identity
    command = Accept(call.body.token, identity.uid, identity.email, identity.email_verified)
    return memberships.accept(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/members",
    summary="The store's members and their roles",
    tag="staff",
    access=OWNER,
    response=MemberList,
    present=lambda found: MemberList(data=[member_out(member) for member in found]),
    errors=(*DENIED, "store_not_found"),
)
def list_members(call: Call) -> list[Membership]:
    return memberships.members_of(call.params["store"], call.uow)


@route(
    "PUT",
    "/v1/stores/{store}/members/{uid}",
    summary="Change a member's role (effective on their next request)",
    tag="staff",
    access=OWNER,
    body=RoleIn,
    response=MemberOut,
    present=member_out,
    errors=(*DENIED, "store_not_found", "member_not_found", "last_owner"),
)
def put_member(call: Call) -> Membership:
    command = ChangeRole(call.params["store"], call.params["uid"], call.body.role, call.caller.actor())
    return memberships.change_role(command, call.uow)


@route(
    "DELETE",
    "/v1/stores/{store}/members/{uid}",
    summary="Remove a member (refused from their next request on); never the last owner",
    tag="staff",
    access=OWNER,
    status=204,
    errors=(*DENIED, "store_not_found", "member_not_found", "last_owner"),
)
def delete_member(call: Call) -> Response:
    command = ChangeRole(call.params["store"], call.params["uid"], None, call.caller.actor())
    memberships.change_role(command, call.uow)
    return Response(status=204)


@route(
    "GET",
    "/v1/me",
    summary="Who the signed-in caller is, and their role in each store",
    tag="staff",
    access=SIGNED_IN,
    response=MeOut,
    errors=("unauthenticated",),
)
def me(call: Call) -> MeOut:
    identity = call.caller.identity
    return MeOut(
        uid=identity.uid,
        email=identity.email,
        stores=dict(identity.stores),
        platform="admin" if identity.platform_admin else None,
    )
