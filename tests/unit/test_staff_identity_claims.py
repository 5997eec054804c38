"""The e-mail claims of a staff token, and where the merchant portal's page finds Firebase Auth."""

from __future__ import annotations

import pytest
from test_config import PROD

from tresen.adapters.identity import unsigned_dev_token, verify_staff_token
from tresen.config import IDENTITY_TOOLKIT_URL, dev_auth_emulator_host, load_settings
from tresen.services.ports import StaffIdentity


def test_the_email_claims_reach_the_staff_identity():
    token = unsigned_dev_token(uid="u-1", stores={"s1": "owner"}, email="anna@example.com", email_verified=True)

    assert verify_staff_token(token) == StaffIdentity(
        uid="u-1", stores={"s1": "owner"}, email="anna@example.com", email_verified=True
    )


def test_an_address_not_yet_verified_says_so():
    token = unsigned_dev_token(uid="u-1", stores={}, email="anna@example.com")

    identity = verify_staff_token(token)

    assert (identity.email, identity.email_verified) == ("anna@example.com", False)


def test_a_token_without_an_address_has_none():
    identity = verify_staff_token(unsigned_dev_token(uid="u-1", stores={}, email_verified=True))

    assert (identity.email, identity.email_verified) == (None, False)


@pytest.mark.parametrize(
    ("environ", "host"),
    [
        ({}, "127.0.0.1:9099"),
        ({"AUTH_PORT": "9400"}, "127.0.0.1:9400"),
        ({"AUTH_PORT": "9400", "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9511"}, "127.0.0.1:9511"),
    ],
)
def test_dev_finds_the_auth_emulator_where_tresen_dev_starts_it_unless_told(environ, host):
    settings = load_settings(environ)

    assert dev_auth_emulator_host(environ) == host
    assert settings.firebase_auth_url == f"http://{host}/identitytoolkit.googleapis.com/v1"
    assert settings.firebase_web_api_key == "fake-api-key"


def test_dev_takes_a_web_api_key_given():
    assert load_settings({"FIREBASE_WEB_API_KEY": "AIza-dev"}).firebase_web_api_key == "AIza-dev"


def test_production_names_identity_toolkit_and_the_projects_web_api_key():
    settings = load_settings(PROD | {"FIREBASE_WEB_API_KEY": "AIza-prod"})

    assert IDENTITY_TOOLKIT_URL == "https://identitytoolkit.googleapis.com/v1"
    assert (settings.firebase_auth_url, settings.firebase_web_api_key) == (IDENTITY_TOOLKIT_URL, "AIza-prod")
