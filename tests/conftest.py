"""Shared fixtures. The emulators start once per session, on free ports, only if a test needs them."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))  # main.py lives beside the package, as when deployed
os.environ["TRESEN_ENV"] = "dev"
os.environ.setdefault("GOOGLE_CLOUD_PROJECT", "demo-tresen")
for leaked in ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE", "K_SERVICE"):
    os.environ.pop(leaked, None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, seed_store

    new_id = f"t{uuid.uuid4().hex[:12]}"
    seed_store(backend.db, replace(DEMO_STORE, id=new_id), DEMO_PRODUCTS)
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
