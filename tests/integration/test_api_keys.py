"""API keys and accounting settings over HTTP: who may manage them, what a key may call, revocation
at once, last use without a write per request, and the journal of every change."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from support import auth, idem
from tresen.adapters.api_key_store import api_key_path
from tresen.domain.api_keys import SCOPES
from tresen.http.router import ROUTES
from tresen.services.seed import DEMO, DEMO_STORE, seed_store
from tresen.wiring import entry_router as router

router()  # registers every route
ROLES = ("owner", "supervisor", "staff", "finance")
JOURNAL = "/v1/stores/{store}/journal"
CHECKPOINTS = JOURNAL + "/checkpoints"
EXPORT = "/v1/stores/{store}/export/{kind}"
SETTINGS = {"chart": "SKR04", "consultant_number": 1234567, "client_number": 42, "accounts": {"bank": "1810"}}
# endpoint → (method, path, body, roles allowed, success status)
ENDPOINTS = {
    "create key": ("POST", "/v1/stores/{store}/api-keys", {"name": "n", "scopes": ["journal:read"]}, ("owner",), 201),
    "list keys": ("GET", "/v1/stores/{store}/api-keys", None, ("owner",), 200),
    "revoke key": ("DELETE", "/v1/stores/{store}/api-keys/{key}", None, ("owner",), 204),
    "read accounting": ("GET", "/v1/stores/{store}/accounting", None, ("owner", "finance"), 200),
    "set accounting": ("PUT", "/v1/stores/{store}/accounting", SETTINGS, ("owner",), 200),
}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def create_key(client, store_id, scopes=("journal:read",), name="DATEV export") -> dict:
    response = client.post(
        f"/v1/stores/{store_id}/api-keys", json={"name": name, "scopes": list(scopes)}, headers=auth(store_id, "owner")
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def revoke(client, store_id, key_id, role="owner"):
    return client.delete(f"/v1/stores/{store_id}/api-keys/{key_id}", headers=auth(store_id, role))


def key_doc(backend, secret):
    return backend.docs.get(api_key_path(hashlib.sha256(secret.encode()).hexdigest()))


def entries(backend, store_id) -> list[tuple[str, dict, dict]]:
    return [(e["type"], e["data"], e["actor"]) for e in backend.journal.entries(store_id)]


def other_store(backend) -> str:
    other = f"t{uuid.uuid4().hex[:12]}"
    seed_store(replace(DEMO, store=replace(DEMO_STORE, id=other)), backend)
    return other


# ---------------------------------------------------------------- who manages keys and settings


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_role_gets_its_expected_answer(client, store_id, endpoint):
    method, template, body, allowed, success = ENDPOINTS[endpoint]
    for role in ROLES:
        key_id = create_key(client, store_id)["id"]  # a fresh one: each allowed revoke needs its own
        path = template.format(store=store_id, key=key_id)
        response = client.open(path, method=method, json=body, headers=auth(store_id, role, uid=f"u-{role}"))
        expected = (success, None) if role in allowed else (403, "forbidden")
        assert response.status_code == expected[0], (endpoint, role, response.get_data(as_text=True))
        if expected[1]:
            assert response.get_json()["code"] == "forbidden", (endpoint, role)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_token_or_another_stores_owner_is_refused(client, store_id, endpoint):
    method, template, body, _, _ = ENDPOINTS[endpoint]
    path = template.format(store=store_id, key=create_key(client, store_id)["id"])
    for headers, status, code in [
        ({}, 401, "unauthenticated"),
        (bearer("garbage"), 401, "unauthenticated"),
        (auth("another-store", "owner"), 403, "forbidden"),
    ]:
        response = client.open(path, method=method, json=body, headers=headers)
        assert (response.status_code, response.get_json()["code"]) == (status, code), (endpoint, headers)


def test_keys_are_created_listed_without_secrets_and_revoked_journaled(client, store_id, backend):
    created = create_key(client, store_id, ["journal:read", "exports:read"])
    secret, key_id = created["key"], created["id"]
    assert secret.startswith("tk_") and len(secret) == 46 and key_id.startswith("key_")
    assert (created["name"], created["scopes"]) == ("DATEV export", ["exports:read", "journal:read"])
    assert key_doc(backend, secret).data["id"] == key_id
    listed = client.get(f"/v1/stores/{store_id}/api-keys", headers=auth(store_id, "owner", uid="boss"))
    [shown] = listed.get_json()["data"]
    assert shown == {
        "id": key_id,
        "name": "DATEV export",
        "scopes": ["exports:read", "journal:read"],
        "created_at": created["created_at"],
        "created_by": {"type": "staff", "uid": "staff-1", "role": "owner"},
        "revoked_at": None,
        "last_used_at": None,
    }
    key_hash = hashlib.sha256(secret.encode()).hexdigest()
    assert secret[3:] not in listed.get_data(as_text=True) and key_hash not in listed.get_data(as_text=True)

    response = revoke(client, store_id, key_id)
    assert (response.status_code, response.get_data()) == (204, b"")
    assert revoke(client, store_id, key_id).status_code == 204  # a retry: nothing journaled again
    [shown] = client.get(f"/v1/stores/{store_id}/api-keys", headers=auth(store_id, "owner")).get_json()["data"]
    assert shown["revoked_at"] is not None and shown["revoked_at"] >= shown["created_at"]
    owner = {"type": "staff", "uid": "staff-1", "role": "owner"}
    assert entries(backend, store_id) == [
        (
            "api_key.created",
            {"key_id": key_id, "name": "DATEV export", "scopes": ["exports:read", "journal:read"]},
            owner,
        ),
        ("api_key.revoked", {"key_id": key_id}, owner),
    ]
    journal_text = json.dumps(backend.journal.entries(store_id))
    assert secret[3:] not in journal_text and key_hash not in journal_text


def test_revoking_an_unknown_malformed_or_another_stores_key_is_not_found(client, store_id, backend):
    foreign = create_key(client, other_store(backend))["id"]
    for key_id in ("key_unknown", foreign, "__x__", "a.b"):
        response = revoke(client, store_id, key_id)
        assert (response.status_code, response.get_json()["code"]) == (404, "api_key_not_found"), key_id
    assert entries(backend, store_id) == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "", "scopes": ["journal:read"]}, ["name"]),
        ({"name": "x", "scopes": []}, ["scopes"]),
        ({"name": "x", "scopes": ["orders:write"]}, ["scopes[0]"]),
        ({"name": "x"}, ["scopes"]),
    ],
)
def test_a_key_needs_a_name_and_known_scopes(client, store_id, backend, body, fields):
    response = client.post(f"/v1/stores/{store_id}/api-keys", json=body, headers=auth(store_id, "owner"))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == fields
    assert entries(backend, store_id) == []


# ---------------------------------------------------------------- calling with a key


def test_a_key_reads_its_stores_journal_until_revoked(client, store_id):
    created = create_key(client, store_id)
    path = CHECKPOINTS.format(store=store_id)
    response = client.get(path, headers=bearer(created["key"]))
    assert (response.status_code, response.get_json()) == (200, {"data": [], "next_cursor": None, "has_more": False})
    assert revoke(client, store_id, created["id"]).status_code == 204
    response = client.get(path, headers=bearer(created["key"]))
    assert (response.status_code, response.get_json()["code"]) == (401, "unauthenticated")


def test_an_exports_key_reads_the_order_export_and_a_journal_key_does_not(client, store_id):
    exports_key = create_key(client, store_id, ["exports:read"])["key"]
    journal_key = create_key(client, store_id, ["journal:read"])["key"]
    path = EXPORT.format(store=store_id, kind="orders")
    response = client.get(path, headers=bearer(exports_key))
    assert (response.status_code, response.get_json()["data"]) == (200, [])
    response = client.get(path, headers=bearer(journal_key))
    assert (response.status_code, response.get_json()["code"]) == (403, "forbidden")


def test_unknown_malformed_foreign_and_wrong_scope_keys_are_refused(client, store_id, backend):
    exports_only = create_key(client, store_id, ["exports:read"])["key"]
    foreign = create_key(client, other_store(backend))["key"]
    unknown = "tk_" + "A" * 43
    cases = [
        (unknown, 401, "unauthenticated"),
        ("tk_", 401, "unauthenticated"),
        ("tk_short", 401, "unauthenticated"),
        (exports_only + "x", 401, "unauthenticated"),
        (foreign, 403, "forbidden"),
        (exports_only, 403, "forbidden"),
    ]
    for secret, status, code in cases:
        response = client.get(CHECKPOINTS.format(store=store_id), headers=bearer(secret))
        assert (response.status_code, response.get_json()["code"]) == (status, code), secret


def path_of(route, store_id: str) -> str:
    """The route's path in `store_id`, every other id made up (`1`: a journal seq must be digits)."""
    known = {"store": store_id, "kind": "orders"}
    return re.sub(r"\{(\w+)\}", lambda m: known.get(m[1], "1"), route.path)


