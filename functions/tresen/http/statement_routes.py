"""Statements: make one for some business days (its files rendered by the statement's exporters,
services/statement_files.py), read it with fresh download links to its archived files."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from ..services.statements import CreateStatement, create_statement, read_statement
from . import models as m
from .export_routes import Day
from .router import Call, route, staff

STATEMENT_MAKERS = staff("owner", "finance")
DENIED = ("unauthenticated", "forbidden")
IDEMPOTENCY = ("idempotency_key_required", "idempotency_key_reused", "idempotency_in_progress")


class StatementIn(m.Inbound):
    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=False)

    from_day: Day = Field(alias="from", description="first business day (05:00 store time on)")
    to_day: Day = Field(alias="to", description="last business day (inclusive, up to 05:00 the day after)")


class StatementFile(m.Model):
    name: str
    size: int
    sha256: str = Field(description="hex SHA-256 of the file, as manifest.json lists it")
    url: str | None = Field(default=None, description="GET: a V4 signed URL to download it")
    expires_at: str | None = Field(default=None, description="GET: when the URL stops working (15 minutes)")


class StatementOut(m.Model):
    """The statement's summary; its lines (every payment and refund) are in its files."""

    model_config = ConfigDict(extra="allow", defer_build=True, serialize_by_alias=True)

    id: str
    store_id: str
    from_day: str = Field(alias="from", serialization_alias="from")
    to_day: str = Field(alias="to", serialization_alias="to")
    created_at: str
    created_by: dict[str, Any]
    currency: str
    totals: dict[str, Any] = Field(description="per method and VAT rate, tips, refunds, and the provider's side")
    closings: dict[str, Any] = Field(description="the closings the totals tie out with, or why they do not")
    counts: dict[str, int] = Field(description="payments, refunds, unmatched, mismatched, payouts")
    files: list[StatementFile]
    manifest_sha256: str
    key_id: str = Field(description="the journal key that signed manifest.sig (GET /v1/journal/public-keys)")


def present(statement: dict[str, Any]) -> StatementOut:
    return StatementOut.model_validate(statement)


@route(
    "POST",
    "/v1/stores/{store}/statements",
    summary="Make a statement of some business days: payments matched to payouts, files archived and signed",
    tag="exports",
    access=STATEMENT_MAKERS,
    body=StatementIn,
    response=StatementOut,
    present=present,
    status=201,
    idempotent=True,
    errors=(*DENIED, "store_not_found", "validation_failed", *IDEMPOTENCY),
)
def create(call: Call):
    body: StatementIn = call.body
    command = CreateStatement(call.params["store"], body.from_day, body.to_day, call.caller.actor())
    return create_statement(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/statements/{statement}",
    summary="A statement, with fresh signed download URLs of its files (valid 15 minutes)",
    tag="exports",
    access=STATEMENT_MAKERS,
    response=StatementOut,
    present=present,
    errors=(*DENIED, "statement_not_found"),
)
def read(call: Call):
    return read_statement(call.uow, call.params["store"], call.params["statement"])
