"""The Firebase Auth emulator of a test session, and the REST calls a browser makes to it.

`auth_emulator` (registered in conftest.py) starts firebase-tools' Auth emulator once per session
on a free port, points FIREBASE_AUTH_EMULATOR_HOST at it for the test, and gives each test an
emulator without accounts. Without node_modules/.bin/firebase (`make test` installs it from npm)
its tests are skipped, except under CI, where a missing emulator is a failure.

The helpers call Identity Toolkit's REST API as the merchant portal's page does: with a web API key
(any will do in the emulator) and no credentials.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from tresen.devstack import FIREBASE_CLI, AuthEmulator, StackError, end, free_port

PROJECT = "demo-tresen"
WEB_API_KEY = "fake-api-key"


class AuthEmulatorApi:
    def __init__(self, host: str):
        self.host = host
        self.base = f"http://{host}"

    def _call(self, path: str, **request) -> dict:
        response = requests.post(f"{self.base}/{path}", params={"key": WEB_API_KEY}, timeout=10, **request)
        if response.status_code != 200:
            raise AssertionError(f"{path}: {response.status_code} {response.text}")
        return response.json()

    def reset_password(self, code: str, new_password: str) -> dict:
        """The password set with a password-reset link's code (accounts:resetPassword)."""
        return self._call(
            "identitytoolkit.googleapis.com/v1/accounts:resetPassword",
            json={"oobCode": code, "newPassword": new_password},
        )

    def apply_code(self, code: str) -> dict:
        """An e-mail action code applied, as following its link does (accounts:update)."""
        return self._call("identitytoolkit.googleapis.com/v1/accounts:update", json={"oobCode": code})

    def signed_in(self, email: str, password: str) -> dict:
        """accounts:signInWithPassword's answer: `idToken`, `refreshToken`, `localId`, …"""
        return self._call(
            "identitytoolkit.googleapis.com/v1/accounts:signInWithPassword",
            json={"email": email, "password": password, "returnSecureToken": True},
        )

    def sign_in(self, email: str, password: str) -> str:
        """The ID token of a sign-in with e-mail and password."""
        return self.signed_in(email, password)["idToken"]

    def refresh(self, refresh_token: str) -> requests.Response:
        """A new ID token for a refresh token (securetoken), as the page renews its sign-in."""
        return requests.post(
            f"{self.base}/securetoken.googleapis.com/v1/token",
            params={"key": WEB_API_KEY},
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            timeout=10,
        )

    def oob_codes(self) -> list[dict]:
        """Every e-mail action code issued since the last clear: `email`, `requestType`, `oobCode`, …"""
        response = requests.get(f"{self.base}/emulator/v1/projects/{PROJECT}/oobCodes", timeout=10)
        response.raise_for_status()
        return response.json()["oobCodes"]

    def clear(self) -> None:
        """Every account deleted."""
        requests.delete(f"{self.base}/emulator/v1/projects/{PROJECT}/accounts", timeout=10).raise_for_status()


@pytest.fixture(scope="session")
def auth_emulator_session(tmp_path_factory) -> Iterator[AuthEmulatorApi]:
    if not FIREBASE_CLI.is_file():
        reason = f"no Auth emulator: {FIREBASE_CLI} is missing (`make test` installs firebase-tools from npm)"
        if os.environ.get("CI", "") not in ("", "0", "false"):
            pytest.fail(reason)
        pytest.skip(reason)
    emulator = AuthEmulator(free_port(), PROJECT, tmp_path_factory.mktemp("auth-emulator"))
    log = emulator.workdir / "auth.log"
    child = emulator.spawn(log)
    try:
        emulator.wait_ready(child)
    except StackError as error:
        end([child])
        raise AssertionError(f"{error}:\n{log.read_text()[-4000:]}") from None
    yield AuthEmulatorApi(emulator.host)
    end([child])


@pytest.fixture
def auth_emulator(auth_emulator_session, monkeypatch) -> AuthEmulatorApi:
    """The session's Auth emulator, without accounts, named by FIREBASE_AUTH_EMULATOR_HOST for this test."""
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", auth_emulator_session.host)
    auth_emulator_session.clear()
    return auth_emulator_session
