"""Exports for finance: one path per kind, answering either a page of the change feed (JSON) or, with
`format`, a whole date range streamed as CSV or JSON Lines (the kind's row export among the exporters,
services/exporters.py)."""

from __future__ import annotations

import functools
import operator
import re
from datetime import date
from typing import Annotated, BinaryIO, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, create_model
from werkzeug.wrappers import Response

from ..domain.errors import DomainError, FieldError
from ..domain.export_columns import COLUMNS, KINDS
from ..services import exports
from ..services.downloads import StorePeriod
from ..services.exporters import EXPORTERS
from ..services.finance_ports import FinanceUnitOfWork
from ..services.row_exports import RowExport
from .downloads import streamed_answer
from .models import Model
from .router import Call, route, staff

EXPORT_READERS = staff("owner", "finance", key_scope="exports:read")
DEFAULT_LIMIT = 100
BOM = "\ufeff".encode()  # Excel's sign that a CSV is UTF-8: before the document, not part of it
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ROW_EXPORT_OF = {
    (exporter.kind, exporter.format): exporter for exporter in EXPORTERS if isinstance(exporter, RowExport)
}


def iso_day_text(value: object) -> object:
    """A day is `YYYY-MM-DD` only: pydantic alone would also take a number of seconds."""
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        raise ValueError("must be a day YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(iso_day_text)]


class ExportQuery(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=False)

    cursor: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        default=None, description="change feed: the `next_cursor` of the previous page; none = from the beginning"
    )
    limit: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None, description=f"change feed: objects per page, default {DEFAULT_LIMIT}"
    )
    format: Literal["csv", "jsonl"] | None = Field(default=None, description="a date range, streamed")
    from_day: Day | None = Field(default=None, alias="from", description="with format: first store-local day")
    to_day: Day | None = Field(default=None, alias="to", description="with format: last store-local day (inclusive)")
    bom: bool | None = Field(default=None, description="with format=csv: start with a UTF-8 BOM (for Excel)")


def row_model(kind: str) -> type[Model]:
    name = "".join(part.title() for part in kind.split("-")) + "Row"
    return create_model(name, __base__=Model, **{column: (kind_, ...) for column, kind_ in COLUMNS[kind].items()})


ROW_MODELS = {kind: row_model(kind) for kind in KINDS}


class ExportPage(Model):
    data: list[functools.reduce(operator.or_, ROW_MODELS.values())] = Field(  # type: ignore[valid-type]
        description="the current state of each object changed after the cursor, oldest change first, each once"
    )
    next_cursor: str = Field(description="always given: poll with it to get what changes next")
    has_more: bool = Field(description="more changes are waiting after next_cursor")


@route(
    "GET",
    "/v1/stores/{store}/export/{kind}",
    summary="Orders, payments, refunds, gift-card activities or journal entries: a change feed, or a date range",
    tag="exports",
    access=EXPORT_READERS,
    query=ExportQuery,
    response=ExportPage,
    errors=("unauthenticated", "forbidden", "not_found", "store_not_found", "validation_failed"),
)
def export(call: Call):
    query: ExportQuery = call.query
    store_id, kind = call.params["store"], call.params["kind"]
    exports.check_kind(kind)  # an unknown kind is 404 whatever the parameters
    if query.format is None:
        refuse_given(query, {"from_day": "from", "to_day": "to", "bom": "bom"}, "only with format")
        page = exports.change_feed(call.uow, store_id, kind, query.cursor, query.limit or DEFAULT_LIMIT)
        model = ROW_MODELS[kind]
        return ExportPage(
            data=[model(**row) for row in page.rows], next_cursor=page.next_cursor, has_more=page.has_more
        )
    refuse_given(query, {"cursor": "cursor", "limit": "limit"}, "not with format: a range is streamed whole")
    given = {"from": query.from_day, "to": query.to_day}
    missing = [FieldError(f"query.{name}", "required with format") for name, day in given.items() if day is None]
    if missing:
        raise DomainError("validation_failed", "A range needs from and to.", missing)
    if query.bom and query.format != "csv":
        raise DomainError("validation_failed", "A BOM is for CSV only.", [FieldError("query.bom", "only with csv")])
    period = StorePeriod(store_id, query.from_day, query.to_day)
    return streamed(ROW_EXPORT_OF[kind, query.format], period, call.uow, bool(query.bom))


def refuse_given(query: ExportQuery, names: dict[str, str], why: str) -> None:
    given = [
        FieldError(f"query.{shown}", why) for attribute, shown in names.items() if getattr(query, attribute) is not None
    ]
    if given:
        raise DomainError("validation_failed", "The change feed and a date range take different parameters.", given)


def streamed(exporter: RowExport, period: StorePeriod, uow: FinanceUnitOfWork, bom: bool) -> Response:
    def render(out: BinaryIO) -> None:
        if bom:
            out.write(BOM)
        exporter.render(period, uow, out)

    return streamed_answer(exporter.attachment(period), render)
