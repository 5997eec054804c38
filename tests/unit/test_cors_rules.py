"""CORS on the deployed functions: the web pages' origins (TRESEN_WEB_ORIGINS) on every path, a
store's own origins on the customer paths, any origin in dev mode, and nothing else. Over each
function as functions-framework serves it, so a preflight is seen to reach the router; no emulator
(the pages' origins need no read, and a store's origins are faked here: tests/integration/test_cors.py
reads them from Firestore)."""

from __future__ import annotations

import os
import re
from dataclasses import replace

import pytest

from stack import ROOT
from tresen import wiring
from tresen.config import settings
from tresen.http import app

PAGES = "https://tresen-prod.web.app"
OTHER_PAGES = "https://tresen-prod.firebaseapp.com"
STORE_ORIGIN = "https://cafe.example"  # in some store's cors_origins
WEB_ENTRY_POINTS = ("customer_api", "staff_api", "exports")
PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, If-Match, X-Order-Token, X-Passkey",
    "Access-Control-Max-Age": "600",
}
EXPOSED = {"Access-Control-Expose-Headers": "Retry-After, Idempotent-Replayed, Content-Disposition"}


def cors_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("Access-Control-") or k == "Vary"}


def admitted(origin: str, preflight: bool = False) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} | EXPOSED | (PREFLIGHT if preflight else {})


NOT_ADMITTED = {"Vary": "Origin"}


@pytest.fixture(scope="module")
def deployed():
    """A test client of each function the pages call, built from functions/main.py as Cloud Run does."""
    import functions_framework

    clients = {
        entry: functions_framework.create_app(target=entry, source=str(ROOT / "functions" / "main.py")).test_client()
        for entry in WEB_ENTRY_POINTS
    }
    for name in ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE"):
        os.environ.pop(name, None)
    return clients


@pytest.fixture
def production(monkeypatch):
    """Production with the pages on Firebase Hosting; one store lists STORE_ORIGIN in cors_origins."""
    configured = replace(settings(), env="prod", web_origins=(PAGES, OTHER_PAGES))
    monkeypatch.setattr(app, "settings", lambda: configured)
    asked = []

    def store_origins(origin, path):
        asked.append((origin, path))
        return origin == STORE_ORIGIN

    monkeypatch.setattr(wiring.OUTSIDE, "origin_allowed", store_origins)
    return asked


def preflight(client, path, origin, method="POST", headers="authorization, content-type"):
    return client.options(
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
    )


def concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "x1", path)


@pytest.mark.parametrize("entry", WEB_ENTRY_POINTS)
def test_a_preflight_from_the_pages_reaches_every_route_of_each_function(deployed, production, entry):
    for route in wiring.entry_router(entry).routes:
        response = preflight(deployed[entry], concrete(route.path), PAGES, method=route.method)
        assert (response.status_code, cors_headers(response)) == (204, admitted(PAGES, preflight=True)), route.path
    assert production == []  # the pages' origins never need a store read


def test_the_pages_call_staff_routes_with_their_headers_and_methods(deployed, production):
    staff, exports = deployed["staff_api"], deployed["exports"]
    refund = "/v1/stores/demo/orders/o1/refunds"
    assert cors_headers(preflight(staff, refund, OTHER_PAGES, headers="authorization, x-passkey")) == admitted(
        OTHER_PAGES, preflight=True
    )
    for client, method, path in (
        (staff, "GET", "/v1/journal/public-keys"),
        (staff, "POST", "/v1/giftcards/ABCD-EFGH-JKLM/redeem"),
        (exports, "PUT", "/v1/stores/demo/accounting"),
        (exports, "DELETE", "/v1/stores/demo/api-keys/k1"),
    ):
        assert cors_headers(preflight(client, path, PAGES, method=method)) == admitted(PAGES, preflight=True), path


