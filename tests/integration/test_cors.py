"""CORS over HTTP against the emulators: the web pages' origins (TRESEN_WEB_ORIGINS) on staff and
customer paths, a store's own `cors_origins` read from Firestore, dev mode. Every entry point and
every route's preflight: tests/unit/test_cors_rules.py."""

from dataclasses import replace

import pytest

from support import auth, idem, order_body

PAGES = "https://tresen-prod.web.app"
EXPOSED = "Retry-After, Idempotent-Replayed, Content-Disposition"


def preflight(client, path, origin, method="POST", headers="content-type, idempotency-key"):
    return client.options(
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
    )


ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, X-Order-Token, X-Passkey"


def assert_preflight_admits(response, origin):
    assert response.status_code == 204
    assert {k: v for k, v in response.headers.items() if k.startswith("Access-Control-") or k == "Vary"} == {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
        "Access-Control-Expose-Headers": EXPOSED,
        "Vary": "Origin",
    }


@pytest.fixture
def production(monkeypatch):
    """Production's CORS, with the pages served from Firebase Hosting at PAGES."""
    from tresen.config import settings
    from tresen.http import app

    monkeypatch.setattr(app, "settings", lambda: replace(settings(), env="prod", web_origins=(PAGES,)))


def test_customer_endpoints_answer_preflight_from_any_origin_in_dev(client, store_id):
    assert_preflight_admits(
        preflight(client, f"/v1/stores/{store_id}/orders", "https://shop.example"), "https://shop.example"
    )
    placed = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem() | {"Origin": "https://shop.example"}
    )
    assert placed.headers["Access-Control-Allow-Origin"] == "https://shop.example"


def test_staff_endpoints_answer_any_origin_in_dev(client, store_id):
    local = "http://localhost:5173"
    assert_preflight_admits(preflight(client, f"/v1/stores/{store_id}/orders", local, method="GET"), local)
    listed = client.get(f"/v1/stores/{store_id}/orders", headers=auth(store_id) | {"Origin": local})
    assert (listed.status_code, listed.headers["Access-Control-Allow-Origin"]) == (200, local)


def test_the_pages_origin_is_admitted_on_staff_and_customer_paths_in_production(client, store_id, production):
    origin = {"Origin": PAGES}
    assert_preflight_admits(preflight(client, f"/v1/stores/{store_id}/orders", PAGES), PAGES)
    refund = preflight(client, f"/v1/stores/{store_id}/orders/o1/refunds", PAGES, "POST", "authorization, x-passkey")
    assert_preflight_admits(refund, PAGES)
    assert_preflight_admits(preflight(client, f"/v1/stores/{store_id}/passkey", PAGES, "PUT", "authorization"), PAGES)
    key = idem()
    placed = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=key | origin)
    replayed = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=key | origin)
    listed = client.get(f"/v1/stores/{store_id}/orders", headers=auth(store_id) | origin)
    keys = client.get("/v1/journal/public-keys", headers=origin)
    forbidden = client.get(f"/v1/stores/{store_id}/orders", headers=auth("elsewhere") | origin)
    assert [r.status_code for r in (placed, replayed, listed, keys, forbidden)] == [201, 201, 200, 200, 403]
    assert replayed.headers["Idempotent-Replayed"] == "true"
    for response in (placed, replayed, listed, keys, forbidden):
        assert response.headers["Access-Control-Allow-Origin"] == PAGES
        assert response.headers["Access-Control-Expose-Headers"] == EXPOSED
        assert response.headers["Vary"] == "Origin"


@pytest.mark.parametrize(
    "origin", ["https://tresen-prod.web.app.evil.com", "https://evil.example", "http://tresen-prod.web.app"]
)
def test_another_origin_gets_no_cors_headers_in_production(client, store_id, production, origin):
    for response in (
        preflight(client, f"/v1/stores/{store_id}/orders", origin),
        client.get(f"/v1/stores/{store_id}/menu", headers={"Origin": origin}),
        client.get("/v1/journal/public-keys", headers={"Origin": origin}),
    ):
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Expose-Headers" not in response.headers
        assert response.headers["Vary"] == "Origin"


def test_in_production_the_stores_configured_origins_are_allowed_on_customer_paths(
    client, store_id, backend, production
):
    backend.db.document(f"stores/{store_id}").update({"cors_origins": ["https://cafe.example"]})
    assert_preflight_admits(
        preflight(client, f"/v1/stores/{store_id}/menu", "https://cafe.example"), "https://cafe.example"
    )
    assert (
        "Access-Control-Allow-Origin"
        not in preflight(client, f"/v1/stores/{store_id}/menu", "https://evil.example").headers
    )
    order_page = preflight(client, "/v1/orders/o1", "https://cafe.example")
    assert order_page.headers["Access-Control-Allow-Origin"] == "https://cafe.example"
    # a store's page is not the staff board: the journal's keys stay the pages' own
    assert (
        "Access-Control-Allow-Origin"
        not in client.get("/v1/journal/public-keys", headers={"Origin": "https://cafe.example"}).headers
    )


def test_a_changed_origin_list_reaches_a_warm_instance_within_the_catalog_ttl(
    client, store_id, backend, production, monkeypatch
):
    store = backend.db.document(f"stores/{store_id}")
    store.update({"cors_origins": ["https://old.example"]})
    assert preflight(client, f"/v1/stores/{store_id}/menu", "https://old.example").headers.get(
        "Access-Control-Allow-Origin"
    )
    store.update({"cors_origins": ["https://new.example"]})
    monkeypatch.setattr(backend.catalog.cache, "ttl", 0)  # as if the catalog's few seconds had passed
    assert (
        "Access-Control-Allow-Origin"
        not in preflight(client, f"/v1/stores/{store_id}/menu", "https://old.example").headers
    )
    new = preflight(client, f"/v1/stores/{store_id}/menu", "https://new.example")
    assert new.headers["Access-Control-Allow-Origin"] == "https://new.example"