@pytest.mark.parametrize("scope", ["journal:read", "exports:read"])
def test_every_route_admits_exactly_the_keys_of_its_scope(client, store_id, scope):
    """Over every route that admits a key: one with the scope gets past authentication (a 404 or
    422 of a made-up id or query is fine), one with only the other scope is forbidden."""
    keyed = [r for r in ROUTES if r.access.key_scope == scope]
    assert {
        "journal:read": {CHECKPOINTS, CHECKPOINTS + "/latest", JOURNAL + "/entries/{seq}", JOURNAL + "/consistency"},
        "exports:read": {EXPORT, *(EXPORT.replace("{kind}", kind) for kind in ("datev", "dsfinvk", "gobd"))},
    }[scope] == {r.path for r in keyed}
    other = next(s for s in SCOPES if s != scope)
    holding, lacking = create_key(client, store_id, [scope])["key"], create_key(client, store_id, [other])["key"]
    for route in keyed:
        admitted = client.open(path_of(route, store_id), method=route.method, headers=bearer(holding))
        assert admitted.status_code not in (401, 403), (route.path, admitted.get_json())
        refused = client.open(path_of(route, store_id), method=route.method, headers=bearer(lacking))
        assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden"), route.path


def test_routes_that_admit_no_key_refuse_even_a_key_with_every_scope(client, store_id):
    secret = create_key(client, store_id, ["journal:read", "exports:read"])["key"]
    keyless = [r for r in ROUTES if r.access.kind in ("staff", "card_staff") and r.access.key_scope is None]
    assert {"/v1/stores/{store}/orders", "/v1/stores/{store}/api-keys", "/v1/giftcards/{code}"} <= {
        r.path for r in keyless
    }
    for route in keyless:
        # a body is read (and its type checked) before the caller
        body = {"json": {} if route.body else None} if not route.raw_type else {"content_type": route.raw_type}
        response = client.open(path_of(route, store_id), method=route.method, headers=bearer(secret) | idem(), **body)
        assert (response.status_code, response.get_json()["code"]) == (403, "forbidden"), (route.method, route.path)


