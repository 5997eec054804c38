"""Unit-test fixtures: the use cases run on the in-memory backend, in milliseconds."""

from __future__ import annotations

import pytest

from tresen.adapters.backend import Backend
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, seed_store


@pytest.fixture
def backend() -> Backend:
    """The demo store in memory (overrides the emulator-backed `backend` of tests/conftest.py)."""
    memory = Backend.in_memory()
    seed_store(memory.docs, DEMO_STORE, DEMO_PRODUCTS)
    return memory