def test_a_problem_answer_is_readable_by_the_pages(deployed, production):
    """401 without a token, 400 without an Idempotency-Key, 404 on another function's path: the
    page's script reads the problem body and Retry-After only if CORS admits the answer."""
    origin = {"Origin": PAGES}
    unauthenticated = deployed["staff_api"].get("/v1/stores/demo/orders", headers=origin)
    keyless = deployed["customer_api"].post("/v1/stores/demo/orders", json={}, headers=origin)
    foreign = deployed["exports"].get("/v1/stores/demo/orders", headers=origin)
    for response, status in ((unauthenticated, 401), (keyless, 400), (foreign, 404)):
        assert (response.status_code, response.content_type) == (status, "application/problem+json")
        assert cors_headers(response) == admitted(PAGES)


@pytest.mark.parametrize(
    "origin",
    [
        "https://tresen-prod.web.app.evil.com",
        "https://eviltresen-prod.web.app",
        "https://evil.tresen-prod.web.app",
        "http://tresen-prod.web.app",
        "https://tresen-prod.web.app:8443",
        "https://tresen-prod.web.app/",
        "https://TRESEN-PROD.web.app",
        "https://tresen-prod.web.ap",
        "null",
        "*",
    ],
)
def test_an_origin_not_configured_gets_no_cors_headers(deployed, production, origin):
    staff, customer = deployed["staff_api"], deployed["customer_api"]
    for response in (
        preflight(staff, "/v1/stores/demo/orders", origin),
        staff.get("/v1/openapi.json", headers={"Origin": origin}),
        preflight(customer, "/v1/stores/demo/menu", origin),
    ):
        assert cors_headers(response) == NOT_ADMITTED


def test_a_stores_origins_are_admitted_on_the_customer_paths_only(deployed, production):
    customer, staff = deployed["customer_api"], deployed["staff_api"]
    for path in ("/v1/stores/demo/menu", "/v1/orders/o1", "/v1/giftcards/balance"):
        assert cors_headers(preflight(customer, path, STORE_ORIGIN)) == admitted(STORE_ORIGIN, preflight=True), path
    assert cors_headers(customer.get("/v1/stores/demo/orders", headers={"Origin": STORE_ORIGIN})) == admitted(
        STORE_ORIGIN
    )
    assert cors_headers(preflight(staff, "/v1/journal/public-keys", STORE_ORIGIN, method="GET")) == NOT_ADMITTED
    assert cors_headers(preflight(customer, "/v1/stores/demo/menu", "https://other.example")) == NOT_ADMITTED


def test_without_web_origins_production_admits_only_the_stores(deployed, production, monkeypatch):
    monkeypatch.setattr(app, "settings", lambda: replace(settings(), env="prod"))
    assert cors_headers(preflight(deployed["staff_api"], "/v1/journal/public-keys", PAGES)) == NOT_ADMITTED
    assert cors_headers(preflight(deployed["customer_api"], "/v1/stores/demo/menu", PAGES)) == NOT_ADMITTED


def test_dev_mode_admits_any_well_formed_origin_on_every_path(deployed, production, monkeypatch):
    monkeypatch.setattr(app, "settings", lambda: replace(settings(), env="dev", web_origins=()))
    local = "http://localhost:5173"
    assert cors_headers(preflight(deployed["staff_api"], "/v1/stores/demo/orders", local)) == admitted(
        local, preflight=True
    )
    assert cors_headers(deployed["customer_api"].get("/v1/openapi.json", headers={"Origin": local})) == admitted(local)
    assert cors_headers(preflight(deployed["staff_api"], "/v1/stores/demo/orders", "null")) == NOT_ADMITTED
    assert production == []


def test_an_answer_without_an_origin_still_says_it_varies_by_origin(deployed, production):
    """So no cache hands a page an answer that was made without its Origin (and its CORS headers)."""
    assert cors_headers(deployed["customer_api"].get("/v1/openapi.json")) == NOT_ADMITTED
