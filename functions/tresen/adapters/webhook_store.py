"""Webhooks in the document store (services/webhook_ports.py): `webhook_endpoints/{we_…}` with their
secrets (no client reads them: firestore.rules), `webhook_cursors/{store}` (the last journal seq
fanned out), and `webhook_deliveries/{endpoint}-{seq:012d}`, a leased outbox (adapters/
leased_outbox.py) holding each delivery's exact body, kept 30 days (a TTL on `expires_at`).

Top-level collections, each document naming its store: the job finds every store with an enabled
endpoint, and every delivery due, with one query each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from ..domain.webhooks import ENABLED, Endpoint
from ..services.card_ports import FoundCard
from ..services.documents import Conflict, Doc, Documents
from ..services.webhook_ports import Delivery, Held, Outcome, Version
from .giftcard_store import CARDS, found_card
from .leased_outbox import LeasedOutbox
from .repository import as_aware

ENDPOINTS, CURSORS, DELIVERIES = "webhook_endpoints", "webhook_cursors", "webhook_deliveries"
RETENTION = timedelta(days=30)  # a delivery's record, succeeded or not, is deleted after this
PER_COMMIT = 500  # Firestore's limit of writes in one commit


def endpoint_path(endpoint_id: str) -> str:
    return f"{ENDPOINTS}/{endpoint_id}"


def cursor_path(store_id: str) -> str:
    return f"{CURSORS}/{store_id}"


def moment(value: datetime | None) -> datetime | None:
    return as_aware(value) if value else None


def endpoint_to_doc(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "store_id": endpoint.store_id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "created_at": endpoint.created_at,
        "after_seq": endpoint.after_seq,
        "secret": endpoint.secret,
        "status": endpoint.status,
        "previous_secret": endpoint.previous_secret,
        "previous_valid_until": endpoint.previous_valid_until,
        "disabled_reason": endpoint.disabled_reason,
        "disabled_at": endpoint.disabled_at,
        "failing_since": endpoint.failing_since,
    }


def endpoint_from_doc(doc: Mapping[str, Any]) -> Endpoint:
    fields = {name: doc[name] for name in Endpoint.__dataclass_fields__}
    times = {name: moment(doc[name]) for name in ("created_at", "previous_valid_until", "disabled_at", "failing_since")}
    return Endpoint(**(fields | times | {"events": tuple(doc["events"])}))


def delivery_to_doc(delivery: Delivery, lease_until: datetime) -> dict[str, Any]:
    """A new delivery, held by whoever fanned it out until `lease_until`."""
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "store_id": delivery.store_id,
        "event_id": delivery.event_id,
        "type": delivery.type,
        "seq": delivery.seq,
        "body": delivery.body,
        "created_at": delivery.created_at,
        "status": "sending",
        "attempts": 0,
        "next_attempt_at": lease_until,
        "last_status_code": None,
        "last_error": None,
        "last_attempt_at": None,
        "expires_at": delivery.created_at + RETENTION,
    }


def delivery_from_doc(doc: Mapping[str, Any]) -> Delivery:
    fields = {name: doc[name] for name in Delivery.__dataclass_fields__}
    times = {name: moment(doc[name]) for name in ("created_at", "next_attempt_at", "last_attempt_at")}
    return Delivery(**(fields | times))


def held(doc: Doc) -> Held:
    return Held(delivery_from_doc(doc.data), doc.version)


def outcome_fields(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "attempts": outcome.attempts,
        "next_attempt_at": outcome.next_attempt_at,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "last_attempt_at": outcome.at,
    }


class DocumentWebhookEndpoints:
    """services/webhook_ports.py `WebhookEndpoints`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def of_store(self, store_id: str) -> list[Endpoint]:
        found = [
            endpoint_from_doc(doc.data) for doc in self._docs.query(ENDPOINTS, where=[("store_id", "==", store_id)])
        ]
        return sorted(found, key=lambda endpoint: (endpoint.created_at, endpoint.id))  # a handful a store

    def get(self, store_id: str, endpoint_id: str) -> tuple[Endpoint, Version] | None:
        found = self._docs.get(endpoint_path(endpoint_id))
        if found is None or found.data["store_id"] != store_id:
            return None
        return endpoint_from_doc(found.data), found.version

    def get_all(self, endpoint_ids: Sequence[str]) -> dict[str, tuple[Endpoint, Version]]:
        found = self._docs.get_all([endpoint_path(endpoint_id) for endpoint_id in endpoint_ids])
        return {doc.id: (endpoint_from_doc(doc.data), doc.version) for doc in found if doc is not None}

    def any_enabled(self, store_id: str) -> bool:
        return bool(
            self._docs.query(ENDPOINTS, where=[("store_id", "==", store_id), ("status", "==", ENABLED)], limit=1)
        )

    def stores_enabled_after(self, after: str | None, limit: int) -> list[str]:
        """Pages of the enabled endpoints by store (the composite `status`, `store_id`), each after the
        last store seen: a store's other endpoints are skipped by the next page's start."""
        stores: list[str] = []
        while len(stores) < limit:
            last = stores[-1] if stores else after
            page = self._docs.query(
                ENDPOINTS,
                where=[("status", "==", ENABLED)],
                order_by=[("store_id", False)],
                start_after={"store_id": last} if last is not None else None,
                limit=limit,
                fields=["store_id"],
            )
            stores += sorted({doc.data["store_id"] for doc in page} - set(stores))
            if len(page) < limit:
                break
        return stores[:limit]


