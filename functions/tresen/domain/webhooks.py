"""Webhooks to the merchants' own systems, as Standard Webhooks v1 has them: which journal entries
become which events, the endpoints that subscribe to them, each event's body and id, and its
signature (no I/O).

Every event is a journal entry of the store (docs/architecture.md, "Webhooks"): the entry is the
outbox record, committed with the change it tells of. `EVENT_OF_ENTRY` names the event each entry
type becomes, `NOT_SENT` the types kept inside Tresen (credentials, people, the platform's own
business, the webhooks' own set-up); every declared type is in exactly one of them.

A signature is `v1,` and the base64 HMAC-SHA256 of `{id}.{unix timestamp}.{body}`, keyed with the
base64-decoded bytes of the secret after its `whsec_` prefix; while a rotated secret is still
valid, both sign (`v1,<new> v1,<old>`) and a receiver accepts either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from secrets import token_bytes
from typing import Any

from .errors import DomainError, FieldError

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
ROTATION_OVERLAP = timedelta(hours=24)  # the old secret signs beside the new one this long
ANY_EVENT = "*"
PING = "ping"
ENABLED, DISABLED = "enabled", "disabled"
GONE, FAILING = "gone", "failing"  # why an endpoint was disabled: it answered 410, or failed 5 days
MAX_EVENTS = 50
MAX_DESCRIPTION = 500

_STATUS_CHANGES = (
    "order.accepted", "order.ready", "order.completed", "order.rejected",
    "order.out_for_delivery", "order.delivered", "order.returned",
)  # fmt: skip
_GIFTCARD = (
    "activate", "load", "redeem", "authorize", "capture", "release", "refund", "deactivate", "reactivate",
    "transfer_out", "transfer_in", "expire", "block_started", "block_chunk_activated",
)  # fmt: skip
# journal entry type → the event a merchant's system receives
EVENT_OF_ENTRY: dict[str, str] = {
    "order.placed": "order.placed",
    "order.paid": "order.paid",
    "order.canceled": "order.canceled",
    **{kind: "order.status_changed" for kind in _STATUS_CHANGES},  # the object shows the status now
    "order.voided": "order.updated",
    "order.discounted": "order.updated",
    "payment.failed": "order.payment_failed",  # the order stays open; its last_payment_error says why
    "refund.created": "refund.created",
    "refund.pending": "refund.pending",
    "refund.succeeded": "refund.succeeded",
    "refund.failed": "refund.failed",
    **{f"giftcard.{kind}": f"giftcard.{kind}" for kind in _GIFTCARD},
    "closing.created": "closing.created",
    "customer.created": "customer.created",
    "customer.updated": "customer.updated",
    "customer.consent_recorded": "customer.consent_recorded",
    "customer.erased": "customer.erased",
    "customers.imported": "customers.imported",
    "stock.low": "stock.low",  # a tracked product is running out: reorder
}
# Kept inside Tresen: credentials and the store's set-up, its people, what only an operator acts on
# (a provider event that changed nothing, a payment for another amount, one after the order closed:
# its refund is sent), the platform's own billing, statements (their files are handed out by links
# that expire), the webhooks' own set-up, delivery tours (their orders' moves are sent), and the
# tills: workplaces, terminals, shifts and the TSE (their sales are sent as the orders' payments), and
# the catalog and every move of its stock (the orders are sent; of the stock, what runs low), and
# the promotions (an order that got one shows it), and the purchasing: suppliers and purchase orders.
NOT_SENT = frozenset(
    {
        "api_key.created", "api_key.revoked", "passkey.changed", "accounting.changed",
        "stripe.account_connected", "stripe.account_status_changed", "stripe.platform_fee_set",
        "store.created", "store.profile_changed", "member.invited", "member.invitation_revoked", "member.joined",
        "member.role_changed", "member.removed", "licence.subscribed", "licence_invoice.issued", "licence_invoice.paid",
        "licence_invoice.payment_failed", "billing.card_saved", "payment.event_ignored", "payment.mismatch",
        "payment.succeeded_after_close", "statement.created", "webhook_endpoint.created",
        "webhook_endpoint.deleted", "webhook_endpoint.secret_rotated", "webhook_endpoint.disabled",
        "webhook_endpoint.enabled", "tour.planned", "tour.started", "tour.finished", "workplace.created",
        "terminal.registered", "terminal.removed", "shift.opened", "shift.closed", "tse.installed",
        "tse.client_registered", "tse.signed", "tse.failed", "catalog.changed", "stock.taken", "stock.returned",
        "stock.adjusted", "promotion.created", "promotion.ended", "supplier.created", "purchase_order.created",
        "purchase_order.received",
    }
)  # fmt: skip
EVENT_TYPES = frozenset(EVENT_OF_ENTRY.values())
EVENT_GROUPS = frozenset(event.split(".", 1)[0] for event in EVENT_TYPES)


def event_of(entry_type: str) -> str | None:
    """The event a journal entry of this type is sent as; None: it is not sent."""
    return EVENT_OF_ENTRY.get(entry_type)


def checked_events(asked: Iterable[str]) -> tuple[str, ...]:
    """What an endpoint subscribes to, each once and sorted: `*` (everything, alone), an event type,
    or every event of a group (`giftcard.*`)."""
    events = tuple(sorted(set(asked)))
    unknown = [
        event
        for event in events
        if event != ANY_EVENT and event not in EVENT_TYPES and event.removesuffix(".*") not in EVENT_GROUPS
    ]
    problems = [FieldError("events", f"unknown event type {event!r}") for event in unknown]
    if not events or len(events) > MAX_EVENTS:
        problems.append(FieldError("events", f'name 1 to {MAX_EVENTS} event types, or ["*"]'))
    elif ANY_EVENT in events and len(events) > 1:
        problems.append(FieldError("events", '"*" stands alone: it names every event'))
    if problems:
        raise DomainError("validation_failed", "The events are not ones Tresen sends.", problems)
    return events


def subscribed(events: Iterable[str], event: str) -> bool:
    return any(name in (ANY_EVENT, event, f"{event.split('.', 1)[0]}.*") for name in events)


@dataclass(frozen=True)
class ObjectRef:
    """The record an event is about: shown in its body as the API shows it, read when it is sent
    out (the entry's `type` and `seq` say what happened)."""

    kind: str  # order | refund | giftcard | giftcard_activation | closing | customer | customer_import | stock
    id: str


def object_of(entry_type: str, data: Mapping[str, Any]) -> ObjectRef:
    group = entry_type.split(".", 1)[0]
    if group in ("order", "payment"):
        return ObjectRef("order", data["order_id"])
    if group == "refund":
        return ObjectRef("refund", data["id"])
    if entry_type in ("giftcard.block_started", "giftcard.block_chunk_activated"):
        return ObjectRef("giftcard_activation", data["activation_id"])
    if group == "giftcard":
        return ObjectRef("giftcard", data["card_id"])
    if group == "closing":
        return ObjectRef("closing", str(data["z_number"]))
    if group == "customers":
        return ObjectRef("customer_import", data["import_id"])
    if group == "stock":
        return ObjectRef("stock", data["product_id"])
    return ObjectRef("customer", data["customer_id"])


# ----------------------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class Endpoint:
    """Where a store's events go. It receives the entries after `after_seq` only: the journal's head
    when it was created (or enabled again), so it never gets older events."""

    id: str
    store_id: str
    url: str
    events: tuple[str, ...]
    description: str | None
    created_at: datetime
    after_seq: int
    secret: str
    status: str = ENABLED
    previous_secret: str | None = None
    previous_valid_until: datetime | None = None
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    failing_since: datetime | None = None  # its first failure with no success after it

    @property
    def enabled(self) -> bool:
        return self.status == ENABLED

    def receives(self, seq: int, event: str) -> bool:
        return self.enabled and seq > self.after_seq and subscribed(self.events, event)

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign now: the current one, and the previous one for 24 h after a rotation."""
        if self.previous_secret and self.previous_valid_until and now < self.previous_valid_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def rotated(self, secret: str, now: datetime) -> Endpoint:
        return replace(self, secret=secret, previous_secret=self.secret, previous_valid_until=now + ROTATION_OVERLAP)

    def disabled(self, reason: str, now: datetime) -> Endpoint:
        return replace(self, status=DISABLED, disabled_reason=reason, disabled_at=now)

    def enabled_after(self, head: int) -> Endpoint:
        """Enabled again, from the journal's head on: what happened while it was disabled is not sent."""
        return replace(self, status=ENABLED, disabled_reason=None, disabled_at=None, failing_since=None, after_seq=head)


def new_secret() -> str:
    """`whsec_` and the base64 of 32 random bytes, as Standard Webhooks writes a secret."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def signature_header(secrets: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: one `v1,…` per secret, space-separated."""
    return " ".join(signature(secret, message_id, timestamp, body) for secret in secrets)


# ----------------------------------------------------------------------------- events


def event_id(store_id: str, seq: int) -> str:
    """`webhook-id`: the same for an entry on every attempt and at every endpoint, so a receiver
    that keeps the ids it handled handles each event once."""
    return "msg_" + hashlib.sha256(f"{store_id}/{seq}".encode()).hexdigest()[:32]


def ping_event_id(delivery_id: str) -> str:
    return "msg_" + hashlib.sha256(delivery_id.encode()).hexdigest()[:32]


def delivery_id(endpoint_id: str, seq: int) -> str:
    """Deterministic, so an entry fanned out twice (two instances, a crash) is created once."""
    return f"{endpoint_id}-{seq:012d}"


def event_body(event: str, timestamp: str, store_id: str, seq: int | None, shown: Any) -> bytes:
    """The body, rendered once: every attempt sends these bytes."""
    payload = {"type": event, "timestamp": timestamp, "data": {"store_id": store_id, "seq": seq, "object": shown}}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
