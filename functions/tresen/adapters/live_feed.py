"""The live feed (services/live.py `LiveFeed`) on Firestore's listeners, and its twin in memory.

Each stream opens one listener (google-cloud-firestore's watch, which the emulator serves too) on
exactly what it shows: the store's orders changed since it began (`store_id ==`, `updated_at >`:
the composite index in firestore.indexes.json), or the one order document, and while that order is
out for delivery its tour's document. The listener's callback runs on the library's consumer
thread; what it is given goes to the stream's `deliver` at once.

Reads are counted as Firestore bills a listener (`ListenerReads`), for the tests and the bench: its
first snapshot one read per document, at least one for a query that finds nothing; afterwards one
per document that changed. A quiet listener costs nothing more.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.orders import Order
from ..domain.tours import Tour
from ..services.documents import Documents
from .repository import order_from_doc, order_path
from .tour_store import tour_from_doc, tour_path

if TYPE_CHECKING:  # annotations only: the streams' module loads with the first stream, not every cold start
    from ..services.live import Deliver

ORDERS = "orders"


class ListenerReads:
    """The listeners opened, the documents they delivered, and the reads Firestore bills for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.listeners = 0
        self.documents = 0
        self.reads = 0

    def opened(self) -> None:
        with self._lock:
            self.listeners += 1

    def delivered(self, documents: int, first: bool) -> None:
        with self._lock:
            self.documents += documents
            self.reads += max(documents, 1) if first else documents

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"listeners": self.listeners, "documents": self.documents, "reads": self.reads}


class FirestoreListener:
    """One watch: listening until the stream closes it, or until Firestore ends it for good."""

    def __init__(self, watch):
        self._watch = watch

    @property
    def listening(self) -> bool:
        return self._watch.is_active

    def close(self) -> None:
        self._watch.unsubscribe()


class FirestoreLiveFeed:
    def __init__(self, db):
        self._db = db
        self.reads = ListenerReads()

    def store_orders(self, store_id: str, changed_after: datetime, deliver: Deliver) -> FirestoreListener:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = (
            self._db.collection(ORDERS)
            .where(filter=FieldFilter("store_id", "==", store_id))
            .where(filter=FieldFilter("updated_at", ">", changed_after))
        )
        return self._listen(query, order_from_doc, deliver)

    def order(self, order_id: str, deliver: Deliver) -> FirestoreListener:
        return self._listen(self._db.document(order_path(order_id)), order_from_doc, deliver)

    def tour(self, tour_id: str, deliver: Deliver) -> FirestoreListener:
        return self._listen(self._db.document(tour_path(tour_id)), tour_from_doc, deliver)

    def _listen(self, target, read: Callable[[dict[str, Any]], Any], deliver: Deliver) -> FirestoreListener:
        self.reads.opened()
        first = threading.Event()

        def on_snapshot(snapshots, changes, read_time) -> None:
            # a document that stopped existing (or an order erased from the store) has nothing to show
            changed = [change.document for change in changes if change.type.name != "REMOVED"]
            self.reads.delivered(len(changes), first=not first.is_set())
            first.set()
            deliver([read(document.to_dict()) for document in changed if document.exists])

        return FirestoreListener(target.on_snapshot(on_snapshot))


@dataclass
class MemoryListener:
    kind: type  # Order or Tour
    wants: Callable[[Any], bool]
    deliver: Deliver
    listening: bool = True
    closed: bool = field(default=False)

    def close(self) -> None:
        self.closed = True
        self.listening = False


class MemoryLiveFeed:
    """The feed over the documents in memory (Backend.in_memory()): a listener gets what matches at
    once, as Firestore's does; afterwards the test says which order or tour changed (`changed`,
    `tour_changed`)."""

    def __init__(self, docs: Documents):
        self._docs = docs
        self.listeners: list[MemoryListener] = []
        self.reads = ListenerReads()

    def store_orders(self, store_id: str, changed_after: datetime, deliver: Deliver) -> MemoryListener:
        where = [("store_id", "==", store_id), ("updated_at", ">", changed_after)]
        current = [order_from_doc(doc.data) for doc in self._docs.query(ORDERS, where)]

        def wants(order: Order) -> bool:
            return order.store_id == store_id and order.updated_at > changed_after

        return self._listen(MemoryListener(Order, wants, deliver), current)

    def order(self, order_id: str, deliver: Deliver) -> MemoryListener:
        doc = self._docs.get(order_path(order_id))
        listener = MemoryListener(Order, lambda order: order.id == order_id, deliver)
        return self._listen(listener, [order_from_doc(doc.data)] if doc else [])

    def tour(self, tour_id: str, deliver: Deliver) -> MemoryListener:
        doc = self._docs.get(tour_path(tour_id))
        return self._listen(
            MemoryListener(Tour, lambda tour: tour.id == tour_id, deliver), [tour_from_doc(doc.data)] if doc else []
        )

    def _listen(self, listener: MemoryListener, current: list[Any]) -> MemoryListener:
        self.reads.opened()
        self.listeners.append(listener)
        self.reads.delivered(len(current), first=True)
        listener.deliver(current)
        return listener

    def changed(self, order_id: str) -> None:
        """What Firestore does after a commit: the order as it is now, to every listener it matches."""
        self._tell(order_from_doc(self._docs.get(order_path(order_id)).data))

    def tour_changed(self, tour_id: str) -> None:
        self._tell(tour_from_doc(self._docs.get(tour_path(tour_id)).data))

    def _tell(self, record: Order | Tour) -> None:
        for listener in self.listeners:
            if not listener.closed and isinstance(record, listener.kind) and listener.wants(record):
                self.reads.delivered(1, first=False)
                listener.deliver([record])
