"""Unit-test fixtures: the use cases run on the in-memory backend, in milliseconds."""

from __future__ import annotations

import pytest

from tresen.adapters.backend import Backend
from tresen.services.seed import DEMO, seed_store


@pytest.fixture
def backend() -> Backend:
    """The demo store in memory (overrides the emulator-backed `backend` of tests/conftest.py)."""
    memory = Backend.in_memory()
    seed_store(DEMO, memory)
    return memory
