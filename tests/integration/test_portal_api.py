"""The portal's people over HTTP against the emulators, Firebase Auth's included: a store opened by the
platform, its owner invited by e-mail, the invitation accepted with a password set through Firebase Auth,
one address in one store even under concurrent invitations, a token good once, and roles effective on
the next request."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from support import auth
from tresen.adapters.identity import unsigned_dev_token
from tresen.adapters.mail_outbox import mail_from_doc
from tresen.adapters.membership_store import invitation_path

ADMIN = {"Authorization": "Bearer " + unsigned_dev_token(uid="platform-admin", stores={}, platform="admin")}
PASSWORD = "richtig-geheim-42"


def store_body(store_id: str, owner_email: str) -> dict:
    return {
        "store_id": store_id,
        "name": "Café Nord",
        "address": {"street": "Nordstraße 5", "postal_code": "20095", "city": "Hamburg"},
        "vat_id": "DE123456789",
        "owner_email": owner_email,
        "plan": "business",
    }


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def open_store(client, owner_email: str) -> str:
    store_id = unique("cafe")
    made = client.post("/v1/platform/stores", json=store_body(store_id, owner_email), headers=ADMIN)
    assert made.status_code == 201, made.get_data(as_text=True)
    return store_id


def invitation_link(backend, email: str) -> dict[str, str]:
    """The query of the link in the newest mail to `email` in the outbox."""
    found = [mail_from_doc(doc.data) for doc in backend.docs.query("mail_outbox", where=[("to", "==", email)])]
    [link] = [word for word in found[-1].text.split() if "/portal?" in word]
    return {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}


def signed_in_as_invited(auth_emulator, link: dict[str, str]) -> str:
    """What the portal page does with the link: set the password with Firebase's code, verify the
    address if asked, sign in; the ID token."""
    email = auth_emulator.reset_password(link["setup"], PASSWORD)["email"]
    if "verify" in link:
        auth_emulator.apply_code(link["verify"])
    return auth_emulator.sign_in(email, PASSWORD)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_owner_sets_a_password_accepts_and_is_an_owner_on_the_next_request(client, backend, auth_emulator):
    email = f"{unique('owner')}@example.de"
    store_id = open_store(client, email)
    link = invitation_link(backend, email)
    token = signed_in_as_invited(auth_emulator, link)

    before = client.get("/v1/me", headers=bearer(token)).get_json()
    assert (before["email"], before["stores"], before["platform"]) == (email, {}, None)
    accepted = client.post("/v1/invitations/accept", json={"token": link["invitation"]}, headers=bearer(token))

    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert accepted.get_json() == {"store_id": store_id, "role": "owner"}
    assert client.get("/v1/me", headers=bearer(token)).get_json()["stores"] == {store_id: "owner"}
    members = client.get(f"/v1/stores/{store_id}/members", headers=bearer(token))
    assert [(m["email"], m["role"]) for m in members.get_json()["data"]] == [(email, "owner")]
    again = client.post("/v1/invitations/accept", json={"token": link["invitation"]}, headers=bearer(token))
    assert (again.status_code, again.get_json()["code"]) == (410, "invitation_gone")
    # the claim is mirrored for the Firestore rules: a fresh sign-in carries it
    fresh = auth_emulator.signed_in(email, PASSWORD)
    assert client.get("/v1/me", headers=bearer(fresh["idToken"])).get_json()["stores"] == {store_id: "owner"}


def test_another_address_or_an_unverified_one_is_refused(client, backend, auth_emulator):
    email = f"{unique('owner')}@example.de"
    store_id = open_store(client, email)
    link = invitation_link(backend, email)
    other = "Bearer " + unsigned_dev_token(uid="other", stores={}, email="other@example.de", email_verified=True)
    unverified = "Bearer " + unsigned_dev_token(uid="owner", stores={}, email=email, email_verified=False)

    for token in (other, unverified):
        refused = client.post(
            "/v1/invitations/accept", json={"token": link["invitation"]}, headers={"Authorization": token}
        )
        assert (refused.status_code, refused.get_json()["code"]) == (403, "invitation_email_mismatch")
    [pending] = client.get(f"/v1/stores/{store_id}/invitations", headers=auth(store_id, "owner")).get_json()["data"]
    assert (pending["email"], pending["status"]) == (email, "pending")


def test_an_expired_invitation_is_gone(client, backend, auth_emulator):
    email = f"{unique('late')}@example.de"
    store_id = open_store(client, email)
    link = invitation_link(backend, email)
    [pending] = client.get(f"/v1/stores/{store_id}/invitations", headers=auth(store_id, "owner")).get_json()["data"]
    past = datetime.now(UTC) - timedelta(seconds=1)
    batch = backend.docs.batch()
    batch.update(invitation_path(pending["id"]), {"expires_at": past})
    batch.commit()
    token = "Bearer " + unsigned_dev_token(uid="late", stores={}, email=email, email_verified=True)

    gone = client.post("/v1/invitations/accept", json={"token": link["invitation"]}, headers={"Authorization": token})

    assert (gone.status_code, gone.get_json()["code"]) == (410, "invitation_gone")
    listed = client.get(f"/v1/stores/{store_id}/invitations", headers=auth(store_id, "owner")).get_json()["data"]
    assert listed[0]["status"] == "expired"


def test_one_address_cannot_join_two_stores_not_even_when_both_invite_at_once(client, backend, auth_emulator):
    north = open_store(client, f"{unique('north')}@example.de")
    south = open_store(client, f"{unique('south')}@example.de")
    contested = f"{unique('kasse')}@example.de"

    def invite(store_id: str):
        body = {"email": contested, "role": "staff"}
        return client.post(f"/v1/stores/{store_id}/invitations", json=body, headers=auth(store_id, "owner"))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(invite, [north, south] * 4))

    won = {answer.status_code for answer in answers}
    assert won == {201, 409}
    winners = {store for store, answer in zip([north, south] * 4, answers, strict=True) if answer.status_code == 201}
    assert len(winners) == 1  # one store got the address; the other store's every try was refused
    loser = ({north, south} - winners).pop()
    assert {answer.get_json()["code"] for answer in answers if answer.status_code == 409} == {"email_taken"}
    assert invite(loser).get_json()["code"] == "email_taken"


def test_a_removed_member_is_refused_on_the_next_request_and_the_last_owner_stays(client, backend, auth_emulator):
    owner_email = f"{unique('owner')}@example.de"
    store_id = open_store(client, owner_email)
    owner_link = invitation_link(backend, owner_email)
    owner = bearer(signed_in_as_invited(auth_emulator, owner_link))
    assert (
        client.post("/v1/invitations/accept", json={"token": owner_link["invitation"]}, headers=owner).status_code
        == 200
    )
    staff_email = f"{unique('kasse')}@example.de"
    invited = client.post(
        f"/v1/stores/{store_id}/invitations", json={"email": staff_email, "role": "staff"}, headers=owner
    )
    assert invited.status_code == 201, invited.get_data(as_text=True)
    staff_link = invitation_link(backend, staff_email)
    staff_token = signed_in_as_invited(auth_emulator, staff_link)
    staff = bearer(staff_token)
    assert (
        client.post("/v1/invitations/accept", json={"token": staff_link["invitation"]}, headers=staff).status_code
        == 200
    )
    staff_uid = client.get("/v1/me", headers=staff).get_json()["uid"]
    owner_uid = client.get("/v1/me", headers=owner).get_json()["uid"]
    assert client.get(f"/v1/stores/{store_id}/orders", headers=staff).status_code == 200

    last = client.delete(f"/v1/stores/{store_id}/members/{owner_uid}", headers=owner)
    assert (last.status_code, last.get_json()["code"]) == (409, "last_owner")
    removed = client.delete(f"/v1/stores/{store_id}/members/{staff_uid}", headers=owner)
    assert removed.status_code == 204

    refused = client.get(f"/v1/stores/{store_id}/orders", headers=staff)  # the same, still unexpired token
    assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden")
    assert client.get("/v1/me", headers=staff).get_json()["stores"] == {}
    # the address is free again: another store may invite it
    elsewhere = open_store(client, f"{unique('other')}@example.de")
    again = client.post(
        f"/v1/stores/{elsewhere}/invitations",
        json={"email": staff_email, "role": "staff"},
        headers=auth(elsewhere, "owner"),
    )
    assert again.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"store_id": "Nope!"}, "store_id"),
        ({"owner_email": "no-at-sign"}, "owner_email"),
        ({"plan": "gold"}, "plan"),
        ({"address": {"street": "X", "postal_code": "1", "city": "Y"}}, "address.postal_code"),
    ],
)
def test_a_store_body_is_checked_field_by_field(client, body, field):
    refused = client.post("/v1/platform/stores", json=store_body("cafe-x", "x@example.de") | body, headers=ADMIN)
    assert (refused.status_code, refused.get_json()["errors"][0]["field"]) == (422, field)


def test_only_platform_admins_open_stores(client):
    refused = client.post(
        "/v1/platform/stores", json=store_body("cafe-y", "y@example.de"), headers=auth("demo", "owner")
    )
    assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden")


def test_the_owner_sets_the_stores_business_details_and_finance_reads_them(client, backend):
    store_id = open_store(client, f"{unique('owner')}@example.de")
    path = f"/v1/stores/{store_id}/profile"
    opened = client.get(path, headers=auth(store_id, "finance"))
    assert (opened.status_code, opened.get_json()) == (
        200,
        {
            "name": "Café Nord",
            "address": {"street": "Nordstraße 5", "postal_code": "20095", "city": "Hamburg"},
            "tax_number": None,
            "vat_id": "DE123456789",
        },
    )
    moved = {
        "name": "Café Nord am Hafen",
        "address": {"street": " Hafenstraße 3 ", "postal_code": "20359", "city": "Hamburg"},
        "tax_number": "22/815/99999",
        "vat_id": None,
    }

    saved = client.put(path, json=moved, headers=auth(store_id, "owner", uid="owner-1"))

    shown = moved | {"address": {"street": "Hafenstraße 3", "postal_code": "20359", "city": "Hamburg"}}
    assert (saved.status_code, saved.get_json()) == (200, shown)
    assert client.get(path, headers=auth(store_id, "finance")).get_json() == shown
    assert client.get(f"/v1/stores/{store_id}/menu").get_json()["store"]["name"] == "Café Nord am Hafen"
    recipient = backend.docs.get(f"billing_profiles/{store_id}").data["recipient"]
    assert {key: recipient[key] for key in ("name", "street", "postal_code", "city", "tax_number", "vat_id")} == {
        "name": "Café Nord am Hafen",
        "street": "Hafenstraße 3",
        "postal_code": "20359",
        "city": "Hamburg",
        "tax_number": "22/815/99999",
        "vat_id": None,
    }
    changed = backend.journal.entries(store_id)[-1]
    assert (changed["type"], changed["actor"], changed["data"]) == (
        "store.profile_changed",
        {"type": "staff", "uid": "owner-1", "role": "owner"},
        {
            "changed": ["name", "address", "tax_number", "vat_id"],
            "name": "Café Nord am Hafen",
            "address": ["Hafenstraße 3", "20359 Hamburg"],
            "tax_number": "22/815/99999",
            "vat_id": None,
        },
    )
    refused = client.put(path, json=moved, headers=auth(store_id, "finance"))
    assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"address": {"street": "Hafenstraße 3", "postal_code": "2035", "city": "Hamburg"}}, "address.postal_code"),
        ({"tax_number": "1" * 41}, "tax_number"),
        ({"vat_id": "123456789"}, "vat_id"),
    ],
)
def test_a_profile_is_checked_field_by_field(client, change, field):
    body = {"name": "Café", "address": {"street": "Hafenstraße 3", "postal_code": "20359", "city": "Hamburg"}}
    refused = client.put("/v1/stores/demo/profile", json=body | change, headers=auth("demo", "owner"))
    assert (refused.status_code, [error["field"] for error in refused.get_json()["errors"]]) == (422, [field])
