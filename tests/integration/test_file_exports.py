"""The DSFinV-K and GoBD exports over HTTP: a ZIP for owners, finance and an API key with
`exports:read`; refused to other roles, without credentials and for a bad range."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from support import auth, idem, paid_order

EXPECTED = {"dsfinvk": "cashpointclosing.csv", "gobd": "journal.csv"}


def days() -> dict[str, str]:
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    return {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}


@pytest.mark.parametrize("kind", ["dsfinvk", "gobd"])
def test_the_zip_downloads_for_finance_and_for_an_api_key(client, store_id, kind):
    paid_order(client, store_id)
    assert client.post(f"/v1/stores/{store_id}/closings", headers=auth(store_id, "owner") | idem()).status_code == 201
    key = client.post(
        f"/v1/stores/{store_id}/api-keys", json={"name": "auditor", "scopes": ["exports:read"]},
        headers=auth(store_id, "owner"),
    ).get_json()["key"]  # fmt: skip
    for headers in (auth(store_id, "finance"), {"Authorization": f"Bearer {key}"}):
        response = client.get(f"/v1/stores/{store_id}/export/{kind}", query_string=days(), headers=headers)
        assert (response.status_code, response.content_type) == (200, "application/zip")
        assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{kind}_{store_id}_')
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            names = archive.namelist()
            assert {"index.xml", "gdpdu-01-09-2004.dtd", EXPECTED[kind]} <= set(names)
            assert archive.read(EXPECTED[kind]).count(b"\r\n") >= 2  # a header and at least one row


@pytest.mark.parametrize("kind", ["dsfinvk", "gobd"])
def test_others_are_refused_and_a_bad_range_is_422(client, store_id, kind):
    path = f"/v1/stores/{store_id}/export/{kind}"
    for role in ("staff", "supervisor"):
        assert client.get(path, query_string=days(), headers=auth(store_id, role)).status_code == 403, role
    assert client.get(path, query_string=days()).status_code == 401
    backwards = client.get(
        path, query_string={"from": "2026-11-02", "to": "2026-11-01"}, headers=auth(store_id, "finance")
    )
    assert (backwards.status_code, backwards.get_json()["code"]) == (422, "validation_failed")
    too_long = client.get(
        path, query_string={"from": "2025-01-01", "to": "2026-06-01"}, headers=auth(store_id, "owner")
    )
    assert too_long.status_code == 422
    assert client.get(path, query_string={"from": "x", "to": "y"}, headers=auth(store_id, "owner")).status_code == 422
