"""The bulk export of one kind (orders, payments, refunds, gift-card activities, journal entries) over
some days: every object created then, oldest first, as CSV (a header row, then one line per object)
or as JSON Lines with the same columns, written page by page as the range is read (services/exports.py),
so that memory stays one page's whatever the range."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from ..domain.export_columns import KINDS, Row
from .csv_export import csv_cell, csv_lines
from .downloads import Attachment, StorePeriod
from .exports import export_range
from .finance_ports import FinanceUnitOfWork

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8; header=present", "jsonl": "application/x-ndjson; charset=utf-8"}


def csv_page(rows: list[Row]) -> bytes:
    return csv_lines([csv_cell(value) for value in row.values()] for row in rows).encode()


def jsonl_page(rows: list[Row]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows).encode()


PAGE_WRITERS: dict[str, Callable[[list[Row]], bytes]] = {"csv": csv_page, "jsonl": jsonl_page}


@dataclass(frozen=True)
class RowExport:
    kind: str  # one of export_columns.KINDS
    format: str  # csv | jsonl

    @property
    def id(self) -> str:
        return f"{self.kind}.{self.format}"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    def file_name(self, store_id: str, first: date, last: date) -> str:
        return f"tresen-{store_id}-{self.kind}-{first.isoformat()}-{last.isoformat()}.{self.format}"

    def render(self, period: StorePeriod, uow: FinanceUnitOfWork, out: BinaryIO) -> Attachment:
        ranged = export_range(uow, period.store_id, self.kind, period.first, period.last)
        if self.format == "csv":
            out.write(csv_lines([ranged.columns]).encode())
        page_bytes = PAGE_WRITERS[self.format]
        for page in ranged.pages:
            out.write(page_bytes(page))
        return self.attachment(period)

    def attachment(self, period: StorePeriod) -> Attachment:
        return Attachment(self.file_name(period.store_id, period.first, period.last), self.media_type)


ROW_EXPORTS = tuple(RowExport(kind, fmt) for kind in KINDS for fmt in MEDIA_TYPES)
