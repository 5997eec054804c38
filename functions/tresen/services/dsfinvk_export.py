"""The DSFinV-K export: the closings of some business days as the ZIP a tax auditor's tool reads — the
official index.xml, its DTD, and every table of the standard.

Closings are read one at a time, with their entries and their sales' orders; each table's lines go
to a temporary file of their own as they are made (a closing adds lines to every table at once, and
a ZIP is written one member after another), and the ZIP is written into a spool, so memory stays
that of one closing whatever the range.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from typing import BinaryIO

from ..adapters import repository as repo
from ..domain import dsfinvk
from ..domain.catalog import Store
from .closings import closings_between, entries_between
from .documents import Documents
from .downloads import ZIP_TYPE, Attachment, PeriodFile, StorePeriod, copied_from, write_zip
from .exports import local_days
from .orders import catalog_or_404


class DsfinvkExport(PeriodFile):
    id = "dsfinvk"
    media_type = ZIP_TYPE
    description = "DSFinV-K export of a date range: a ZIP with index.xml, its DTD and every table"
    stem = "dsfinvk"
    extension = "zip"

    def render(self, period: StorePeriod, out: BinaryIO) -> Attachment:
        store, _ = catalog_or_404(period.backend, period.store_id)
        local_days(period.first, period.last, store)  # the same limits as every range export
        with ExitStack() as stack:
            parts = {name: stack.enter_context(tempfile.TemporaryFile("w+b")) for name in dsfinvk.tables()}
            for name, part in parts.items():
                part.write(dsfinvk.heading(name).encode())
            for name, lines in closing_lines(period, store):
                parts[name].write("".join(lines).encode())
            official = [("index.xml", dsfinvk.INDEX), (dsfinvk.DTD.name, dsfinvk.DTD)]
            write_zip(out, [*official, *((name, copied_from(part)) for name, part in parts.items())])
        return self.attachment(period)


DSFINVK = DsfinvkExport()


def closing_lines(period: StorePeriod, store: Store) -> Iterable[tuple[str, Iterable[str]]]:
    """(table, its lines) of each closing of the period, a closing at a time."""
    docs: Documents = period.backend.docs
    described = {"name": store.name, "address": store.address}
    for closing in closings_between(docs, store.id, period.first, period.last):
        entries = entries_between(docs, store.id, closing["first_seq"], closing["last_seq"])
        sold = [entry["data"]["order_id"] for entry in entries if entry["data"].get("sale")]
        orders = {found.id: found.data for found in docs.get_all([repo.order_path(o) for o in sold]) if found}
        for name, table in dsfinvk.closing_tables(closing, described, dsfinvk.receipts(entries, orders)).items():
            yield name, dsfinvk.csv_lines(name, table)
