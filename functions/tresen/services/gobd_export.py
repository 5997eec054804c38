"""The GoBD Z3 data export (CONTRACT §4 "Exports"): the records of some days as CSV files with the
GDPdU `index.xml` that describes them, in a ZIP.

Each table is read page by page (the range readers of the bulk export, and the closings and
payouts of the days) and written to a temporary file of its own as it comes, then the ZIP is
spooled to disk when large: memory stays one page's whatever the range.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date

from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..domain import gobd
from ..domain.catalog import Store
from ..domain.dsfinvk import DTD
from ..domain.export_columns import Row, closing_row, order_line_rows, payout_row
from .closings import closings_between
from .csv_export import csv_cell, csv_document
from .documents import Documents
from .downloads import Download
from .exports import RANGE_READERS, local_days, order_pages
from .orders import catalog_or_404
from .payouts import store_payouts

SPOOL_BYTES = 8 << 20


def gobd_export(backend: Backend, store_id: str, first: date, last: date) -> Download:
    store, _ = catalog_or_404(backend, store_id)
    start, end = local_days(first, last, store)
    docs = backend.docs
    readers = {kind: RANGE_READERS[kind](docs, store, start, end) for kind in RANGE_READERS}
    readers["order-lines"] = (
        [row for doc in page for row in order_line_rows(repo.order_from_doc(doc.data))]
        for page in order_pages(docs, store, start, end)
    )
    readers["closings"] = iter([[closing_row(c) for c in closings_between(docs, store_id, first, last)]])
    readers["payouts"] = iter([payout_rows(docs, store, first, last)])
    location = ", ".join(store.address) or store.id
    with ExitStack() as stack:
        spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (the caller closes it)
        with zipfile.ZipFile(spooled, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("index.xml", gobd.index_xml(store.name, location, first, last))
            archive.write(DTD, gobd.DTD_NAME)
            for table in gobd.TABLES:
                part = stack.enter_context(tempfile.TemporaryFile("w+b"))
                write_table(part, table, readers[table])
                part.seek(0)
                with archive.open(gobd.file_name(table), "w") as target:
                    while chunk := part.read(1 << 16):
                        target.write(chunk)
    spooled.seek(0)
    return Download(f"gobd_{store_id}_{first:%Y%m%d}_{last:%Y%m%d}.zip", "application/zip", spooled)


def write_table(part, table: str, pages: Iterator[list[Row]]) -> None:
    columns = gobd.column_order(table)
    part.write(csv_document(columns, []).encode())
    for page in pages:
        lines = csv_document(columns, ([csv_cell(row[name]) for name in columns] for row in page))
        part.write(lines.split("\r\n", 1)[1].encode())  # the page's rows, without a header again


def payout_rows(docs: Documents, store: Store, first: date, last: date) -> list[Row]:
    return [payout_row(payout, items) for payout, items in store_payouts(docs, store.id, first, last)]
