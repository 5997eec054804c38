"""The platform's Firestore ceilings, measured on the in-memory backend behind a meter in front of the
storage port (adapters/read_meter.py), with the HTTP API driven as a client drives it:

- Firestore takes only about 500 writes a second into a collection whose documents carry a
  monotonically increasing value in an indexed field. Every top-level collection an order writes is
  found by running an order placed on site, one paid online through Stripe's webhook and a refund,
  and each of their timestamps and sequence numbers must have its single-field index exempted in
  firestore.indexes.json, or be one a query needs (docs/operations.md "Indexes and write hot spots").
- The document reads, writes and deletes of each of those flows, once an instance is warm, stay at
  today's figures (docs/operations.md "Operations per order").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request

from fake_stripe import FakeStripe, deliver, session_event
from stack import ROOT
from support import idem, order_body
from tresen.adapters import clock, lazy, payments, stripe_provider
from tresen.adapters.archive import MemoryArchive
from tresen.adapters.backend import Backend
from tresen.adapters.memory_documents import MemoryDocuments
from tresen.adapters.read_meter import CountedDocuments
from tresen.adapters.signers import LocalSigner, key_name, new_key
from tresen.adapters.smtp_sender import MemoryMailSender
from tresen.adapters.transient import is_transient
from tresen.adapters.unit_of_work import StoreUnitOfWork
from tresen.config import settings
from tresen.http.app import Outside, router
from tresen.services import webhook_endpoints
from tresen.services.documents import Conflict
from tresen.services.mail import deliver_all_due_mail
from tresen.services.ports import StaffIdentity
from tresen.services.seed import DEMO, DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store
from tresen.services.webhook_dispatch import dispatch_store
from tresen.services.webhook_ports import Answer

ON_SITE_STORE = DEMO_STORE.id
ONLINE_STORE = "demostripe"  # the demo store paid online through Stripe, on the deployment's own account
PAID = 840  # the demo order's total
OWNER = {"type": "staff", "uid": "owner-1", "role": "owner"}

# Every top-level collection the three flows write (the stores' subcollections spread their writes
# over the stores, and their indexes with them).
PER_ORDER_COLLECTIONS = {
    "archive_outbox",
    "idempotency",
    "mail_outbox",
    "orders",
    "payments",
    "refunds",
    "webhook_cursors",
    "webhook_deliveries",
    "webhook_events",
}
TIMESTAMP_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")  # ISO 8601 with a time; a date alone is a day's
SEQUENCE_NAMES = {"seq", "n", "number", "invoice_number", "z_number", "size"}  # numbers that only grow
# Increasing fields of per-order collections whose single-field index a query needs, with the query.
QUERIED = {
    # the courier's due mails: one range query on `next_attempt_at`, ordered by it (adapters/leased_outbox.py)
    ("mail_outbox", "next_attempt_at"): "adapters/mail_outbox.py DocumentMailOutbox.due",
    # the job's deliveries due across every store: the same query (a store's own uses its composite index)
    ("webhook_deliveries", "next_attempt_at"): "adapters/webhook_store.py DocumentWebhookDeliveries.due",
}


@dataclass(frozen=True)
class Operations:
    reads: int
    writes: int
    deletes: int


# Today's figures, once warm: a change that costs one more operation fails here until this table
# and docs/operations.md "Operations per order" say so.
CEILINGS = {
    "on-site order": Operations(reads=0, writes=6, deletes=1),
    "online order paid by its webhook": Operations(reads=3, writes=13, deletes=2),
    "refund": Operations(reads=6, writes=9, deletes=2),
}


class Accepting:
    """The merchants' webhook receivers: every request answered 200."""

    retry_scale = 1.0

    @staticmethod
    def refusal(url: str) -> str | None:
        return None

    @staticmethod
    def send_all(requests) -> list[Answer]:
        return [Answer(200) for _ in requests]

    @staticmethod
    def jitter() -> float:
        return 0.0


