"""Webhook endpoints: the owner's set-up of where the store's events go (Standard Webhooks v1), their
deliveries, and the job that sends what is due — routes and their models (docs/api.md, "Webhooks")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from werkzeug.wrappers import Response

from ..domain.webhooks import Endpoint
from ..services import webhook_endpoints as endpoints
from ..services.store_runs import hour_run
from ..services.webhook_dispatch import deliver_webhooks
from ..services.webhook_endpoints import CreateEndpoint, DeliveryPage, EndpointCommand
from ..services.webhook_ports import Delivery
from .job_runs import StoreRunOut, StoreRunQuery, run_fields, walk_command
from .models import Inbound, Model
from .present import local_time
from .router import JOB, Call, current_uow, route, staff

OWNER = staff("owner")
DENIED = ("unauthenticated", "forbidden")
ENDPOINT = "/v1/stores/{store}/webhook-endpoints/{endpoint}"
FAN_OUT_BUDGET = 200.0  # seconds of the hour's run a call may spend, after sending what is due (deadline 300 s)
EventName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class EndpointIn(Inbound):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)] = Field(
        description="https:// only, at a public address (dev mode: also http://127.0.0.1 and http://localhost)"
    )
    events: list[EventName] = Field(
        min_length=1, max_length=50, description='event types (`order.paid`), groups (`giftcard.*`), or ["*"]'
    )
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class EndpointOut(Model):
    id: str
    url: str
    events: list[str]
    description: str | None
    status: Literal["enabled", "disabled"]
    disabled_reason: Literal["gone", "failing"] | None = Field(
        description="gone: it answered 410; failing: no delivery succeeded for 5 days"
    )
    created_at: datetime
    failing_since: datetime | None = Field(description="its first failed delivery with no success after it")
    previous_secret_valid_until: datetime | None = Field(description="after a rotation: until then both secrets sign")


class EndpointSecretOut(EndpointOut):
    secret: str = Field(description="`whsec_…`: shown in this answer only; verify each event's signature with it")


class EndpointList(Model):
    data: list[EndpointOut]


class DeliveryOut(Model):
    id: str
    event_id: str = Field(description="the event's `webhook-id`: the same on every attempt")
    type: str
    seq: int | None = Field(description="the journal entry it tells of (null: a ping)")
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None = Field(description="when it is tried next (pending only)")
    created_at: datetime


class DeliveryList(Model):
    data: list[DeliveryOut]
    next_cursor: str | None
    has_more: bool


class DeliveryQuery(Model):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class WebhookJobOut(StoreRunOut):
    created: int = Field(description="deliveries fanned out from the stores' journals")
    succeeded: int
    retrying: int = Field(description="not taken this time; tried again on the schedule")
    failed: int = Field(description="no retry left, or their endpoint is gone: kept, retried by hand")
    taken: int = Field(description="held by another sender")


def _local(store_id: str, moment: datetime | None) -> datetime | None:
    store, _ = current_uow().catalog.get(store_id)  # cached: the use case has just read it
    return local_time(moment, store.zone)


def endpoint_out(endpoint: Endpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events),
        description=endpoint.description,
        status=endpoint.status,
        disabled_reason=endpoint.disabled_reason,
        created_at=_local(endpoint.store_id, endpoint.created_at),
        failing_since=_local(endpoint.store_id, endpoint.failing_since),
        previous_secret_valid_until=_local(endpoint.store_id, endpoint.previous_valid_until),
    )


def with_secret(endpoint: Endpoint) -> EndpointSecretOut:
    return EndpointSecretOut(**endpoint_out(endpoint).model_dump(), secret=endpoint.secret)


def delivery_out(delivery: Delivery) -> DeliveryOut:
    due = delivery.next_attempt_at if delivery.status in ("pending", "sending") else None
    return DeliveryOut(
        id=delivery.id,
        event_id=delivery.event_id,
        type=delivery.type,
        seq=delivery.seq,
        status="pending" if delivery.status == "sending" else delivery.status,  # being sent: not done yet
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        next_attempt_at=_local(delivery.store_id, due),
        created_at=_local(delivery.store_id, delivery.created_at),
    )


def deliveries_out(page: DeliveryPage) -> DeliveryList:
    data = [delivery_out(delivery) for delivery in page.deliveries]
    return DeliveryList(data=data, next_cursor=page.next_cursor, has_more=page.next_cursor is not None)


def command(call: Call) -> EndpointCommand:
    return EndpointCommand(call.params["store"], call.params["endpoint"], call.caller.actor())


@route(
    "POST",
    "/v1/stores/{store}/webhook-endpoints",
    summary="Add an endpoint that receives the store's events (its secret is in this answer only)",
    tag="staff",
    access=OWNER,
    body=EndpointIn,
    response=EndpointSecretOut,
    present=with_secret,
    status=201,
    errors=(*DENIED, "store_not_found", "validation_failed"),
)
def create_endpoint(call: Call):
    # Not idempotent on purpose: a stored answer would keep the secret in a second place. A client
    # that lost the answer deletes the endpoint it does not know the secret of (the list names it).
    body: EndpointIn = call.body
    created = CreateEndpoint(call.params["store"], body.url, tuple(body.events), body.description, call.caller.actor())
    return endpoints.create_endpoint(created, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/webhook-endpoints",
    summary="The store's webhook endpoints, oldest first (never their secrets)",
    tag="staff",
    access=OWNER,
    response=EndpointList,
    errors=(*DENIED, "store_not_found"),
)
def list_endpoints(call: Call):
    found = endpoints.list_endpoints(call.uow, call.params["store"])
    return EndpointList(data=[endpoint_out(endpoint) for endpoint in found])


@route(
    "GET",
    ENDPOINT,
    summary="One webhook endpoint",
    tag="staff",
    access=OWNER,
    response=EndpointOut,
    present=endpoint_out,
    errors=(*DENIED, "webhook_endpoint_not_found"),
)
def get_endpoint(call: Call):
    return endpoints.endpoint_of(call.uow, call.params["store"], call.params["endpoint"])[0]


@route(
    "DELETE",
    ENDPOINT,
    summary="Delete a webhook endpoint: nothing more is sent to it",
    tag="staff",
    access=OWNER,
    status=204,
    errors=(*DENIED, "webhook_endpoint_not_found"),
)
def delete_endpoint(call: Call):
    endpoints.delete_endpoint(command(call), call.uow)
    return Response(status=204)


@route(
    "POST",
    f"{ENDPOINT}/rotate-secret",
    summary="A new signing secret (in this answer only); the previous one signs beside it for 24 h",
    tag="staff",
    access=OWNER,
    response=EndpointSecretOut,
    present=with_secret,
    errors=(*DENIED, "webhook_endpoint_not_found"),
)
def rotate_secret(call: Call):
    return endpoints.rotate_secret(command(call), call.uow)


@route(
    "POST",
    f"{ENDPOINT}/enable",
    summary="Enable an endpoint Tresen disabled: it receives the events from now on",
    tag="staff",
    access=OWNER,
    response=EndpointOut,
    present=endpoint_out,
    errors=(*DENIED, "webhook_endpoint_not_found"),
)
def enable_endpoint(call: Call):
    return endpoints.enable_endpoint(command(call), call.uow)


@route(
    "POST",
    f"{ENDPOINT}/test",
    summary="Send a `ping` event now: the delivery as its first attempt left it",
    tag="staff",
    access=OWNER,
    response=DeliveryOut,
    present=delivery_out,
    errors=(*DENIED, "webhook_endpoint_not_found", "webhook_endpoint_disabled"),
)
def test_endpoint(call: Call):
    return endpoints.send_ping(command(call), call.uow)


@route(
    "GET",
    f"{ENDPOINT}/deliveries",
    summary="The endpoint's deliveries, newest first: status, attempts, last answer, next attempt",
    tag="staff",
    access=OWNER,
    query=DeliveryQuery,
    response=DeliveryList,
    present=deliveries_out,
    errors=(*DENIED, "webhook_endpoint_not_found", "validation_failed"),
)
def list_deliveries(call: Call):
    query: DeliveryQuery = call.query
    return endpoints.deliveries(call.uow, call.params["store"], call.params["endpoint"], query.limit, query.cursor)


@route(
    "POST",
    f"{ENDPOINT}/deliveries/{{delivery}}/retry",
    summary="Send a delivery again now, whatever it came to: the delivery as this attempt left it",
    tag="staff",
    access=OWNER,
    response=DeliveryOut,
    present=delivery_out,
    errors=(*DENIED, "webhook_endpoint_not_found", "webhook_delivery_not_found", "webhook_endpoint_disabled"),
)
def retry_delivery(call: Call):
    store, endpoint, delivery = call.params["store"], call.params["endpoint"], call.params["delivery"]
    return endpoints.retry_delivery(call.uow, store, endpoint, delivery)


@route(
    "POST",
    "/v1/jobs/webhooks",
    summary="Send every webhook delivery due, and fan out the stores' new events: the hour's run (every minute)",
    tag="jobs",
    access=JOB,
    query=StoreRunQuery,
    response=WebhookJobOut,
)
def webhooks_job(call: Call):
    run = deliver_webhooks(call.uow, walk_command(call, hour_run, FAN_OUT_BUDGET))
    return WebhookJobOut(
        created=run.created,
        succeeded=run.succeeded,
        retrying=run.retrying,
        failed=run.failed,
        taken=run.taken,
        **run_fields(run.walked),
    )
