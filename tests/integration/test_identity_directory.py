"""FirebaseIdentityDirectory against firebase-tools' Auth emulator: an invited person's account set up
as the portal's page will do it (the codes of Firebase's own links, a password Tresen never sees, a
sign-in), the `stores` claim mirrored into their next token, and their sessions ended."""

from __future__ import annotations

import time

import pytest
from firebase_admin import auth

from tresen.adapters.identity import firebase_app, verify_staff_token
from tresen.adapters.identity_directory import FirebaseIdentityDirectory
from tresen.services.identity_ports import UnknownAccount
from tresen.services.ports import StaffIdentity

EMAIL = "anna@example.com"
PASSWORD = "Kaffee-und-Kuchen-42"


@pytest.fixture
def directory(auth_emulator) -> FirebaseIdentityDirectory:
    return FirebaseIdentityDirectory()


@pytest.fixture
def admin(auth_emulator):
    """firebase-admin on the same app, for what only an administrator sees of an account."""
    return auth.Client(firebase_app())


def accept(auth_emulator, directory, email: str = EMAIL) -> str:
    """What the invited person's page does with the codes: the uid of the account set up."""
    setup = directory.account_setup(email)
    auth_emulator.reset_password(setup.password_code, PASSWORD)
    if setup.verify_code:
        auth_emulator.apply_code(setup.verify_code)
    return setup.uid


def test_account_setup_creates_a_passwordless_account_and_hands_out_its_link_codes(auth_emulator, directory, admin):
    setup = directory.account_setup(EMAIL)

    user = admin.get_user(setup.uid)
    assert (user.email, user.email_verified, user.provider_data) == (EMAIL, False, [])
    issued = [(code["email"], code["requestType"], code["oobCode"]) for code in auth_emulator.oob_codes()]
    assert sorted(issued) == sorted(
        [(EMAIL, "PASSWORD_RESET", setup.password_code), (EMAIL, "VERIFY_EMAIL", setup.verify_code)]
    )


def test_a_second_setup_of_the_same_address_in_other_case_finds_the_account(directory):
    first = directory.account_setup(EMAIL)
    second = directory.account_setup("Anna@Example.COM")
    assert second.uid == first.uid
    assert second.password_code != first.password_code


def test_an_account_created_by_a_concurrent_invitation_is_found_not_duplicated(directory, admin, monkeypatch):
    created = admin.create_user(email=EMAIL)
    lookups = []
    find = directory._auth.get_user_by_email

    def not_there_yet(email):  # this invitation looked before the other one created the account
        lookups.append(email)
        if len(lookups) == 1:
            raise auth.UserNotFoundError("not yet")
        return find(email)

    monkeypatch.setattr(directory._auth, "get_user_by_email", not_there_yet)
    assert directory.account_setup(EMAIL).uid == created.uid
    assert lookups == [EMAIL, EMAIL]


def test_setting_the_password_with_the_reset_code_verifies_the_address_in_the_emulator(auth_emulator, directory, admin):
    setup = directory.account_setup(EMAIL)
    auth_emulator.reset_password(setup.password_code, PASSWORD)
    assert admin.get_user(setup.uid).email_verified is True


def test_the_invitation_flow_ends_in_a_token_that_verify_staff_token_accepts(auth_emulator, directory):
    uid = accept(auth_emulator, directory)

    identity = verify_staff_token(auth_emulator.sign_in(EMAIL, PASSWORD))

    assert identity == StaffIdentity(uid=uid, stores={}, email=EMAIL, email_verified=True)


def test_a_verified_account_is_given_a_password_code_only(auth_emulator, directory):
    uid = accept(auth_emulator, directory)

    again = directory.account_setup(EMAIL)

    assert (again.uid, again.verify_code) == (uid, None)
    auth_emulator.reset_password(again.password_code, "a-new-password")
    assert verify_staff_token(auth_emulator.sign_in(EMAIL, "a-new-password")).uid == uid


def test_set_store_roles_replaces_stores_keeps_platform_and_reaches_the_next_token(auth_emulator, directory, admin):
    uid = accept(auth_emulator, directory)
    admin.set_custom_user_claims(uid, {"platform": "admin", "stores": {"old": "owner"}})

    directory.set_store_roles(uid, {"s1": "manager", "s2": "staff"})

    assert admin.get_user(uid).custom_claims == {"platform": "admin", "stores": {"s1": "manager", "s2": "staff"}}
    identity = verify_staff_token(auth_emulator.sign_in(EMAIL, PASSWORD))
    assert (identity.stores, identity.platform_admin) == ({"s1": "manager", "s2": "staff"}, True)


def test_end_sessions_revokes_what_was_issued_before(auth_emulator, directory, admin):
    uid = accept(auth_emulator, directory)
    token = auth_emulator.sign_in(EMAIL, PASSWORD)
    signed_in_at = admin.verify_id_token(token)["auth_time"]
    while int(time.time()) <= signed_in_at:  # revocation counts in whole seconds: a later one
        time.sleep(0.05)

    directory.end_sessions(uid)

    assert admin.get_user(uid).tokens_valid_after_timestamp > signed_in_at * 1000
    with pytest.raises(auth.RevokedIdTokenError):
        admin.verify_id_token(token, check_revoked=True)


def test_the_emulator_still_renews_a_token_after_end_sessions_as_production_would_not(auth_emulator, directory):
    # Production refuses the refresh token once its sessions are ended (TOKEN_EXPIRED); the emulator
    # does not check. If this fails, it has begun to: assert the refusal here instead.
    uid = accept(auth_emulator, directory)
    refresh_token = auth_emulator.signed_in(EMAIL, PASSWORD)["refreshToken"]

    directory.end_sessions(uid)

    renewed = auth_emulator.refresh(refresh_token)
    assert (renewed.status_code, renewed.json()["user_id"]) == (200, uid)


@pytest.mark.parametrize("call", ["set_store_roles", "end_sessions"])
def test_an_unknown_uid_is_an_unknown_account(directory, call):
    arguments = ("no-such-uid", {"s1": "owner"}) if call == "set_store_roles" else ("no-such-uid",)
    with pytest.raises(UnknownAccount) as caught:
        getattr(directory, call)(*arguments)
    assert caught.value.args == ("no-such-uid",)
