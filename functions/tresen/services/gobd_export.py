"""The GoBD Z3 data export: the records of some days as CSV files with the GDPdU `index.xml` that
describes them, in a ZIP.

Each table is read page by page (the range readers of the bulk export, and the closings and
payouts of the days) and written into its ZIP member as it comes, the ZIP into a spool: memory
stays one page's whatever the range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import BinaryIO

from ..domain import gobd
from ..domain.catalog import Store
from ..domain.dsfinvk import DTD
from ..domain.export_columns import Row, closing_row, order_line_rows, payout_row
from .csv_export import csv_cell, csv_lines
from .downloads import ZIP_TYPE, Attachment, PeriodFile, StorePeriod, write_zip
from .exports import RANGE_READERS, local_days
from .finance_ports import FinanceUnitOfWork
from .order_ports import catalog_or_404
from .payouts import store_payouts


class GobdExport(PeriodFile):
    id = "gobd"
    media_type = ZIP_TYPE
    description = "GoBD Z3 data export of a date range: Tresen's records as CSV with a GDPdU index.xml"
    stem = "gobd"
    extension = "zip"

    def render(self, period: StorePeriod, uow: FinanceUnitOfWork, out: BinaryIO) -> Attachment:
        store, _ = catalog_or_404(uow, period.store_id)
        readers = table_readers(uow, store, period.first, period.last)
        location = ", ".join(store.address) or store.id
        tables = [(gobd.file_name(table), table_writer(table, readers[table])) for table in gobd.TABLES]
        index = gobd.index_xml(store.name, location, period.first, period.last)
        write_zip(out, [("index.xml", index), (gobd.DTD_NAME, DTD), *tables])
        return self.attachment(period)


GOBD = GobdExport()


def table_readers(uow: FinanceUnitOfWork, store: Store, first: date, last: date) -> dict[str, Iterator[list[Row]]]:
    """table → its rows page by page (the bulk tables read as the table is written)."""
    start, end = local_days(first, last, store)
    books = uow.books
    readers = {kind: RANGE_READERS[kind](books, store, start, end) for kind in RANGE_READERS}
    readers["order-lines"] = (
        [row for order in page for row in order_line_rows(order)] for page in books.orders_created(store.id, start, end)
    )
    readers["closings"] = iter([[closing_row(closing.as_dict()) for closing in books.closings(store.id, first, last)]])
    readers["payouts"] = iter([payout_rows(uow, store, first, last)])
    return readers


def table_writer(table: str, pages: Iterator[list[Row]]) -> Callable[[BinaryIO], None]:
    columns = gobd.column_order(table)

    def write(target: BinaryIO) -> None:
        target.write(csv_lines([columns]).encode())
        for page in pages:
            target.write(csv_lines([csv_cell(row[name]) for name in columns] for row in page).encode())

    return write


def payout_rows(uow: FinanceUnitOfWork, store: Store, first: date, last: date) -> list[Row]:
    return [payout_row(payout, items) for payout, items in store_payouts(uow, store.id, first, last)]
