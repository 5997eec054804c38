"""Exports for the tax consultant and the auditor (CONTRACT §4 "Exports"): DATEV bookings, the
DSFinV-K cash-register export and the GoBD Z3 data export, each a whole file for a date range."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pydantic import ConfigDict, Field
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from ..adapters.backend import Backend
from ..services.downloads import Download
from .export_routes import EXPORTERS, Day
from .models import Model
from .router import Call, route

Exporter = Callable[[Backend, str, date, date], Download]


def _backend() -> Backend:
    from ..adapters.backend import backend

    return backend()


class RangeQuery(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=False)

    from_day: Day = Field(alias="from", description="first store-local day")
    to_day: Day = Field(alias="to", description="last store-local day (inclusive)")


def download(call: Call, exporter: Exporter) -> Response:
    query: RangeQuery = call.query
    found = exporter(_backend(), call.params["store"], query.from_day, query.to_day)
    return Response(
        wrap_file(call.request.environ, found.content),
        status=200,
        content_type=found.media_type,
        direct_passthrough=True,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"', "Cache-Control": "no-store"},
    )


ERRORS = ("unauthenticated", "forbidden", "store_not_found", "validation_failed")


@route(
    "GET",
    "/v1/stores/{store}/export/datev",
    summary="DATEV EXTF Buchungsstapel of a date range (a ZIP when it must be split)",
    tag="staff",
    access=EXPORTERS,
    query=RangeQuery,
    media_type="text/csv",
    errors=ERRORS,
)
def datev(call: Call):
    from ..services.datev_export import datev_export

    return download(call, datev_export)


@route(
    "GET",
    "/v1/stores/{store}/export/dsfinvk",
    summary="DSFinV-K export of a date range: a ZIP with index.xml, its DTD and every table",
    tag="staff",
    access=EXPORTERS,
    query=RangeQuery,
    media_type="application/zip",
    errors=ERRORS,
)
def dsfinvk(call: Call):
    from ..services.dsfinvk_export import dsfinvk_export

    return download(call, dsfinvk_export)


@route(
    "GET",
    "/v1/stores/{store}/export/gobd",
    summary="GoBD Z3 data export of a date range: Tresen's records as CSV with a GDPdU index.xml",
    tag="staff",
    access=EXPORTERS,
    query=RangeQuery,
    media_type="application/zip",
    errors=ERRORS,
)
def gobd(call: Call):
    from ..services.gobd_export import gobd_export

    return download(call, gobd_export)
