"""Stores opened by the platform, invitations and memberships in milliseconds, on the in-memory backend:
one address belongs to one store, a token works once and only for its address, a store keeps an
owner, and Tresen's record of a person's roles is what counts."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tresen.adapters import clock
from tresen.adapters.identity_directory import MemoryIdentityDirectory
from tresen.domain.errors import DomainError
from tresen.domain.journal import pseudonym
from tresen.domain.memberships import token_hash
from tresen.services.mail import deliver_all_due_mail
from tresen.services.memberships import Accept, ChangeRole, Invite, accept, change_role, invite, revoke
from tresen.services.platform_stores import Address, CreateStore, create_store

PORTAL = "http://127.0.0.1:8080/portal"
ADMIN = {"type": "staff", "uid": "admin-1", "role": "platform_admin"}
OWNER = {"type": "staff", "uid": "owner-1", "role": "owner"}


@pytest.fixture
def portal(backend):
    backend.identity = MemoryIdentityDirectory()
    return backend


def open_store(uow, store_id: str = "cafe-nord", owner_email: str = "Inhaberin@Example.de", plan: str = "business"):
    command = CreateStore(
        store_id,
        "Café Nord",
        Address("Nordstraße 5", "20095", "Hamburg"),
        "Europe/Berlin",
        "22/815/08151",
        "DE123456789",
        owner_email,
        plan,
        PORTAL,
        ADMIN,
    )
    return create_store(command, uow)


def journal(uow, store_id: str) -> list[dict]:
    return uow.journal.entries(store_id)


def sent_link(uow, to: str) -> dict[str, str]:
    """The query of the invitation link in the last mail sent to `to` (the outbox sent first)."""
    deliver_all_due_mail(uow)
    mails = [mail for mail, _ in uow.mail_sender.sent if mail.to == to]
    link = next(word for word in mails[-1].text.split() if word.startswith(PORTAL))
    return {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}


def uid_of(uow, email: str) -> str:
    """The Firebase user the invitation made for the address."""
    return uow.identity.account_of(email).uid


def joined(uow, store_id: str, email: str, role: str = "staff", actor=OWNER) -> str:
    """Invites `email` and accepts as its Firebase user; that user's uid."""
    invite(Invite(store_id, email, role, PORTAL, actor), uow)
    token = sent_link(uow, email)["invitation"]
    accept(Accept(token, uid_of(uow, email), email, True), uow)
    return uid_of(uow, email)


def test_a_store_opened_by_the_platform_has_its_profile_plan_and_owner_invited(portal):
    store = open_store(portal)

    assert store.address == ("Nordstraße 5", "20095 Hamburg")
    loaded, _ = portal.catalog.get("cafe-nord")  # what its receipts name it by
    assert (loaded.address, loaded.tax_number, loaded.vat_id) == (store.address, "22/815/08151", "DE123456789")
    profile, _ = portal.billing_profiles.get("cafe-nord")
    assert (profile.plan, profile.billing_email, profile.recipient.vat_id) == (
        "business",
        "inhaberin@example.de",
        "DE123456789",
    )
    [created, invited] = journal(portal, "cafe-nord")
    assert created["type"] == "store.created"
    assert created["data"] == {"name": "Café Nord", "plan": "business", "timezone": "Europe/Berlin"}
    assert invited["type"] == "member.invited"
    assert invited["data"]["role"] == "owner"
    pii_key = portal.stores.pii_key("cafe-nord")
    assert invited["data"]["email"] == pseudonym(pii_key, "inhaberin@example.de")  # never the address itself
    [subscribed] = journal(portal, "platform")
    assert subscribed["type"] == "licence.subscribed"
    assert subscribed["data"] == {"store_id": "cafe-nord", "plan": "business", "monthly_net": 7900}
    link = sent_link(portal, "inhaberin@example.de")
    [pending] = portal.invitations.of_store("cafe-nord")
    assert pending.token_hash == token_hash(link["invitation"])  # the token itself is kept nowhere
    owner = uid_of(portal, "inhaberin@example.de")
    assert portal.identity.codes[link["setup"]] == (owner, "password")  # Firebase's code to set a password
    assert portal.identity.codes[link["verify"]] == (owner, "verify")


def test_a_store_id_is_taken_once_and_platform_is_reserved(portal):
    open_store(portal)
    for store_id in ("cafe-nord", "platform"):
        with pytest.raises(DomainError) as refused:
            open_store(portal, store_id, owner_email="jemand@example.de")
        assert refused.value.code == "store_exists"


def test_an_address_belongs_to_one_store(portal):
    open_store(portal)
    open_store(portal, "cafe-sued", owner_email="sued@example.de")
    owner_south = {"type": "staff", "uid": "owner-2", "role": "owner"}

    with pytest.raises(DomainError) as pending_elsewhere:
        invite(Invite("cafe-sued", "INHABERIN@example.de", "staff", PORTAL, owner_south), portal)
    assert pending_elsewhere.value.code == "email_taken"

    joined(portal, "cafe-nord", "kasse@example.de")
    with pytest.raises(DomainError) as member_elsewhere:
        invite(Invite("cafe-sued", "kasse@example.de", "staff", PORTAL, owner_south), portal)
    assert member_elsewhere.value.code == "email_taken"
    with pytest.raises(DomainError) as member_here:
        invite(Invite("cafe-nord", "kasse@example.de", "staff", PORTAL, OWNER), portal)
    assert member_here.value.code == "already_member"


