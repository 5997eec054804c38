"""Closings (CONTRACT §4 "Staff", §7 "Closing"): close the day, read and print Z-reports."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field
from werkzeug.wrappers import Response

from ..adapters.backend import Backend
from ..domain.errors import DomainError
from ..services import closings
from . import models as m
from .journal_routes import decode_cursor, encode_cursor
from .router import JOB, Call, route, staff

CLOSERS = staff("owner", "supervisor")
READERS = staff("owner", "supervisor", "finance")
DENIED = ("unauthenticated", "forbidden")
IDEMPOTENCY = ("idempotency_key_required", "idempotency_key_reused", "idempotency_in_progress")


def _backend() -> Backend:
    from ..adapters.backend import backend

    return backend()


class VatRowOut(m.Model):
    rate: str
    gross: int
    net: int
    vat: int


class ClosingOut(m.Model):
    """A Z-report. Every figure is computed from the journal entries first_seq..last_seq alone."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    store_id: str
    z_number: int
    business_day: str = Field(description="YYYY-MM-DD: the business day of the period's last entry")
    closed_at: str = Field(description="RFC 3339, store time")
    closed_by: dict[str, Any]
    first_seq: int
    last_seq: int
    currency: str
    counts: dict[str, int]
    sales: dict[str, int] = Field(description="gross, net, vat over all rates (cents)")
    vat: list[VatRowOut]
    payments: dict[str, int] = Field(description="on_site, online, giftcard (cents)")
    tips: int
    refunds: dict[str, Any] = Field(description="count, amount, vat per rate, by_method")
    voids: dict[str, int]
    discounts: dict[str, int]
    giftcards: dict[str, int] = Field(description="sold (a liability, not revenue) and redeemed")
    checkpoint: dict[str, Any] = Field(description="the signed checkpoint at last_seq")
    previous_hash: str
    hash: str = Field(description="SHA-256 of the RFC 8785 bytes of the closing without `hash`")


class ClosingPage(m.Model):
    data: list[ClosingOut]
    next_cursor: str | None
    has_more: bool


class ClosingsCreated(m.Model):
    closed: list[ClosingOut]


@route(
    "POST",
    "/v1/stores/{store}/closings",
    summary="Close everything journaled since the previous closing (Z-report)",
    tag="staff",
    access=CLOSERS,
    response=ClosingOut,
    present=ClosingOut.model_validate,
    status=201,
    idempotent=True,
    errors=(*DENIED, "store_not_found", "nothing_to_close", *IDEMPOTENCY),
)
def close_day(call: Call):
    return closings.close_store(_backend(), call.params["store"], call.caller.actor(), call.before_commit)


@route(
    "GET",
    "/v1/stores/{store}/closings",
    summary="The store's closings, oldest first",
    tag="staff",
    access=READERS,
    query=m.PageQuery,
    response=ClosingPage,
    errors=(*DENIED, "validation_failed"),
)
def list_closings(call: Call):
    query: m.PageQuery = call.query
    after = decode_cursor(query.cursor) if query.cursor else 0
    found, has_more = closings.list_closings(_backend().docs, call.params["store"], query.limit, after)
    cursor = encode_cursor(found[-1]["z_number"]) if has_more else None
    return ClosingPage(data=[ClosingOut.model_validate(c) for c in found], next_cursor=cursor, has_more=has_more)


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
    response=ClosingOut,
    errors=(*DENIED, "closing_not_found"),
)
def get_closing(call: Call):
    found = closings.closing_at(_backend().docs, call.params["store"], z_number(call.params["z"]))
    return ClosingOut.model_validate(found)


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
    closing = closings.closing_at(_backend().docs, store_id, z_number(call.params["z"]))
    store, _ = catalog_or_404(_backend(), store_id)
    document = render_zreport(
        closing, {"id": store.id, "name": store.name, "address": store.address, "timezone": store.timezone}
    )
    name = f"z-report-{store_id}-{closing['z_number']:05d}.pdf"
    return Response(
        document, content_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@route(
    "POST",
    "/v1/jobs/close-due",
    summary="Close every store nobody closed by 05:00 store time (scheduler, nightly)",
    tag="jobs",
    access=JOB,
    response=ClosingsCreated,
)
def close_due_job(call: Call):
    return ClosingsCreated(closed=[ClosingOut.model_validate(c) for c in closings.close_due(_backend())])
