"""Importing a customer list (CSV): the dry run, the real run in the background, its progress and its
refused rows — routes and their models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field
from werkzeug.wrappers import Response

from ..services import customer_imports
from ..services.customer_imports import ImportCustomers, Tally
from ..services.customers import Staff
from . import models as m
from .present import local_time
from .router import UNKNOWN, Call, current_uow, route, staff

UNKNOWN["import_id"] = "import_not_found"
MAX_CSV = 20 * 1024 * 1024
IMPORTERS = staff("owner", "supervisor")
DENIED = ("unauthenticated", "forbidden")
PASSKEY = ("passkey_required", "passkey_invalid", "passkey_locked")


class ImportQuery(m.Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    dry_run: Annotated[bool, Field(description="true: report what the import would do, write nothing")] = False


class RowError(m.Model):
    line: int = Field(description="the row's line in the file (the header is line 1)")
    field: str = Field(description="the column at fault (empty: the row as a whole)")
    message: str


class DryRunOut(m.Model):
    rows: int
    create: int
    update: int
    unchanged: int
    errors: list[RowError] = Field(description="every refused row's problems (the first 1000 rows)")


class StartedOut(m.Model):
    import_id: str


class ImportOut(m.Model):
    id: str
    status: Literal["running", "done", "failed"] = Field(
        description="failed: the worker stopped; importing the same file again completes it"
    )
    rows: int | None = Field(description="rows in the file (null while running)")
    processed: int
    create: int
    update: int
    unchanged: int
    errors: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Started:
    import_id: str
    http_status: int = 202


def dry_run_out(tally: Tally) -> DryRunOut:
    return DryRunOut(
        rows=tally.rows,
        create=tally.create,
        update=tally.update,
        unchanged=tally.unchanged,
        errors=[RowError(**error) for error in tally.errors],
    )


def import_out(state: dict[str, Any]) -> ImportOut:
    store, _ = current_uow().catalog.get(state["store_id"])  # cached: the use case has just read it
    times = {name: local_time(state[name], store.zone) for name in ("created_at", "updated_at")}
    return ImportOut(**({name: state[name] for name in ImportOut.model_fields if name not in times} | times))


@route(
    "POST",
    "/v1/stores/{store}/customer-imports",
    summary="Import a customer list (CSV, UTF-8 or Windows-1252, `;` or `,`): a dry run, or the real run",
    tag="staff",
    access=IMPORTERS,
    headers=("X-Passkey",),
    raw_body=True,
    raw_type="text/csv",
    raw_limit=MAX_CSV,
    query=ImportQuery,
    response=DryRunOut,
    also=((202, StartedOut),),
    present=lambda result: (
        StartedOut(import_id=result.import_id) if isinstance(result, Started) else dry_run_out(result)
    ),
    idempotent=True,
    errors=(*DENIED, *PASSKEY, "store_not_found", "validation_failed"),
)
def start(call: Call) -> Tally | Started:
    command = ImportCustomers(
        call.params["store"],
        call.raw,
        Staff(call.caller.actor(), call.caller.role, call.request.headers.get("X-Passkey")),
    )
    if call.query.dry_run:
        return customer_imports.dry_run(command, call.uow)
    return Started(customer_imports.start_import(command, call.uow))


@route(
    "GET",
    "/v1/stores/{store}/customer-imports/{import_id}",
    summary="An import's progress and counts",
    tag="staff",
    access=IMPORTERS,
    response=ImportOut,
    present=import_out,
    errors=(*DENIED, "store_not_found", "import_not_found"),
)
def status(call: Call) -> dict[str, Any]:
    return customer_imports.import_status(call.uow, call.params["store"], call.params["import_id"])


@route(
    "GET",
    "/v1/stores/{store}/customer-imports/{import_id}/errors.csv",
    summary="The rows an import refused, each with its reason (UTF-8 CSV)",
    tag="staff",
    access=IMPORTERS,
    media_type="text/csv",
    errors=(*DENIED, "store_not_found", "import_not_found"),
)
def errors(call: Call) -> Response:
    content = customer_imports.import_errors(call.uow, call.params["store"], call.params["import_id"])
    disposition = f'attachment; filename="{call.params["import_id"]}-errors.csv"'
    return Response(content, content_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})