def test_a_new_invitation_of_the_same_address_replaces_the_pending_one(portal):
    open_store(portal)
    first = invite(Invite("cafe-nord", "neu@example.de", "staff", PORTAL, OWNER), portal)
    first_token = sent_link(portal, "neu@example.de")["invitation"]
    second = invite(Invite("cafe-nord", "neu@example.de", "supervisor", PORTAL, OWNER), portal)

    statuses = {invitation.id: invitation.status for invitation in portal.invitations.of_store("cafe-nord")}
    assert (statuses[first.id], statuses[second.id]) == ("revoked", "pending")
    with pytest.raises(DomainError) as gone:
        accept(Accept(first_token, uid_of(portal, "neu@example.de"), "neu@example.de", True), portal)
    assert gone.value.code == "invitation_gone"


def test_a_token_works_once_only_for_its_verified_address(portal):
    open_store(portal)
    invite(Invite("cafe-nord", "kasse@example.de", "staff", PORTAL, OWNER), portal)
    token = sent_link(portal, "kasse@example.de")["invitation"]

    for email, verified in (("andere@example.de", True), ("kasse@example.de", False)):
        with pytest.raises(DomainError) as mismatch:
            accept(Accept(token, "uid-kasse", email, verified), portal)
        assert mismatch.value.code == "invitation_email_mismatch"
    uid = uid_of(portal, "kasse@example.de")
    accepted = accept(Accept(token, uid, "Kasse@Example.de", True), portal)

    assert (accepted.store_id, accepted.role) == ("cafe-nord", "staff")
    assert portal.members.roles_of(uid) == {"cafe-nord": "staff"}
    assert portal.identity.accounts[uid].claims["stores"] == {"cafe-nord": "staff"}
    assert journal(portal, "cafe-nord")[-1]["data"] == {
        "invitation_id": portal.invitations.of_store("cafe-nord")[0].id,
        "uid": uid,
        "role": "staff",
    }
    with pytest.raises(DomainError) as used:
        accept(Accept(token, "uid-kasse", "kasse@example.de", True), portal)
    assert used.value.code == "invitation_gone"
    with pytest.raises(DomainError) as unknown:
        accept(Accept("no-such-token", "uid-kasse", "kasse@example.de", True), portal)
    assert unknown.value.code == "invitation_gone"


def test_an_invitation_expires_after_seven_days_and_frees_its_address(portal, monkeypatch):
    open_store(portal)
    open_store(portal, "cafe-sued", owner_email="sued@example.de")
    invite(Invite("cafe-nord", "spaet@example.de", "staff", PORTAL, OWNER), portal)
    token = sent_link(portal, "spaet@example.de")["invitation"]
    later = clock.now() + timedelta(days=7, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)

    with pytest.raises(DomainError) as gone:
        accept(Accept(token, uid_of(portal, "spaet@example.de"), "spaet@example.de", True), portal)
    assert gone.value.code == "invitation_gone"
    elsewhere = invite(Invite("cafe-sued", "spaet@example.de", "staff", PORTAL, OWNER), portal)
    assert elsewhere.store_id == "cafe-sued"


def test_a_revoked_invitation_stops_working_and_frees_its_address(portal):
    open_store(portal)
    invitation = invite(Invite("cafe-nord", "weg@example.de", "staff", PORTAL, OWNER), portal)
    token = sent_link(portal, "weg@example.de")["invitation"]

    revoked = revoke("cafe-nord", invitation.id, OWNER, portal)

    assert revoked.status == "revoked"
    assert portal.email_holders.get("weg@example.de") is None
    with pytest.raises(DomainError) as gone:
        accept(Accept(token, uid_of(portal, "weg@example.de"), "weg@example.de", True), portal)
    assert gone.value.code == "invitation_gone"
    assert journal(portal, "cafe-nord")[-1]["type"] == "member.invitation_revoked"


def test_members_are_re_roled_and_removed_but_the_last_owner_stays(portal):
    open_store(portal)
    owner_token = sent_link(portal, "inhaberin@example.de")["invitation"]
    owner = uid_of(portal, "inhaberin@example.de")
    accept(Accept(owner_token, owner, "inhaberin@example.de", True), portal)
    cashier = joined(portal, "cafe-nord", "kasse@example.de")

    with pytest.raises(DomainError) as last:
        change_role(ChangeRole("cafe-nord", owner, None, OWNER), portal)
    assert last.value.code == "last_owner"
    with pytest.raises(DomainError) as demoted:
        change_role(ChangeRole("cafe-nord", owner, "staff", OWNER), portal)
    assert demoted.value.code == "last_owner"

    change_role(ChangeRole("cafe-nord", cashier, "owner", OWNER), portal)
    assert portal.members.roles_of(cashier) == {"cafe-nord": "owner"}
    change_role(ChangeRole("cafe-nord", owner, None, OWNER), portal)

    assert portal.members.roles_of(owner) == {}  # kept empty: a stale claim must not count
    assert portal.identity.accounts[owner].claims["stores"] == {}
    assert portal.identity.ended_sessions == [owner]
    assert portal.email_holders.get("inhaberin@example.de") is None
    assert [member.uid for member in portal.members.of_store("cafe-nord")] == [cashier]
    assert [entry["type"] for entry in journal(portal, "cafe-nord")[-2:]] == ["member.role_changed", "member.removed"]


def test_a_platform_admin_invites_only_owners(portal):
    open_store(portal)
    with pytest.raises(DomainError) as refused:
        invite(Invite("cafe-nord", "kasse@example.de", "staff", PORTAL, ADMIN), portal)
    assert refused.value.code == "forbidden"
