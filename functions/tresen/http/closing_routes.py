"""Closings (docs/api.md "Closings (Z-reports)"): close the day, read and print Z-reports."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..domain.errors import DomainError
from ..services import closings
from ..services.store_runs import day_run
from . import models as m
from .job_runs import StoreRunOut, StoreRunQuery, run_fields, walk_command
from .journal_routes import decode_cursor, encode_cursor
from .router import JOB, Call, route, staff

CLOSERS = staff("owner", "supervisor")
READERS = staff("owner", "supervisor", "finance")
DENIED = ("unauthenticated", "forbidden")
IDEMPOTENCY = ("idempotency_key_required", "idempotency_key_reused", "idempotency_in_progress")
CLOSE_DUE_RUN_BUDGET = 240.0  # seconds: the scheduler waits 300 s (infra/scheduler.tf)


@route(
    "POST",
    "/v1/stores/{store}/closings",
    summary="Close everything journaled since the previous closing (Z-report)",
    tag="staff",
    access=CLOSERS,
    response=m.ClosingOut,
    present=m.ClosingOut.model_validate,
    status=201,
    idempotent=True,
    errors=(*DENIED, "store_not_found", "nothing_to_close", *IDEMPOTENCY),
)
def close_day(call: Call):
    return closings.close_store(closings.CloseStore(call.params["store"], call.caller.actor()), call.uow)


@route(
    "GET",
    "/v1/stores/{store}/closings",
    summary="The store's closings, oldest first",
    tag="staff",
    access=READERS,
    query=m.PageQuery,
    response=m.ClosingPage,
    errors=(*DENIED, "validation_failed"),
)
def list_closings(call: Call):
    query: m.PageQuery = call.query
    after = decode_cursor(query.cursor) if query.cursor else 0
    found, has_more = closings.list_closings(call.uow, call.params["store"], query.limit, after)
    cursor = encode_cursor(found[-1].z_number) if has_more else None
    data = [m.ClosingOut.model_validate(closing) for closing in found]
    return m.ClosingPage(data=data, next_cursor=cursor, has_more=has_more)


def z_number(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 9:
        raise DomainError("closing_not_found", f"No closing {raw}.")
    return int(raw)


@route(
    "GET",
    "/v1/stores/{store}/closings/{z}",
    summary="One Z-report",
    tag="staff",
    access=READERS,
    response=m.ClosingOut,
    errors=(*DENIED, "closing_not_found"),
)
def get_closing(call: Call):
    found = closings.closing_at(call.uow, call.params["store"], z_number(call.params["z"]))
    return m.ClosingOut.model_validate(found)


@route(
    "GET",
    "/v1/stores/{store}/closings/{z}.pdf",
    summary="One Z-report, printable",
    tag="staff",
    access=READERS,
    media_type="application/pdf",
    errors=(*DENIED, "closing_not_found"),
)
def closing_pdf(call: Call):
    from ..domain.zreport_pdf import render_zreport
    from ..services.orders import catalog_or_404

    store_id = call.params["store"]
    closing = closings.closing_at(call.uow, store_id, z_number(call.params["z"]))
    store, _ = catalog_or_404(call.uow, store_id)
    document = render_zreport(
        closing.as_dict(), {"id": store.id, "name": store.name, "address": store.address, "timezone": store.timezone}
    )
    name = f"z-report-{store_id}-{closing.z_number:05d}.pdf"
    return Response(
        document, content_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


class CloseDueRunOut(m.ClosingsCreated, StoreRunOut):
    """The closings this invocation made, and how far the day's run got."""


@route(
    "POST",
    "/v1/jobs/close-due",
    summary="Close every store nobody closed by 05:00 store time: the day's run, continued (scheduler, every 5 "
    "minutes from 05:00 to 08:55)",
    tag="jobs",
    access=JOB,
    query=StoreRunQuery,
    response=CloseDueRunOut,
)
def close_due_job(call: Call):
    from ..services.store_jobs import close_due_run  # the jobs over every store: only the jobs function's

    walked = close_due_run(walk_command(call, day_run, CLOSE_DUE_RUN_BUDGET), call.uow)
    return CloseDueRunOut(
        closed=[m.ClosingOut.model_validate(closing) for closing in walked.results], **run_fields(walked)
    )