class Platform:
    """One instance of the API on the in-memory backend, its storage port metered: the on-site demo
    store and a Stripe store, a staff member who supervises both."""

    def __init__(self):
        self.written: list[tuple[str, str, Mapping[str, Any] | None]] = []
        self.meter = CountedDocuments(MemoryDocuments(), lambda *write: self.written.append(write))
        self.backend = Backend(
            None,
            self.meter,
            MemoryArchive(),
            LocalSigner(new_key(key_name("test"))),
            MemoryMailSender(),
            mail_after_commit=False,  # mail and webhooks are sent when a test says so
            webhook_sender=Accepting(),
            webhooks_after_commit=False,
            background=False,
        )
        seed_store(DEMO, self.backend)
        seed_store(
            SeedStore(replace(DEMO_STORE, id=ONLINE_STORE, online_providers=("stripe",)), DEMO_PRODUCTS), self.backend
        )
        supervisor = StaffIdentity("staff-1", {ON_SITE_STORE: "supervisor", ONLINE_STORE: "supervisor"})
        outside = Outside(
            unit_of_work=lambda: StoreUnitOfWork(self.backend),
            idempotency=lambda: self.backend.idempotency,
            verify_staff_token=lambda token: supervisor,  # verified without a read, as firebase-admin does
            kept_roles=self.backend.members.roles_of,
            origin_allowed=lambda origin, path: False,
            is_transient=is_transient,
            now=clock.now,
        )
        routes = router(outside)
        self.client = Client(lambda environ, respond: routes(Request(environ))(environ, respond))

    def operations(self) -> Operations:
        return Operations(self.meter.reads, self.meter.writes, self.meter.deletes)

    def measured(self, flow: Callable[[], Any]) -> Operations:
        """What `flow` cost, with the archiving of its entries that follows every commit."""
        self.backend.archive.drain()
        before = self.operations()
        flow()
        self.backend.archive.drain()
        after = self.operations()
        return Operations(after.reads - before.reads, after.writes - before.writes, after.deletes - before.deletes)

    def on_site_order(self, **body: Any) -> dict:
        placed = self.client.post(f"/v1/stores/{ON_SITE_STORE}/orders", json=order_body(**body), headers=idem())
        assert placed.status_code == 201, placed.get_data(as_text=True)
        return placed.get_json()

    def online_order_paid(self, **body: Any) -> dict:
        path = f"/v1/stores/{ONLINE_STORE}/orders"
        placed = self.client.post(path, json=order_body(payment={"method": "online"}, **body), headers=idem())
        assert placed.status_code == 201, placed.get_data(as_text=True)
        order = placed.get_json()
        paid = deliver(self.client, session_event("completed", order["payment"]["id"], PAID))
        assert paid.get_json()["duplicate"] is False, paid.get_data(as_text=True)
        return order

    def refund(self, order: dict) -> dict:
        path = f"/v1/stores/{ONLINE_STORE}/orders/{order['id']}/refunds"
        refunded = self.client.post(path, json={"amount": 100}, headers={"Authorization": "Bearer staff"} | idem())
        assert refunded.status_code == 201, refunded.get_data(as_text=True)
        return refunded.get_json()


@pytest.fixture
def platform(monkeypatch) -> Platform:
    # the caches of a running instance (catalog, Stripe account) stay warm however slowly a test runs
    monkeypatch.setattr(lazy, "time", SimpleNamespace(monotonic=lambda: 0.0))
    monkeypatch.setattr(stripe_provider, "HTTP_CLIENT", FakeStripe())
    with_key = replace(settings(), stripe_api_key="sk_test_fake", stripe_connect=False)
    for module in (stripe_provider, payments):
        monkeypatch.setattr(module, "settings", lambda: with_key)
    return Platform()


