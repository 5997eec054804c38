"""The DSFinV-K export (CONTRACT §4 "Exports"): the closings of some business days as the ZIP a tax
auditor's tool reads — the official index.xml, its DTD, and every table of the standard.

Closings are read one at a time, with their entries and their sales' orders; each table's lines go
to a temporary file of their own as they are made, and the ZIP is spooled to disk when large, so
memory stays that of one closing whatever the range.
"""

from __future__ import annotations

import tempfile
import zipfile
from contextlib import ExitStack
from datetime import date

from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..domain import dsfinvk
from .closings import closings_between, entries_between
from .downloads import Download
from .exports import local_days
from .orders import catalog_or_404

SPOOL_BYTES = 8 << 20


def dsfinvk_export(backend: Backend, store_id: str, first: date, last: date) -> Download:
    store, _ = catalog_or_404(backend, store_id)
    local_days(first, last, store)  # the same limits as every range export
    docs = backend.docs
    described = {"name": store.name, "address": store.address}
    with ExitStack() as stack:
        parts = {
            name: stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", newline=""))
            for name in dsfinvk.tables()
        }
        for name, part in parts.items():
            part.write(dsfinvk.heading(name))
        for closing in closings_between(docs, store_id, first, last):
            entries = entries_between(docs, store_id, closing["first_seq"], closing["last_seq"])
            sold = [entry["data"]["order_id"] for entry in entries if entry["data"].get("sale")]
            orders = {found.id: found.data for found in docs.get_all([repo.order_path(o) for o in sold]) if found}
            rows = dsfinvk.closing_tables(closing, described, dsfinvk.receipts(entries, orders))
            for name, table in rows.items():
                parts[name].writelines(dsfinvk.csv_lines(name, table))
        spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (the caller closes it)
        with zipfile.ZipFile(spooled, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(dsfinvk.INDEX, "index.xml")
            archive.write(dsfinvk.DTD, dsfinvk.DTD.name)
            for name, part in parts.items():
                part.seek(0)
                with archive.open(name, "w") as target:
                    while chunk := part.read(1 << 16):
                        target.write(chunk.encode())
    spooled.seek(0)
    return Download(f"dsfinvk_{store_id}_{first:%Y%m%d}_{last:%Y%m%d}.zip", "application/zip", spooled)
