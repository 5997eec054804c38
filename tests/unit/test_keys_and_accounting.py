"""API keys and accounting settings, as use cases on the in-memory backend."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tresen.adapters.api_key_store import api_key_path
from tresen.adapters.backend import Backend
from tresen.domain.accounting import ACCOUNT_NAMES, AccountingSettings, accounting_settings
from tresen.domain.api_keys import KEY_FORMAT, key_hash
from tresen.domain.errors import DomainError
from tresen.services import accounting, api_keys
from tresen.services.accounting import SetAccounting
from tresen.services.api_keys import CreateKey, RevokeKey
from tresen.services.seed import DEMO, DEMO_STORE, seed_store

STORE = DEMO_STORE.id
OTHER = "other"
OWNER = {"type": "staff", "uid": "owner-1", "role": "owner"}
T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend(clock) -> Backend:
    memory = Backend.in_memory()
    memory.now = clock  # the use cases ask the backend for the time
    seed_store(DEMO, memory)
    seed_store(replace(DEMO, store=replace(DEMO_STORE, id=OTHER)), memory)
    return memory


def journal(backend: Backend, store_id: str = STORE) -> list[tuple[str, dict]]:
    return [(entry["type"], entry["data"]) for entry in backend.journal.entries(store_id)]


def refused(code: str, call, *args) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value
    return caught.value


def new_key(backend: Backend, scopes=("journal:read",), store_id: str = STORE, name: str = "DATEV") -> api_keys.NewKey:
    return api_keys.create_key(CreateKey(store_id, name, tuple(scopes), OWNER), backend)


def revoke(backend: Backend, store_id: str, key_id: str) -> None:
    api_keys.revoke_key(RevokeKey(store_id, key_id, OWNER), backend)


def set_settings(backend: Backend, store_id: str, chart: str, consultant, client, accounts) -> AccountingSettings:
    return accounting.set_settings(SetAccounting(store_id, chart, consultant, client, accounts, OWNER), backend)


# ---------------------------------------------------------------- creating, listing, revoking


def test_a_new_key_is_random_shown_once_and_kept_only_as_its_hash(backend):
    created = new_key(backend, ["journal:read", "exports:read", "journal:read"])
    secret, key = created.secret, created.key
    assert secret.startswith("tk_") and len(secret) == 46 and KEY_FORMAT.fullmatch(secret)
    assert new_key(backend).secret != secret
    stored = backend.docs.get(api_key_path(hashlib.sha256(secret.encode()).hexdigest()))
    assert stored.data == {
        "id": key.id,
        "store_id": STORE,
        "name": "DATEV",
        "scopes": ["exports:read", "journal:read"],
        "created_at": T0,
        "created_by": OWNER,
        "revoked_at": None,
        "last_used_at": None,
    }
    everything = json.dumps([stored.data, journal(backend)], default=str)
    assert secret not in everything and secret[3:] not in everything
    assert stored.id not in json.dumps(journal(backend))  # nor its hash
    assert journal(backend)[0] == (
        "api_key.created",
        {"key_id": key.id, "name": "DATEV", "scopes": ["exports:read", "journal:read"]},
    )


def test_a_key_needs_known_scopes_and_a_known_store(backend):
    refused("validation_failed", new_key, backend, ["orders:write"])
    refused("validation_failed", new_key, backend, [])
    refused("store_not_found", new_key, backend, ["journal:read"], "nostore")
    assert journal(backend) == []


def test_the_list_shows_the_stores_keys_oldest_first_revoked_ones_too(backend, clock):
    first = new_key(backend, name="first").key
    clock.now = T0 + timedelta(minutes=1)
    second = new_key(backend, name="second").key
    new_key(backend, store_id=OTHER, name="elsewhere")
    revoke(backend, STORE, first.id)
    listed = api_keys.list_keys(backend, STORE)
    assert [(k.id, k.name, k.revoked_at) for k in listed] == [
        (first.id, "first", clock.now),
        (second.id, "second", None),
    ]


def test_revoking_journals_once_and_unknown_or_foreign_ids_are_not_found(backend, clock):
    key = new_key(backend).key
    foreign = new_key(backend, store_id=OTHER).key
    clock.now = T0 + timedelta(hours=2)
    revoke(backend, STORE, key.id)
    revoke(backend, STORE, key.id)  # a retried DELETE changes nothing
    assert [t for t, _ in journal(backend)] == ["api_key.created", "api_key.revoked"]
    assert journal(backend)[1][1] == {"key_id": key.id}
    refused("api_key_not_found", revoke, backend, STORE, "key_unknown")
    refused("api_key_not_found", revoke, backend, STORE, foreign.id)
    assert api_keys.list_keys(backend, OTHER)[0].revoked_at is None


# ---------------------------------------------------------------- authenticating with a key


def test_a_key_admits_its_own_store_and_scopes_only(backend):
    created = new_key(backend, ["journal:read"])
    assert api_keys.authenticate(backend, created.secret, STORE, "journal:read") == created.key.id
    for store_id, scope, why in [
        (OTHER, "journal:read", "not for store"),
        (STORE, "exports:read", "lacks the scope"),
        (STORE, None, "does not accept API keys"),  # a route that admits no key
    ]:
        error = refused("forbidden", api_keys.authenticate, backend, created.secret, store_id, scope)
        assert why in error.detail


@pytest.mark.parametrize(
    "secret",
    ["tk_" + "A" * 43, "tk_", "tk_short", "tk_" + "A" * 44, "tk_" + "%" * 43, "tk_" + "A" * 42 + "\n"],
)
def test_unknown_and_malformed_keys_are_unauthenticated(backend, secret):
    new_key(backend)
    refused("unauthenticated", api_keys.authenticate, backend, secret, STORE, "journal:read")


def test_a_revoked_key_is_refused_at_once(backend):
    created = new_key(backend)
    api_keys.authenticate(backend, created.secret, STORE, "journal:read")
    revoke(backend, STORE, created.key.id)
    refused("unauthenticated", api_keys.authenticate, backend, created.secret, STORE, "journal:read")


def test_last_use_is_written_at_most_once_an_hour(backend, clock):
    created = new_key(backend)
    path = api_key_path(key_hash(created.secret))
    api_keys.authenticate(backend, created.secret, STORE, "journal:read")
    recorded = backend.docs.get(path)
    assert recorded.data["last_used_at"] == T0
    clock.now = T0 + timedelta(minutes=59)
    for _ in range(5):
        api_keys.authenticate(backend, created.secret, STORE, "journal:read")
    assert backend.docs.get(path).version == recorded.version  # not one write
    clock.now = T0 + timedelta(minutes=61)
    api_keys.authenticate(backend, created.secret, STORE, "journal:read")
    assert backend.docs.get(path).data["last_used_at"] == clock.now


def test_a_refused_use_is_not_recorded(backend):
    created = new_key(backend)
    refused("forbidden", api_keys.authenticate, backend, created.secret, STORE, "exports:read")
    assert api_keys.list_keys(backend, STORE)[0].last_used_at is None


def test_last_use_recorded_by_another_request_meanwhile_is_no_failure(backend):
    created = new_key(backend)
    stored = backend.api_keys.by_hash(key_hash(created.secret))
    api_keys.record_use(backend, stored, T0)
    api_keys.record_use(backend, stored, T0 + timedelta(seconds=1))  # its version read is stale now
    assert backend.api_keys.by_hash(stored.key_hash).key.last_used_at == T0


def test_a_failing_write_of_the_last_use_fails_no_request(backend, monkeypatch, caplog):
    created = new_key(backend)

    def unavailable(writes):
        raise OSError("the database is away")

    monkeypatch.setattr(backend, "commit_writes", unavailable)
    assert api_keys.authenticate(backend, created.secret, STORE, "journal:read") == created.key.id
    assert f"API key {created.key.id}: could not record its last use: OSError" in caplog.text
    assert api_keys.list_keys(backend, STORE)[0].last_used_at is None


# ---------------------------------------------------------------- accounting settings


def test_settings_default_to_skr03_without_numbers(backend):
    settings = accounting.read_settings(backend, STORE)
    assert settings.as_dict() == {"chart": "SKR03", "consultant_number": None, "client_number": None, "accounts": {}}
    assert settings.effective_accounts() == {
        "revenue_7": "8300",
        "revenue_19": "8400",
        "giftcard_liability": "1700",
        "tips": "1590",
        "provider_clearing": "1360",
        "card_clearing": "1360",
        "cash": "1000",
        "bank": "1200",
        "provider_fees": "4970",
    }


def test_skr04_has_its_own_defaults_and_overrides_win():
    settings = AccountingSettings("SKR04", 1234567, 42, {"bank": "1810"})
    assert settings.effective_accounts() == {
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


def test_setting_them_journals_the_new_settings_once(backend):
    changed = set_settings(backend, STORE, "SKR04", 1001, 99999, {"revenue_19": "4401"})
    assert changed.account("revenue_19") == "4401"
    set_settings(backend, STORE, "SKR04", 1001, 99999, {"revenue_19": "4401"})  # a retried PUT
    expected = {"chart": "SKR04", "consultant_number": 1001, "client_number": 99999, "accounts": {"revenue_19": "4401"}}
    assert journal(backend) == [("accounting.changed", expected)]
    assert accounting.read_settings(backend, STORE).as_dict() == expected
    set_settings(backend, STORE, "SKR03", None, None, {})
    assert journal(backend)[-1] == (
        "accounting.changed",
        {"chart": "SKR03", "consultant_number": None, "client_number": None, "accounts": {}},
    )


@pytest.mark.parametrize(
    ("arguments", "fields"),
    [
        (("SKR05", None, None, {}), ["chart"]),
        (("SKR03", 1000, 0, {}), ["consultant_number", "client_number"]),
        (("SKR03", 10_000_000, 100_000, {}), ["consultant_number", "client_number"]),
        (("SKR03", True, None, {}), ["consultant_number"]),
        (("SKR03", None, None, {"revenue19": "8400"}), ["accounts.revenue19"]),
        (("SKR03", None, None, {"bank": "120"}), ["accounts.bank"]),
        (("SKR03", None, None, {"bank": "123456789"}), ["accounts.bank"]),
        (("SKR03", None, None, {"bank": "12a4"}), ["accounts.bank"]),
        (("SKR03", None, None, {"bank": "١٢٣٤"}), ["accounts.bank"]),  # digits, but not ASCII ones
        # DATEV has one account length per client: a 5-digit bank beside 4-digit defaults is refused
        (("SKR03", None, None, {"bank": "12000"}), ["accounts"]),
    ],
)
def test_invalid_settings_name_every_wrong_field(arguments, fields):
    error = refused("validation_failed", accounting_settings, *arguments)
    assert [e.field for e in error.errors] == fields


def test_a_longer_account_length_is_fine_when_every_account_has_it(backend):
    five_digits = {name: f"{n:05d}" for n, name in enumerate(ACCOUNT_NAMES, start=10000)}
    settings = set_settings(backend, STORE, "SKR03", None, None, five_digits)
    assert settings.effective_accounts() == five_digits


def test_invalid_settings_or_an_unknown_store_change_nothing(backend):
    refused("validation_failed", set_settings, backend, STORE, "SKR03", None, None, {"bank": "1"})
    refused("store_not_found", set_settings, backend, "nostore", "SKR03", None, None, {})
    refused("store_not_found", accounting.read_settings, backend, "nostore")
    assert journal(backend) == []