def test_last_use_is_recorded_once_not_per_request(client, store_id, backend):
    created = create_key(client, store_id)
    path = CHECKPOINTS.format(store=store_id)
    assert key_doc(backend, created["key"]).data["last_used_at"] is None
    for _ in range(3):
        assert client.get(path, headers=bearer(created["key"])).status_code == 200
    recorded = key_doc(backend, created["key"])
    assert recorded.data["last_used_at"] is not None
    for _ in range(3):
        assert client.get(path, headers=bearer(created["key"])).status_code == 200
    assert key_doc(backend, created["key"]).version == recorded.version  # no write since
    [shown] = client.get(f"/v1/stores/{store_id}/api-keys", headers=auth(store_id, "owner")).get_json()["data"]
    assert shown["last_used_at"] is not None

    # an hour later the next use is recorded again
    hour_ago = recorded.data["last_used_at"] - timedelta(hours=1, seconds=1)
    backend.db.document(recorded.path).update({"last_used_at": hour_ago})
    assert client.get(path, headers=bearer(created["key"])).status_code == 200
    assert key_doc(backend, created["key"]).data["last_used_at"] > hour_ago + timedelta(hours=1)


# ---------------------------------------------------------------- accounting settings


def test_accounting_settings_default_then_set_and_journaled(client, store_id, backend):
    path = f"/v1/stores/{store_id}/accounting"
    response = client.get(path, headers=auth(store_id, "finance"))
    assert response.status_code == 200
    assert response.get_json() == {
        "chart": "SKR03",
        "consultant_number": None,
        "client_number": None,
        "accounts": {},
        "effective_accounts": {
            "revenue_7": "8300",
            "revenue_19": "8400",
            "giftcard_liability": "1700",
            "tips": "1590",
            "provider_clearing": "1360",
            "card_clearing": "1360",
            "cash": "1000",
            "bank": "1200",
            "provider_fees": "4970",
        },
    }
    expected = SETTINGS | {
        "effective_accounts": {
            "revenue_7": "4300",
            "revenue_19": "4400",
            "giftcard_liability": "3500",
            "tips": "1370",
            "provider_clearing": "1460",
            "card_clearing": "1460",
            "cash": "1600",
            "bank": "1810",
            "provider_fees": "6855",
        }
    }
    for _ in range(2):  # the second PUT changes nothing and journals nothing
        response = client.put(path, json=SETTINGS, headers=auth(store_id, "owner"))
        assert (response.status_code, response.get_json()) == (200, expected)
    assert client.get(path, headers=auth(store_id, "finance")).get_json() == expected
    assert entries(backend, store_id) == [
        ("accounting.changed", SETTINGS, {"type": "staff", "uid": "staff-1", "role": "owner"})
    ]


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"chart": "SKR05"}, ["chart"]),
        ({"consultant_number": 1000}, ["consultant_number"]),
        ({"consultant_number": "1234"}, ["consultant_number"]),  # strings are not numbers here
        ({"client_number": 100000}, ["client_number"]),
        ({"accounts": {"bank": "12"}}, ["accounts.bank"]),
        ({"accounts": {"revenue19": "8400"}}, ["accounts.revenue19.[key]"]),
        ({"accounts": {"bank": "12000"}}, ["accounts"]),  # one account length per DATEV client
    ],
)
def test_invalid_accounting_settings_are_422_and_change_nothing(client, store_id, backend, change, fields):
    response = client.put(f"/v1/stores/{store_id}/accounting", json=SETTINGS | change, headers=auth(store_id, "owner"))
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_failed")
    assert [e["field"] for e in response.get_json()["errors"]] == fields
    assert entries(backend, store_id) == []


def test_an_unknown_store_has_no_settings_and_no_keys(client):
    for method, path, body in [
        ("GET", "/v1/stores/nostore/accounting", None),
        ("PUT", "/v1/stores/nostore/accounting", SETTINGS),
        ("POST", "/v1/stores/nostore/api-keys", {"name": "n", "scopes": ["journal:read"]}),
        ("GET", "/v1/stores/nostore/api-keys", None),
    ]:
        response = client.open(path, method=method, json=body, headers=auth("nostore", "owner"))
        assert (response.status_code, response.get_json()["code"]) == (404, "store_not_found"), (method, path)
