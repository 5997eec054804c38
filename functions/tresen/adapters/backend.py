"""The process-wide set of adapters the use cases run against (created lazily, once)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from . import clock
from .archive import archive_entries
from .idempotency import IdempotencyRecords
from .store_writer import StoreWriter


@dataclass
class Backend:
    db: object
    writer: StoreWriter = field(init=False)
    idempotency: IdempotencyRecords = field(init=False)

    def __post_init__(self) -> None:
        self.writer = StoreWriter(self.db, on_committed=lambda entries: archive_entries(self.db, entries))
        self.idempotency = IdempotencyRecords(self.db)

    @staticmethod
    def now() -> datetime:
        return clock.now()


_lock = threading.Lock()
_backend: Backend | None = None


def backend() -> Backend:
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                from .firestore_client import db

                _backend = Backend(db())
    return _backend
