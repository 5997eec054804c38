"""Store passkeys: per-action protection, attribution, and a lockout kept in Firestore."""

import json
from datetime import timedelta

import pytest

from support import journal_types, paid_order, refund, set_passkey
from tresen.adapters.backend import Backend
from tresen.domain.errors import DomainError
from tresen.services.passkeys import approve


def test_setting_the_passkey_is_owner_or_supervisor_and_journaled_without_the_pin(client, store_id, backend):
    assert set_passkey(client, store_id, role="staff").status_code == 403
    assert set_passkey(client, store_id, pin="12345").status_code == 422
    assert set_passkey(client, store_id, protect=("everything",)).status_code == 422
    response = set_passkey(client, store_id, role="supervisor")
    assert (response.status_code, response.get_data()) == (204, b"")
    [entry] = backend.journal.entries(store_id)
    assert (entry["type"], entry["data"], entry["actor"]["role"]) == (
        "passkey.changed",
        {"protect": ["refund"]},
        "supervisor",
    )
    assert "246810" not in json.dumps(entry)
    assert backend.db.document(f"passkeys/{store_id}").get().get("hash").startswith("$argon2")


def test_protected_refunds_need_the_passkey_from_everyone_and_record_it(client, store_id, backend):
    order = paid_order(client, store_id)
    assert refund(client, store_id, order["id"], {"amount": 100}, role="owner").status_code == 201
    set_passkey(client, store_id)
    cases = [({}, 403, "passkey_required"), ({"X-Passkey": "000000"}, 403, "passkey_invalid")]
    for extra, status, code in cases:
        response = refund(
            client, store_id, order["id"], {"amount": 100}, role="owner", headers={"Idempotency-Key": code} | extra
        )
        assert (response.status_code, response.get_json()["code"]) == (status, code)
    ok = refund(
        client,
        store_id,
        order["id"],
        {"amount": 100},
        role="staff",
        headers={"Idempotency-Key": "good", "X-Passkey": "246810"},
    )
    assert ok.status_code == 201
    created = [e for e in backend.journal.entries(store_id) if e["type"] == "refund.created"][-1]
    assert created["actor"] == {"type": "staff", "uid": "staff-1", "role": "staff", "passkey": True}


def test_staff_refunds_always_need_the_passkey(client, store_id):
    order = paid_order(client, store_id)
    response = refund(client, store_id, order["id"], {"amount": 100}, role="staff")
    assert (response.status_code, response.get_json()["code"]) == (403, "passkey_required")


def test_five_wrong_passkeys_lock_for_fifteen_minutes_across_instances(client, store_id, backend):
    set_passkey(client, store_id)
    now = backend.now()
    for _ in range(5):
        with pytest.raises(DomainError, match="passkey_invalid"):
            approve(backend, store_id, "refund", "owner", "111111")
    fresh_instance = Backend(backend.db)  # as after a restart: nothing in memory
    for offered in ("111111", "246810"):
        with pytest.raises(DomainError, match="passkey_locked"):
            approve(fresh_instance, store_id, "refund", "owner", offered)
    locked_until = backend.db.document(f"passkeys/{store_id}").get().get("locked_until")
    assert timedelta(minutes=14) < locked_until - now <= timedelta(minutes=15, seconds=5)


def test_a_success_resets_the_failure_count(client, store_id, backend):
    set_passkey(client, store_id)
    for _ in range(4):
        with pytest.raises(DomainError, match="passkey_invalid"):
            approve(backend, store_id, "refund", "owner", "111111")
    assert approve(backend, store_id, "refund", "owner", "246810") is True
    assert backend.db.document(f"passkeys/{store_id}").get().get("failures") == 0
    assert approve(backend, store_id, "discount", "owner", None) is False  # not protected


def test_journal_keeps_passkey_changes(client, store_id, backend):
    set_passkey(client, store_id)
    set_passkey(client, store_id, protect=("refund", "discount"))
    assert journal_types(backend, store_id) == ["passkey.changed", "passkey.changed"]
