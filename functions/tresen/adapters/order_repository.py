"""The order use cases' repositories over the documents (services/order_ports.py): stores and their
secrets, orders, payments, refunds and the provider events seen. Documents are mapped to domain
types in adapters/repository.py."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime

from ..domain.catalog import Product, Store
from ..domain.errors import DomainError
from ..domain.orders import Order
from ..domain.payments import PaymentRecord
from ..domain.refunds import Refund
from ..services.documents import Conflict, Documents
from ..services.order_ports import OrderCursor, ParkedEvent, Version
from . import repository as repo

PARKED_FIELDS = ("provider", "event_id", "type", "reason", "received_at", "size")


class DocumentStores:
    def __init__(self, docs: Documents):
        self._docs = docs
        self._pii_keys: dict[str, bytes] = {}  # a key never changes once made: read once per process
        self._pii_lock = threading.Lock()

    def pii_key(self, store_id: str) -> bytes:
        if store_id not in self._pii_keys:
            with self._pii_lock:
                self._pii_keys[store_id] = self._docs.get(repo.pii_key_path(store_id)).data["pii_key"]
        return self._pii_keys[store_id]

    def admitting(self, origin: str) -> bool:
        """Some store admits this browser origin (its `cors_origins`)."""
        return bool(self._docs.query("stores", where=[("cors_origins", "array_contains", origin)], limit=1))

    def save(self, store: Store, products: tuple[Product, ...]) -> None:
        batch = self._docs.batch()
        batch.set(repo.store_path(store.id), repo.store_to_doc(store))
        for product in products:
            batch.set(repo.product_path(store.id, product.id), repo.product_to_doc(product))
        batch.commit()
        self.ensure_pii_key(store.id)

    def ensure_pii_key(self, store_id: str) -> None:
        """The store's key for personal data, made once and never replaced."""
        key = self._docs.batch()
        key.create(repo.pii_key_path(store_id), {"pii_key": secrets.token_bytes(32)})
        try:
            key.commit()
        except Conflict:  # the key must never change once personal data was pseudonymised with it
            pass

    def exists(self, store_id: str) -> bool:
        """Read now, not from the catalog's cache."""
        return self._docs.get(repo.store_path(store_id)) is not None

    def read(self, store_id: str) -> tuple[Store, Version] | None:
        found = self._docs.get(repo.store_path(store_id))
        return (repo.store_from_doc(store_id, found.data), found.version) if found else None


class DocumentOrders:
    def __init__(self, docs: Documents):
        self._docs = docs

    def read_in_store(self, store_id: str, order_id: str) -> tuple[Order, Version]:
        found = self._docs.get(repo.order_path(order_id))
        if found is None or found.data.get("store_id") != store_id:  # another store's order is unknown
            raise DomainError("order_not_found", f"Store {store_id} has no order {order_id!r}.")
        return repo.order_from_doc(found.data), found.version

    def read_with_token_hash(self, order_id: str) -> tuple[Order, str] | None:
        found = self._docs.get(repo.order_path(order_id))
        return (repo.order_from_doc(found.data), found.data["access_token_hash"]) if found else None

    def newest_first(
        self, store_id: str, *, status: str | None, since: datetime | None, after: OrderCursor | None, limit: int
    ) -> list[Order]:
        where = [("store_id", "==", store_id)]
        if status:
            where.append(("status", "==", status))
        if since:
            where.append(("created_at", ">=", since))
        start = {"created_at": after.created_at, "id": after.order_id} if after else None
        newest = [("created_at", True), ("id", True)]
        found = self._docs.query("orders", where=where, order_by=newest, limit=limit, start_after=start)
        return [repo.order_from_doc(doc.data) for doc in found]

    def of_contacts(
        self, store_id: str, keys: tuple[str, ...], after: OrderCursor | None, limit: int
    ) -> list[tuple[Order, Version]]:
        if not keys:
            return []
        where = [("store_id", "==", store_id), ("contact_keys", "array_contains_any", list(keys))]
        start = {"created_at": after.created_at, "id": after.order_id} if after else None
        newest = [("created_at", True), ("id", True)]
        found = self._docs.query("orders", where=where, order_by=newest, limit=limit, start_after=start)
        return [(repo.order_from_doc(doc.data), doc.version) for doc in found]

    def unsigned_sales(self, limit: int) -> list[Order]:
        # an equality filter on one field: Firestore serves it from its single-field index
        found = self._docs.query("orders", where=[("tse_status", "in", ["pending", "failed"])], limit=limit)
        return [repo.order_from_doc(doc.data) for doc in found]

    def unpaid_past(self, moment: datetime, limit: int) -> list[Order]:
        unpaid_too_long = [("status", "==", "awaiting_payment"), ("expires_at", "<=", moment)]
        return [repo.order_from_doc(doc.data) for doc in self._docs.query("orders", where=unpaid_too_long, limit=limit)]


class DocumentPayments:
    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, payment_id: str) -> PaymentRecord | None:
        found = self._docs.get(repo.payment_path(payment_id))
        return None if found is None else repo.payment_from_doc(payment_id, found.data)

    def read_unless_seen(self, payment_id: str, provider: str, event_id: str) -> tuple[PaymentRecord | None, bool]:
        payment, event = self._docs.get_all([repo.payment_path(payment_id), repo.event_path(provider, event_id)])
        return (None if payment is None else repo.payment_from_doc(payment_id, payment.data)), event is not None


class DocumentRefunds:
    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, refund_id: str) -> tuple[Refund, Version] | None:
        found = self._docs.get(repo.refund_path(refund_id))
        return (repo.refund_from_doc(found.data), found.version) if found else None

    def of_orders(self, order_ids: list[str]) -> list[Refund]:
        found = []
        for start in range(0, len(order_ids), repo.IN_QUERY_LIMIT):
            chunk = order_ids[start : start + repo.IN_QUERY_LIMIT]
            found += [
                repo.refund_from_doc(d.data) for d in self._docs.query("refunds", where=[("order_id", "in", chunk)])
            ]
        return found

    def by_provider_id(self, provider: str, provider_refund_id: str) -> Refund | None:
        by_provider_id = [("provider_refund_id", "==", provider_refund_id), ("provider", "==", provider)]
        found = self._docs.query("refunds", where=by_provider_id, limit=1)
        return repo.refund_from_doc(found[0].data) if found else None


class DocumentProviderEvents:
    def __init__(self, docs: Documents):
        self._docs = docs

    def seen(self, provider: str, event_id: str) -> bool:
        return self._docs.get(repo.event_path(provider, event_id)) is not None

    def parked(self, limit: int) -> list[ParkedEvent]:
        # Every parked event (a few, each an operator's case), sorted here: ordering by `received_at`
        # would need an index of it, a write hot spot at every provider event (docs/operations.md
        # "Indexes and write hot spots"). Their parked bodies are not read.
        unprocessable = [("status", "==", "unprocessable")]
        found = self._docs.query("webhook_events", where=unprocessable, fields=PARKED_FIELDS)
        newest = sorted(found, key=lambda doc: doc.data["received_at"], reverse=True)[:limit]
        return [
            ParkedEvent(
                provider=doc.data["provider"],
                event_id=doc.data["event_id"],
                type=doc.data.get("type"),
                reason=doc.data["reason"],
                received_at=doc.data["received_at"],
                size=doc.data["size"],
            )
            for doc in newest
        ]
