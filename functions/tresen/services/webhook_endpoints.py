"""The owner's webhook endpoints: created (its secret shown once), listed, deleted, their secret
rotated (the old one signs beside the new for 24 h), enabled again after Tresen disabled them, a
`ping` sent on request, and each endpoint's deliveries listed and retried by hand. Creating,
rotating, enabling and deleting are journaled (never a secret)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.errors import DomainError, FieldError
from ..domain.events import (
    WebhookEndpointCreated,
    WebhookEndpointDeleted,
    WebhookEndpointEnabled,
    WebhookEndpointSecretRotated,
)
from ..domain.journal import JournalEvent, rfc3339
from ..domain.webhooks import PING, Endpoint, checked_events, event_body, new_secret, ping_event_id
from ..domain.webhooks_sending import origin
from .order_ports import catalog_or_404
from .unit_of_work import Claims, Plan, Writes
from .webhook_dispatch import LEASE, WebhookRun, send
from .webhook_ports import Delivery, Held, WebhookUnitOfWork

Actor = Mapping[str, Any]


@dataclass(frozen=True)
class CreateEndpoint:
    store_id: str
    url: str
    events: tuple[str, ...]
    description: str | None
    actor: Actor


@dataclass(frozen=True)
class EndpointCommand:
    """Delete, rotate the secret of, or enable an endpoint."""

    store_id: str
    endpoint_id: str
    actor: Actor


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    next_cursor: str | None


def create_endpoint(command: CreateEndpoint, uow: WebhookUnitOfWork) -> Endpoint:
    """Enabled at once; it receives the store's events from the journal's head on. Its secret is in
    this answer only (and in the endpoint's record, which only the API reads)."""
    catalog_or_404(uow, command.store_id)
    events = checked_events(command.events)
    refused = uow.webhook_sender.refusal(command.url)
    if refused:
        raise DomainError(
            "validation_failed", f"Webhooks cannot be sent there: {refused}.", [FieldError("url", refused)]
        )
    now, endpoint_id, secret = uow.now(), uow.new_id("we_"), new_secret()

    def build(claims: Claims) -> Plan[Endpoint]:
        head = uow.journal.head(command.store_id).seq  # this commit's own entry is the next one
        endpoint = Endpoint(endpoint_id, command.store_id, command.url, events, command.description, now, head, secret)
        writes = Writes(command.actor)
        writes.webhook_endpoint(endpoint)
        created = WebhookEndpointCreated(
            endpoint_id=endpoint_id, origin=origin(command.url), events=list(events), after_seq=head
        )
        return Plan(endpoint, now, command.actor, [JournalEvent.of(created)], writes)

    return uow.commit(command.store_id, build).result


def list_endpoints(uow: WebhookUnitOfWork, store_id: str) -> list[Endpoint]:
    catalog_or_404(uow, store_id)
    return uow.webhook_endpoints.of_store(store_id)


def endpoint_of(uow: WebhookUnitOfWork, store_id: str, endpoint_id: str) -> tuple[Endpoint, Any]:
    found = uow.webhook_endpoints.get(store_id, endpoint_id)
    if found is None:
        raise DomainError("webhook_endpoint_not_found", f"Store {store_id} has no webhook endpoint {endpoint_id!r}.")
    return found


def delete_endpoint(command: EndpointCommand, uow: WebhookUnitOfWork) -> None:
    """Nothing more is sent to it, not even its deliveries still being retried."""
    now = uow.now()

    def build(claims: Claims) -> Plan[None]:
        endpoint_of(uow, command.store_id, command.endpoint_id)
        writes = Writes(command.actor)
        writes.webhook_endpoint_deleted(command.endpoint_id)
        deleted = WebhookEndpointDeleted(endpoint_id=command.endpoint_id)
        return Plan(None, now, command.actor, [JournalEvent.of(deleted)], writes)

    uow.commit(command.store_id, build)


def rotate_secret(command: EndpointCommand, uow: WebhookUnitOfWork) -> Endpoint:
    """A new secret, shown in this answer only; the previous one signs beside it for 24 h."""
    now, secret = uow.now(), new_secret()

    def build(claims: Claims) -> Plan[Endpoint]:
        endpoint, version = endpoint_of(uow, command.store_id, command.endpoint_id)
        rotated = endpoint.rotated(secret, now)
        writes = Writes(command.actor)
        writes.webhook_endpoint(rotated, version)
        event = WebhookEndpointSecretRotated(
            endpoint_id=endpoint.id, previous_valid_until=rfc3339(rotated.previous_valid_until)
        )
        return Plan(rotated, now, command.actor, [JournalEvent.of(event)], writes)

    return uow.commit(command.store_id, build).result


def enable_endpoint(command: EndpointCommand, uow: WebhookUnitOfWork) -> Endpoint:
    """A disabled endpoint receives events again, from the journal's head on; an enabled one is
    answered as it is."""
    now = uow.now()

    def build(claims: Claims) -> Plan[Endpoint]:
        endpoint, version = endpoint_of(uow, command.store_id, command.endpoint_id)
        writes = Writes(command.actor)
        if endpoint.enabled:
            return Plan(endpoint, now, command.actor, [], writes)
        enabled = endpoint.enabled_after(uow.journal.head(command.store_id).seq)
        writes.webhook_endpoint(enabled, version)
        event = WebhookEndpointEnabled(endpoint_id=endpoint.id, after_seq=enabled.after_seq)
        return Plan(enabled, now, command.actor, [JournalEvent.of(event)], writes)

    return uow.commit(command.store_id, build).result


def send_ping(command: EndpointCommand, uow: WebhookUnitOfWork) -> Delivery:
    """A `ping` event sent now, signed as every event is: the delivery as its first attempt left it
    (retried on the schedule like any other if it failed)."""
    endpoint, _ = endpoint_of(uow, command.store_id, command.endpoint_id)
    if not endpoint.enabled:
        raise DomainError("webhook_endpoint_disabled", f"Webhook endpoint {endpoint.id} is disabled: enable it first.")
    now = uow.now()
    ping_id = uow.new_id(f"{endpoint.id}-ping-")
    body = event_body(PING, rfc3339(now), command.store_id, None, {"endpoint_id": endpoint.id})
    delivery = Delivery(ping_id, endpoint.id, command.store_id, ping_event_id(ping_id), PING, None, body, now)
    return sent_now(uow, uow.webhook_deliveries.create([delivery], now + LEASE)[0])


def deliveries(uow: WebhookUnitOfWork, store_id: str, endpoint_id: str, limit: int, cursor: str | None) -> DeliveryPage:
    """The endpoint's deliveries, newest first; the cursor is the last one of the previous page."""
    endpoint_of(uow, store_id, endpoint_id)
    after = uow.webhook_deliveries.get(cursor) if cursor else None
    if cursor and (after is None or after.delivery.endpoint_id != endpoint_id):
        raise DomainError(
            "validation_failed", "The cursor is not one we issued.", [FieldError("query.cursor", "invalid")]
        )
    found = uow.webhook_deliveries.of_endpoint(endpoint_id, limit + 1, after.delivery if after else None)
    page = found[:limit]
    return DeliveryPage(page, page[-1].id if len(found) > limit else None)


def retry_delivery(uow: WebhookUnitOfWork, store_id: str, endpoint_id: str, delivery_id: str) -> Delivery:
    """Sent again now, whatever it came to (a fresh schedule if this attempt fails too); one being
    sent at this moment is answered as it is."""
    endpoint, _ = endpoint_of(uow, store_id, endpoint_id)
    held = uow.webhook_deliveries.get(delivery_id)
    if held is None or held.delivery.endpoint_id != endpoint_id:
        raise DomainError("webhook_delivery_not_found", f"Endpoint {endpoint_id} has no delivery {delivery_id!r}.")
    if not endpoint.enabled:
        raise DomainError("webhook_endpoint_disabled", f"Webhook endpoint {endpoint.id} is disabled: enable it first.")
    now = uow.now()
    if held.delivery.status == "sending" and held.delivery.next_attempt_at and held.delivery.next_attempt_at > now:
        return held.delivery
    again = uow.webhook_deliveries.due_now(held, now)
    claimed = uow.webhook_deliveries.claim([again], now + LEASE) if again else []
    return sent_now(uow, claimed[0]) if claimed else uow.webhook_deliveries.get(delivery_id).delivery


def sent_now(uow: WebhookUnitOfWork, held: Held) -> Delivery:
    send(uow, [held], WebhookRun())
    return uow.webhook_deliveries.get(held.delivery.id).delivery
