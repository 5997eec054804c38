"""Shared fixtures. The emulators start once per session, on free ports, only if a test needs them."""

from __future__ import annotations

import json
import os
import sys
import uuid
from dataclasses import replace

import pytest

pytest.register_assert_rewrite("stack", "support")  # their asserts fail as informatively as a test's own
from auth_emulator import auth_emulator, auth_emulator_session  # noqa: E402, F401  (fixtures)
from stack import ROOT, free_port  # noqa: E402  (after the line above, or their asserts stay plain)

sys.path.insert(0, str(ROOT / "functions"))  # main.py lives beside the package, as when deployed
os.environ["TRESEN_ENV"] = "dev"
os.environ.setdefault("GOOGLE_CLOUD_PROJECT", "demo-tresen")
os.environ["AUTH_PORT"] = "0"  # each stack the tests start runs its Auth emulator on a free port
# sales on site unsigned, except where a test gives them a TSE (tests/unit/test_tse_use_cases.py,
# tests/integration/test_tse.py): the other tests are about other things
os.environ.setdefault("TRESEN_TSE", "off")
for leaked in ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE", "K_SERVICE"):
    os.environ.pop(leaked, None)


@pytest.fixture(scope="session")
def emulators():
    from tresen.devstack import LocalStack

    stack = LocalStack(
        firestore_port=free_port(), storage_port=free_port(), rules=ROOT / "firestore.rules", project="demo-tresen"
    )
    stack.start()
    from tresen.adapters.archive import ensure_bucket

    ensure_bucket()
    yield stack
    stack.stop(export=False)


@pytest.fixture(scope="session")
def backend(emulators):
    from tresen.adapters.backend import backend as make_backend

    instance = make_backend()
    yield instance
    instance.archive.drain()  # before the emulators stop, or the last writes retry for a minute


@pytest.fixture
def store_id(backend) -> str:
    """A fresh copy of the demo store under a unique id, so tests never see each other's data."""
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    new_id = f"t{uuid.uuid4().hex[:12]}"
    seed_store(SeedStore(replace(DEMO_STORE, id=new_id), DEMO_PRODUCTS), backend)
    return new_id


@pytest.fixture(scope="session")
def app(emulators):
    import functions_framework

    application = functions_framework.create_app(target="dev", source=str(ROOT / "functions" / "main.py"))
    for name in ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE"):
        os.environ.pop(name, None)
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def stripe_store(backend, store_id, monkeypatch):
    """A store paid online through Stripe on the deployment's own account (no Connect), with an API
    key configured and Stripe faked."""
    from fake_stripe import FakeStripe
    from tresen.adapters import payments, stripe_provider
    from tresen.config import settings
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    fake = FakeStripe()
    monkeypatch.setattr(stripe_provider, "HTTP_CLIENT", fake)
    with_key = replace(settings(), stripe_api_key="sk_test_fake", stripe_connect=False)
    for module in (stripe_provider, payments):
        monkeypatch.setattr(module, "settings", lambda: with_key)
    stripe_id = store_id + "s"
    seed_store(SeedStore(replace(DEMO_STORE, id=stripe_id, online_providers=("stripe",)), DEMO_PRODUCTS), backend)
    return stripe_id, fake


@pytest.fixture
def reports(monkeypatch) -> list[dict]:
    """What the sandbox's simulated card reader sends to Tresen's webhook, held back until the test
    delivers it."""
    from tresen.adapters import sandbox_sender

    sent: list[dict] = []
    monkeypatch.setattr(sandbox_sender, "send_later", sent.append)
    return sent


@pytest.fixture(scope="session", autouse=True)
def entries_match_their_json_schemas():
    """Every entry the store writer appends, in any test of this process, must match the checked-in
    JSON Schema of its type and version (tresen/journal_schema). Its payload passed the pydantic
    model already (`make_entry` validates on every write), so checking that again would prove
    nothing; this checks what make_entry does not: the files auditors are given, and the envelope
    (actor, `at` in UTC, the hashes) of every entry the whole suite makes. One Rust validator per
    file: microseconds an entry."""
    import jsonschema_rs

    from tresen.adapters import store_writer
    from tresen.journal_docs import SCHEMAS

    validators = {
        path.name: jsonschema_rs.validator_for(json.loads(path.read_text())) for path in SCHEMAS.glob("*.json")
    }
    make_entry = store_writer.make_entry

    def checked(**arguments):
        entry = make_entry(**arguments)
        name = f"{entry['type']}.v{entry.get('v', 1)}.json"
        assert name in validators, f"no tresen/journal_schema/{name}: run `tresen journal-schema`"
        errors = [
            f"/{'/'.join(map(str, error.instance_path))}: {error.message}"
            for error in validators[name].iter_errors(entry)
        ]
        assert not errors, f"entry {entry['seq']} does not match {name}: {'; '.join(errors)}"
        return entry

    store_writer.make_entry = checked
    yield
    store_writer.make_entry = make_entry