class DocumentWebhookDeliveries:
    """services/webhook_ports.py `WebhookDeliveries`."""

    def __init__(self, docs: Documents):
        self._docs = docs
        self._outbox = LeasedOutbox(docs, DELIVERIES)

    def create(self, deliveries: Sequence[Delivery], lease_until: datetime) -> list[Held]:
        created = []
        for first in range(0, len(deliveries), PER_COMMIT):
            created += self._create_new(deliveries[first : first + PER_COMMIT], lease_until)
        return created

    def _create_new(self, deliveries: Sequence[Delivery], lease_until: datetime) -> list[Held]:
        """In one commit; when some exist already (fanned out before), the others in another."""
        paths = [self._outbox.path(delivery.id) for delivery in deliveries]
        while deliveries:
            batch = self._docs.batch()
            docs = [delivery_to_doc(delivery, lease_until) for delivery in deliveries]
            for path, doc in zip(paths, docs, strict=True):
                batch.create(path, doc)
            try:
                versions = batch.commit()
            except Conflict as conflict:
                if conflict.kind != "exists":
                    raise
                existing = self._docs.get_all(paths)
                kept = [(d, p) for d, p, found in zip(deliveries, paths, existing, strict=True) if found is None]
                deliveries, paths = [d for d, _ in kept], [p for _, p in kept]
                continue
            return [Held(delivery_from_doc(doc), version) for doc, version in zip(docs, versions, strict=True)]
        return []

    def due(self, now: datetime, limit: int, store_id: str | None = None) -> list[Held]:
        where = [("store_id", "==", store_id)] if store_id else []
        return [held(doc) for doc in self._outbox.due(now, limit, where)]

    def claim(self, due: Sequence[Held], lease_until: datetime) -> list[Held]:
        versions = self._outbox.claim_all([(item.delivery.id, item.version) for item in due], lease_until)
        return [Held(item.delivery, version) for item, version in zip(due, versions, strict=True) if version]

    def record(self, outcomes: Sequence[tuple[Held, Outcome]]) -> int:
        changes = [(item.delivery.id, item.version, outcome_fields(outcome)) for item, outcome in outcomes]
        return sum(version is not None for version in self._outbox.change_all(changes))

    def get(self, delivery_id: str) -> Held | None:
        found = self._docs.get(self._outbox.path(delivery_id))
        return held(found) if found else None

    def of_endpoint(self, endpoint_id: str, limit: int, after: Delivery | None) -> list[Delivery]:
        start = {"created_at": after.created_at, "id": after.id} if after else None
        found = self._docs.query(
            DELIVERIES,
            where=[("endpoint_id", "==", endpoint_id)],
            order_by=[("created_at", True), ("id", True)],
            limit=limit,
            start_after=start,
        )
        return [delivery_from_doc(doc.data) for doc in found]

    def due_now(self, item: Held, now: datetime) -> Held | None:
        again = {"status": "pending", "attempts": 0, "next_attempt_at": now, "expires_at": now + RETENTION}
        version = self._outbox.change(item.delivery.id, item.version, again)
        return (
            Held(replace(item.delivery, status="pending", attempts=0, next_attempt_at=now), version)
            if version
            else None
        )


class DocumentWebhookCursors:
    """services/webhook_ports.py `WebhookCursors`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str) -> tuple[int, Version | None]:
        found = self._docs.get(cursor_path(store_id))
        return (found.data["seq"], found.version) if found else (0, None)

    def advance(self, store_id: str, seq: int, version: Version | None) -> bool:
        batch, fields = self._docs.batch(), {"store_id": store_id, "seq": seq}
        if version is None:
            batch.create(cursor_path(store_id), fields)
        else:
            batch.update(cursor_path(store_id), fields, version)
        try:
            batch.commit()
        except Conflict:
            return False
        return True


class DocumentCardsById:
    """services/webhook_ports.py `CardsById`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def find(self, card_id: str) -> FoundCard | None:
        found = self._docs.query(CARDS, where=[("id", "==", card_id)], limit=1)
        return found_card(found[0]) if found else None
