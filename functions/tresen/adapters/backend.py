"""The process-wide set of adapters the use cases run against (created lazily, once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..services.documents import Documents
from . import clock
from .archive import ArchiveQueue
from .archive import holds as archive_holds
from .firestore_documents import FirestoreDocuments
from .idempotency import IdempotencyRecords
from .lazy import once
from .repository import CatalogCache
from .store_writer import StoreWriter

HEALTH_TIMEOUT = 2.0


@dataclass
class Backend:
    db: object  # the Firestore client, for what does not go through the storage port yet
    docs: Documents = field(init=False)
    writer: StoreWriter = field(init=False)
    idempotency: IdempotencyRecords = field(init=False)
    archive: ArchiveQueue = field(init=False)
    catalog: CatalogCache = field(init=False)

    def __post_init__(self) -> None:
        self.docs = FirestoreDocuments(self.db)
        self.archive = ArchiveQueue(self.db)
        self.writer = StoreWriter(self.docs, on_committed=self.archive.submit, archived=archive_holds)
        self.archive.on_conflict = self.writer.forget_journal_head
        self.idempotency = IdempotencyRecords(self.docs)
        self.catalog = CatalogCache(self.docs)

    @staticmethod
    def now() -> datetime:
        return clock.now()

    def ping(self) -> None:
        """Raises unless Firestore answers one read within two seconds (one try: a load balancer
        or an operator wants the answer now)."""
        self.db.document("health/probe").get(retry=None, timeout=HEALTH_TIMEOUT)


@once
def backend() -> Backend:
    from .firestore_client import db

    return Backend(db())
