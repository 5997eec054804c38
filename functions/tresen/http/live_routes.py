"""Live updates as server-sent events (`text/event-stream`): a store's orders for its staff board, one
order for its customer's page (docs/api.md "Live updates").

The pages read a stream with fetch() (EventSource cannot send the Authorization or X-Order-Token
header, and a token never goes into a URL). Each change is one event, `event: order` with the order
as the staff API (or GET /v1/orders/{order}) shows it, and for an order out for delivery `event:
tracking` as GET /v1/orders/{order}/tracking shows it; a store's events carry `id:`, the `since` the
page's next stream resumes from. A quiet stream sends a comment every 15 s; each stream ends itself
after its lifetime, under the function's request timeout (infra/main.tf), with `event: end`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from pydantic import ConfigDict, Field
from werkzeug.wrappers import Response

from ..config import settings
from ..services import live
from ..services.live import KEEP_ALIVE, Pushed
from . import models as m
from .present import order_out
from .problems import ApiProblem
from .router import STAFF_ROLES, Call, route, staff
from .tour_routes import tracking_out

log = logging.getLogger(__name__)
# How long a stream lasts: twelve reconnects an hour, each a read or two (docs/architecture.md
# "Live updates"), well under the staff and customer functions' request timeout of 330 s.
STREAM_SECONDS = 300.0
EVENT_STREAM = "text/event-stream"
KEEP_ALIVE_FRAME = b": keep-alive\n\n"


class LiveQuery(m.Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    since: m.Time | None = Field(
        default=None,
        description="the `id` of the last event a previous stream sent: resume there, missing nothing "
        "(at most 15 minutes back); none: changes from now on, after `ready` the page reads the board",
    )


class ReadsOut(m.Model):
    documents: int = Field(description="document reads through the storage port, as Firestore bills them")
    listeners: int = Field(description="listeners opened (one per stream)")
    listener_documents: int = Field(description="documents the listeners delivered")
    listener_reads: int = Field(description="reads Firestore bills the listeners")


def lifetime_s() -> float:
    return settings().live_seconds or STREAM_SECONDS


@route(
    "GET",
    "/v1/stores/{store}/live",
    summary="The store's orders as they change, for the staff board (server-sent events)",
    tag="staff",
    access=staff(*STAFF_ROLES),
    query=LiveQuery,
    media_type=EVENT_STREAM,
    errors=("unauthenticated", "forbidden", "validation_failed"),
)
def store_live(call: Call):
    q: LiveQuery = call.query
    return event_stream(live.store_updates(call.uow, call.params["store"], q.since, lifetime_s()))


@route(
    "GET",
    "/v1/orders/{order}/live",
    summary="The order as it changes, and where its driver is, for the customer holding its X-Order-Token "
    "(server-sent events)",
    tag="customer",
    headers=("X-Order-Token",),
    media_type=EVENT_STREAM,
    errors=("order_not_found",),
)
def order_live(call: Call):
    token = call.request.headers.get("X-Order-Token")
    return event_stream(live.order_updates(call.uow, call.params["order"], token, lifetime_s()))


@route(
    "GET",
    "/v1/dev/reads",
    summary="Dev mode only: the reads this process counted (TRESEN_COUNT_READS=1), for the bench",
    tag="dev",
    response=ReadsOut,
    errors=("not_found",),
)
def dev_reads(call: Call):
    if not (settings().dev and settings().count_reads):
        raise ApiProblem("not_found", f"No endpoint at {call.request.path}.")
    listeners = call.uow.live.reads.counts()
    return ReadsOut(
        documents=call.uow.docs.reads,
        listeners=listeners["listeners"],
        listener_documents=listeners["documents"],
        listener_reads=listeners["reads"],
    )


def event_stream(updates: Iterator[Pushed]) -> Response:
    """Sent as it comes: no proxy may buffer or cache it."""
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(framed(updates), mimetype=EVENT_STREAM, headers=headers)


def framed(updates: Iterator[Pushed]) -> Iterator[bytes]:
    """Each update as its event. A failure once the answer has begun cannot be a problem answer
    any more: it is logged and the stream ends, and the page opens the next one."""
    try:
        for pushed in updates:
            yield frame(pushed)
    except Exception:
        log.exception("a live stream failed; its page reconnects")
    finally:
        updates.close()  # unsubscribes at once, also when the page went away mid-stream


def frame(pushed: Pushed) -> bytes:
    if pushed is KEEP_ALIVE:
        return KEEP_ALIVE_FRAME
    lines = [f"event: {pushed.event}"]
    if pushed.resume is not None:
        lines.append(f"id: {pushed.resume.isoformat()}")
    shown = {"order": order_out, "tracking": tracking_out}.get(pushed.event)
    data = shown(pushed.value).model_dump_json() if shown else "{}"
    lines.append(f"data: {data}")
    return ("\n".join(lines) + "\n\n").encode()
