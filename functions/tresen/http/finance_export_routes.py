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
# kind → (what it is, the media type of a success, the module and function that make it)
FILES = {
    "datev": ("DATEV EXTF Buchungsstapel of a date range (a ZIP when it must be split)", "text/csv", "datev_export"),
    "dsfinvk": ("DSFinV-K export of a date range: a ZIP with index.xml, its DTD and every table", "application/zip",
                "dsfinvk_export"),
    "gobd": ("GoBD Z3 data export of a date range: Tresen's records as CSV with a GDPdU index.xml", "application/zip",
             "gobd_export"),
}  # fmt: skip


def file_export(kind: str, summary: str, media_type: str, maker: str) -> None:
    """Declare `GET …/export/{kind}`, answered by `services.{maker}.{maker}` (imported on first use,
    so a function that never serves it never loads it)."""

    def handler(call: Call):
        from importlib import import_module

        return download(call, getattr(import_module(f"..services.{maker}", __package__), maker))

    handler.__name__ = f"export_{kind}"  # the OpenAPI operation id
    route(
        "GET",
        f"/v1/stores/{{store}}/export/{kind}",
        summary=summary,
        tag="exports",
        access=EXPORTERS,
        query=RangeQuery,
        media_type=media_type,
        errors=ERRORS,
    )(handler)


for kind, (summary, media_type, maker) in FILES.items():
    file_export(kind, summary, media_type, maker)
