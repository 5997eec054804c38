"""The identity directory's in-memory twin, which the portal's use-case tests run against: it keeps
what FirebaseIdentityDirectory keeps in Firebase Auth (tests/integration/test_identity_directory.py)."""

from __future__ import annotations

import pytest

from tresen.adapters.identity_directory import MemoryAccount, MemoryIdentityDirectory
from tresen.services.identity_ports import AccountSetup, UnknownAccount


def test_account_setup_numbers_accounts_and_codes_in_the_order_handed_out():
    directory = MemoryIdentityDirectory()

    assert directory.account_setup("anna@example.com") == AccountSetup("uid-1", "password-2", "verify-1")
    assert directory.account_setup("ben@example.com") == AccountSetup("uid-2", "password-4", "verify-3")
    assert directory.accounts["uid-2"] == MemoryAccount("uid-2", "ben@example.com")
    assert directory.codes == {
        "verify-1": ("uid-1", "verify"),
        "password-2": ("uid-1", "password"),
        "verify-3": ("uid-2", "verify"),
        "password-4": ("uid-2", "password"),
    }


def test_an_address_in_other_case_is_the_same_account_kept_in_lower_case():
    directory = MemoryIdentityDirectory()
    first = directory.account_setup("Anna@Example.com")

    second = directory.account_setup("anna@example.COM")

    assert (second.uid, list(directory.accounts)) == (first.uid, ["uid-1"])
    assert directory.account_of("ANNA@example.com") == MemoryAccount("uid-1", "anna@example.com")


def test_a_verified_address_is_given_a_password_code_only():
    directory = MemoryIdentityDirectory()
    directory.account_setup("anna@example.com")
    directory.account_of("anna@example.com").email_verified = True

    assert directory.account_setup("anna@example.com") == AccountSetup("uid-1", "password-3", None)


def test_set_store_roles_replaces_stores_and_keeps_the_other_claims():
    directory = MemoryIdentityDirectory()
    uid = directory.account_setup("anna@example.com").uid
    directory.accounts[uid].claims.update(platform="admin", stores={"old": "owner"})
    roles = {"s1": "manager"}

    directory.set_store_roles(uid, roles)
    roles["s2"] = "staff"  # the caller's dict stays the caller's

    assert directory.accounts[uid].claims == {"platform": "admin", "stores": {"s1": "manager"}}


def test_end_sessions_is_recorded_in_call_order():
    directory = MemoryIdentityDirectory()
    anna = directory.account_setup("anna@example.com").uid
    ben = directory.account_setup("ben@example.com").uid

    directory.end_sessions(ben)
    directory.end_sessions(anna)

    assert directory.ended_sessions == [ben, anna]


@pytest.mark.parametrize(
    "call", [lambda d: d.set_store_roles("uid-9", {"s1": "owner"}), lambda d: d.end_sessions("uid-9")]
)
def test_an_unknown_uid_is_an_unknown_account_and_changes_nothing(call):
    directory = MemoryIdentityDirectory()
    directory.account_setup("anna@example.com")

    with pytest.raises(UnknownAccount) as caught:
        call(directory)

    assert caught.value.args == ("uid-9",)
    assert (directory.accounts["uid-1"].claims, directory.ended_sessions) == ({}, [])
