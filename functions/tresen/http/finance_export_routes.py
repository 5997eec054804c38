"""Exports for the tax consultant and the auditor: DATEV bookings, the DSFinV-K cash-register export
and the GoBD Z3 data export, each a whole file of a date range at `GET …/export/{id}`, one route for
each range file among the exporters (services/exporters.py)."""

from __future__ import annotations

from functools import partial

from pydantic import ConfigDict, Field
from werkzeug.wrappers import Response

from ..services.downloads import PeriodFile, StorePeriod, spooled
from ..services.exporters import EXPORTERS
from .downloads import file_answer
from .export_routes import EXPORT_READERS, Day
from .models import Model
from .router import Call, route


class RangeQuery(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=False)

    from_day: Day = Field(alias="from", description="first store-local day")
    to_day: Day = Field(alias="to", description="last store-local day (inclusive)")


ERRORS = ("unauthenticated", "forbidden", "store_not_found", "validation_failed")


def declare_download(exporter: PeriodFile) -> None:
    """`GET …/export/{exporter.id}`: the exporter's file of the days asked for, rendered into a spool
    (a ZIP is only readable once whole) and then sent."""

    def handler(call: Call) -> Response:
        query: RangeQuery = call.query
        period = StorePeriod(call.params["store"], query.from_day, query.to_day)
        return file_answer(call.request, spooled(partial(exporter.render, period, call.uow)))

    handler.__name__ = f"export_{exporter.id}"  # the OpenAPI operation id
    route(
        "GET",
        f"/v1/stores/{{store}}/export/{exporter.id}",
        summary=exporter.description,
        tag="exports",
        access=EXPORT_READERS,
        query=RangeQuery,
        media_type=exporter.media_type.partition(";")[0],  # the document names the type; the answer adds a charset
        errors=ERRORS,
    )(handler)


for exporter in EXPORTERS:
    if isinstance(exporter, PeriodFile):
        declare_download(exporter)
