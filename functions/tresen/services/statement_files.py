"""A statement's files — JSON, CSV, PDF and DATEV — each rendered from the statement built once: the
DATEV file from the bookings collected in the same single read of the journal. They are named after
the statement's business days: `statement-{store}-{from}-{to}.json`, `…-datev.csv`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, BinaryIO

from ..domain import statements as st
from ..domain.catalog import Store
from ..domain.datev import BookingCollector
from .csv_export import csv_document
from .datev_export import CSV_TYPE, datev_attachment, write_bookings
from .downloads import Attachment
from .finance_ports import FinanceUnitOfWork


@dataclass(frozen=True)
class BuiltStatement:
    store: Store
    statement: Mapping[str, Any]
    bookings: BookingCollector  # the DATEV bookings of the statement's journal entries

    @property
    def days(self) -> tuple[date, date]:
        return date.fromisoformat(self.statement["from"]), date.fromisoformat(self.statement["to"])


def stem(store_id: str, first: date, last: date) -> str:
    return f"statement-{store_id}-{first.isoformat()}-{last.isoformat()}"


@dataclass(frozen=True)
class StatementFile:
    """A file made from the statement alone."""

    id: str
    media_type: str
    extension: str
    content: Callable[[Mapping[str, Any]], bytes]

    def file_name(self, store_id: str, first: date, last: date) -> str:
        return f"{stem(store_id, first, last)}.{self.extension}"

    def render(self, built: BuiltStatement, uow: FinanceUnitOfWork, out: BinaryIO) -> Attachment:
        out.write(self.content(built.statement))
        return Attachment(self.file_name(built.store.id, *built.days), self.media_type)


class StatementDatev:
    """The statement's bookings as DATEV EXTF, for the period they fall on: the business days, and the
    night after the last of them up to 05:00."""

    id = "statement.datev"
    media_type = CSV_TYPE

    def file_name(self, store_id: str, first: date, last: date) -> str:
        return f"{stem(store_id, first, last)}-datev.csv"

    def render(self, built: BuiltStatement, uow: FinanceUnitOfWork, out: BinaryIO) -> Attachment:
        first, last = built.days
        ours = frozenset(line["payment_id"] for line in built.statement["payments"])
        zipped = write_bookings(out, uow, built.store, built.bookings, first, last + timedelta(days=1), ours)
        return datev_attachment(self.file_name(built.store.id, first, last), zipped)


def statement_csv(statement: Mapping[str, Any]) -> bytes:
    return csv_document(list(st.CSV_COLUMNS), st.csv_rows(statement)).encode()


def statement_pdf(statement: Mapping[str, Any]) -> bytes:
    from ..domain.statement_pdf import render_statement  # fpdf takes a quarter second to import: only when needed

    return render_statement(statement)


STATEMENT_FILES = (
    StatementFile("statement.json", "application/json", "json", st.statement_json),
    StatementFile("statement.csv", "text/csv; charset=utf-8", "csv", statement_csv),
    StatementFile("statement.pdf", "application/pdf", "pdf", statement_pdf),
    StatementDatev(),
)
