"""`GET /v1/dev/firebase`: in dev mode the pages learn where the local Auth emulator answers; in
production the path is not found. Over the router `tresen dev` serves."""

from __future__ import annotations

from dataclasses import replace

import pytest
from werkzeug.test import EnvironBuilder

from tresen import wiring
from tresen.config import load_settings, settings
from tresen.http import dev_auth_routes


def ask(entry: str | None = None):
    return wiring.handle(EnvironBuilder(path="/v1/dev/firebase").get_request(), entry)


def test_in_dev_mode_the_pages_are_told_the_emulators_urls_and_key(monkeypatch):
    dev = load_settings({"TRESEN_ENV": "dev", "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9123"})
    monkeypatch.setattr(dev_auth_routes, "settings", lambda: dev)
    answer = ask()
    assert (answer.status_code, answer.get_json()) == (
        200,
        {
            "api_key": "fake-api-key",
            "auth_url": "http://127.0.0.1:9123/identitytoolkit.googleapis.com/v1",
            "token_url": "http://127.0.0.1:9123/securetoken.googleapis.com/v1",
        },
    )


def test_in_production_it_is_not_found(monkeypatch):
    monkeypatch.setattr(dev_auth_routes, "settings", lambda: replace(settings(), env="prod"))
    answer = ask()
    assert (answer.status_code, answer.content_type, answer.get_json()["code"]) == (
        404,
        "application/problem+json",
        "not_found",
    )


@pytest.mark.parametrize("entry", ["customer_api", "staff_api", "webhooks", "exports", "jobs"])
def test_no_deployed_function_serves_it(entry):
    answer = ask(entry)
    assert (answer.status_code, answer.get_json()["code"]) == (404, "not_found")
    assert "GET /v1/dev/firebase" not in {f"{r.method} {r.path}" for r in wiring.entry_router(entry).routes}
