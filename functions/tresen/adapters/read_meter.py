"""Document operations counted as Firestore bills them, where a measurement asks for it
(`TRESEN_COUNT_READS`, dev only: what an idle staff board costs an hour, with its sign-in's and every
reconnect's reads; the tests: what one order costs, and which collections it writes).

It stands in front of the storage port (services/documents.py) and passes everything through: a read
of one document costs one read (found or not), a query one per document it answers and at least one;
each document a committed batch creates, sets, updates or increments is one write, each it deletes
one delete (a batch that fails its precondition commits nothing and is counted as nothing). The
listeners count their own (adapters/live_feed.py `ListenerReads`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..services.documents import Batch, Doc, Documents

# (kind, path, data) of a committed write: kind is create, set, update, increment (its data the
# other fields and the counter's step) or delete (no data)
Write = tuple[str, str, Mapping[str, Any] | None]
Written = Callable[[str, str, Mapping[str, Any] | None], None]


class CountedDocuments:
    def __init__(self, docs: Documents, on_written: Written | None = None):
        self._docs = docs
        self._on_written = on_written
        self._lock = threading.Lock()
        self.reads = 0
        self.writes = 0
        self.deletes = 0

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
        return CountedBatch(self._docs.batch(), self._committed)

    def watch(self, path: str, on_change: Callable[[Doc | None], None]) -> Callable[[], None]:
        """Each snapshot one read, as Firestore bills a listener's changed document."""

        def counted(doc: Doc | None) -> None:
            self._count(1)
            on_change(doc)

        return self._docs.watch(path, counted)

    def _committed(self, operations: list[Write]) -> None:
        deletes = sum(kind == "delete" for kind, _, _ in operations)
        with self._lock:
            self.writes += len(operations) - deletes
            self.deletes += deletes
        if self._on_written is not None:
            for operation in operations:
                self._on_written(*operation)


class CountedBatch:
    """A batch that tells its meter what it wrote once the commit succeeded."""

    def __init__(self, batch: Batch, committed: Callable[[list[Write]], None]):
        self._batch = batch
        self._committed = committed
        self._operations: list[Write] = []

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        self._operations.append(("create", path, data))
        self._batch.create(path, data)

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        self._operations.append(("set", path, data))
        self._batch.set(path, data)

    def update(self, path: str, data: Mapping[str, Any], version: Any = None) -> None:
        self._operations.append(("update", path, data))
        self._batch.update(path, data, version)

    def delete(self, path: str, version: Any = None) -> None:
        self._operations.append(("delete", path, None))
        self._batch.delete(path, version)

    def increment(self, path: str, field: str, by: int, also: Mapping[str, Any]) -> None:
        self._operations.append(("increment", path, {**also, field: by}))
        self._batch.increment(path, field, by, also)

    def commit(self) -> list[Any]:
        results = self._batch.commit()
        self._committed(self._operations)
        return results
