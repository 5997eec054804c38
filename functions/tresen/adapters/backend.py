"""The process-wide set of adapters the use cases run against (created lazily, once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from . import clock
from .archive import archive_entries
from .idempotency import IdempotencyRecords
from .lazy import once
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


@once
def backend() -> Backend:
    from .firestore_client import db

    return Backend(db())