def increasing_fields(data: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """The (dotted) fields of a written document that hold a moment or a number that only grows.
    Maps are indexed field by field, so their fields count; a list's elements do not."""
    for name, value in data.items():
        field = prefix + name
        if isinstance(value, Mapping):
            yield from increasing_fields(value, field + ".")
        elif (
            isinstance(value, datetime)
            or (isinstance(value, str) and TIMESTAMP_TEXT.match(value))
            or (field.rsplit(".", 1)[-1] in SEQUENCE_NAMES and value is not None)
        ):
            yield field


def exempted_fields() -> set[tuple[str, str]]:
    overrides = json.loads((ROOT / "firestore.indexes.json").read_text())["fieldOverrides"]
    return {(override["collectionGroup"], override["fieldPath"]) for override in overrides if override["indexes"] == []}


def exempted(collection: str, field: str, exempt: set[tuple[str, str]]) -> bool:
    """A map's override holds for its fields too, as Firestore applies it."""
    parts = field.split(".")
    return any((collection, ".".join(parts[:end])) in exempt for end in range(1, len(parts) + 1))


def test_no_collection_an_order_writes_keeps_an_index_of_a_timestamp_or_sequence_no_query_needs(platform):
    """Receipts mailed and webhooks sent too, so that everything an order can write is written."""
    for store_id in (ON_SITE_STORE, ONLINE_STORE):
        endpoint = webhook_endpoints.CreateEndpoint(store_id, "https://hooks.example.com/tresen", ("*",), None, OWNER)
        webhook_endpoints.create_endpoint(endpoint, platform.backend)
    platform.written.clear()

    def followed_up(flow: Callable[[], dict]) -> dict:
        done = flow()
        for store_id in (ON_SITE_STORE, ONLINE_STORE):
            dispatch_store(platform.backend, store_id)
        deliver_all_due_mail(platform.backend)
        platform.backend.archive.drain()
        return done

    followed_up(lambda: platform.on_site_order(receipt="email"))
    paid = followed_up(lambda: platform.online_order_paid(receipt="email"))
    followed_up(lambda: platform.refund(paid))

    increasing = {
        (path.split("/")[0], field)
        for _, path, data in platform.written
        if path.count("/") == 1 and data is not None
        for field in increasing_fields(data)
    }
    assert {path.split("/")[0] for _, path, _ in platform.written if path.count("/") == 1} == PER_ORDER_COLLECTIONS
    assert {("orders", "created_at"), ("archive_outbox", "at"), ("webhook_events", "received_at")} <= increasing
    exempt = exempted_fields()
    indexed = {(collection, field) for collection, field in increasing if not exempted(collection, field, exempt)}
    assert indexed == set(QUERIED), "exempt their indexes in firestore.indexes.json, or name the query that needs one"


def test_a_warm_instance_takes_an_order_pays_one_and_refunds_one_within_todays_operations(platform):
    platform.measured(platform.on_site_order)  # the warm-ups: the catalog, journal head and counters cached
    on_site = platform.measured(platform.on_site_order)
    platform.measured(platform.online_order_paid)
    online = platform.measured(platform.online_order_paid)
    first, second = platform.online_order_paid(), platform.online_order_paid()
    platform.measured(lambda: platform.refund(first))
    refund = platform.measured(lambda: platform.refund(second))

    measured = {"on-site order": on_site, "online order paid by its webhook": online, "refund": refund}
    for name, operations in measured.items():
        print(f"{name}: {operations.reads} reads, {operations.writes} writes, {operations.deletes} deletes")
    over = {
        name: operations
        for name, operations in measured.items()
        if any(getattr(operations, kind) > getattr(CEILINGS[name], kind) for kind in ("reads", "writes", "deletes"))
    }
    assert over == {}


def test_the_meter_counts_each_committed_write_and_delete_and_a_query_at_least_one_read():
    written = []
    meter = CountedDocuments(MemoryDocuments(), lambda *write: written.append(write))
    batch = meter.batch()
    batch.create("orders/a", {"n": 1})
    batch.set("orders/b", {"n": 2})
    batch.increment("counters/c", "n", 1, {"scope": "x"})
    batch.commit()
    refused = meter.batch()
    refused.update("orders/a", {"n": 3})
    refused.create("orders/b", {"n": 4})  # exists: nothing of this batch is committed
    with pytest.raises(Conflict):
        refused.commit()
    removal = meter.batch()
    removal.delete("orders/b")
    removal.commit()
    meter.get("orders/none")
    meter.get_all(["orders/a", "orders/b"])
    meter.query("orders")
    meter.query("refunds")

    assert (meter.reads, meter.writes, meter.deletes) == (5, 3, 1)
    assert written == [
        ("create", "orders/a", {"n": 1}),
        ("set", "orders/b", {"n": 2}),
        ("increment", "counters/c", {"scope": "x", "n": 1}),
        ("delete", "orders/b", None),
    ]
