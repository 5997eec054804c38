"""Document reads counted as Firestore bills them, where a measurement asks for it (`TRESEN_COUNT_READS`,
dev only): what an idle staff board costs an hour, with its sign-in's and every reconnect's reads.

It stands in front of the storage port (services/documents.py) and passes everything through: a read
of one document costs one read (found or not), a query one per document it answers and at least one,
writes nothing. The listeners count their own (adapters/live_feed.py `ListenerReads`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ..services.documents import Batch, Doc, Documents


class CountedDocuments:
    def __init__(self, docs: Documents):
        self._docs = docs
        self._lock = threading.Lock()
        self.reads = 0

    def _count(self, reads: int) -> None:
        with self._lock:
            self.reads += reads

    def get(self, path: str) -> Doc | None:
        self._count(1)
        return self._docs.get(path)

    def get_all(self, paths: Sequence[str]) -> list[Doc | None]:
        self._count(len(paths))
        return self._docs.get_all(paths)

    def query(self, collection: str, *args: Any, **options: Any) -> list[Doc]:
        found = self._docs.query(collection, *args, **options)
        self._count(max(len(found), 1))
        return found

    def batch(self) -> Batch:
        return self._docs.batch()
