"""Statements over HTTP against the emulators: made and read back, each file downloaded through
its signed URL from the storage emulator; who may make and read them; what is refused; and a
bucket that does not answer (503, nothing listed, nothing journaled)."""

from __future__ import annotations

import hashlib
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from support import auth, idem, journal_types, paid_order, refund


def business_day() -> str:
    return (datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(hours=5)).date().isoformat()


def make(client, store_id, body=None, role="finance", headers=None):
    day = business_day()
    return client.post(
        f"/v1/stores/{store_id}/statements",
        json=body if body is not None else {"from": day, "to": day},
        headers=auth(store_id, role) | (headers if headers is not None else idem()),
    )


def test_a_statement_is_made_read_back_and_each_file_downloads_through_its_signed_url(client, store_id, backend):
    placed = paid_order(client, store_id)
    assert refund(client, store_id, placed["id"], {"amount": 200}, role="owner").status_code == 201
    key = idem()
    made = make(client, store_id, headers=key)
    assert made.status_code == 201, made.get_data(as_text=True)
    summary = made.get_json()
    assert summary["counts"] == {"payments": 1, "refunds": 1, "unmatched": 2, "mismatched": 0, "payouts": 0}
    assert summary["closings"]["covered"] is False and all(f["url"] is None for f in summary["files"])
    replay = make(client, store_id, headers=key)
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed"), replay.get_json()) == (201, "true", summary)

    read = client.get(f"/v1/stores/{store_id}/statements/{summary['id']}", headers=auth(store_id, "owner"))
    assert read.status_code == 200
    files = read.get_json()["files"]
    assert [f["name"] for f in files] == [f["name"] for f in summary["files"]]
    for file in files:
        assert "X-Goog-Signature=" in file["url"] and "X-Goog-Expires=900" in file["url"]
        with urllib.request.urlopen(file["url"], timeout=10) as response:  # no credentials
            content = response.read()
        assert hashlib.sha256(content).hexdigest() == file["sha256"], file["name"]
    assert journal_types(backend, store_id)[-1] == "statement.created"


def test_only_owners_and_finance_make_and_read_statements(client, store_id):
    for role in ("staff", "supervisor"):
        refused = make(client, store_id, role=role)
        assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden"), role
    made = make(client, store_id, role="owner").get_json()
    path = f"/v1/stores/{store_id}/statements/{made['id']}"
    assert client.get(path, headers=auth(store_id, "supervisor")).status_code == 403
    assert client.get(path).status_code == 401
    other = client.get(path.replace(store_id, "elsewhere"), headers=auth("elsewhere", "finance"))
    assert (other.status_code, other.get_json()["code"]) == (404, "statement_not_found")


def test_bad_periods_and_unknown_statements_are_refused_with_their_reason(client, store_id):
    day = business_day()
    cases = [
        ({"from": day}, "to"),
        ({"from": day, "to": "2026-02-30"}, "to"),
        ({"from": day, "to": "2020-01-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-06-01"}, "to"),
        ({"from": day, "to": day, "extra": 1}, "extra"),
    ]
    for body, field in cases:
        refused = make(client, store_id, body)
        assert refused.status_code == 422, body
        assert field in [error["field"] for error in refused.get_json()["errors"]], (body, refused.get_json())
    assert make(client, store_id, headers={}).status_code == 400  # no Idempotency-Key
    for missing in ("stm_nothing", "bad.id", "a" * 200):
        found = client.get(f"/v1/stores/{store_id}/statements/{missing}", headers=auth(store_id, "finance"))
        assert (found.status_code, found.get_json()["code"]) == (404, "statement_not_found"), missing


def test_a_bucket_that_does_not_answer_is_503_and_nothing_is_listed_or_journaled(
    client, store_id, backend, monkeypatch
):
    from tresen.adapters import archive

    paid_order(client, store_id)
    before = journal_types(backend, store_id)

    def unreachable(*args, **kwargs):
        raise requests.exceptions.ConnectionError("bucket unreachable")

    monkeypatch.setattr(archive, "put_create_only", unreachable)
    refused = make(client, store_id)
    assert (refused.status_code, refused.get_json()["code"]) == (503, "service_unavailable")
    assert refused.headers["Retry-After"] == "1"
    assert journal_types(backend, store_id) == before
    assert backend.docs.query(f"stores/{store_id}/statements") == []
