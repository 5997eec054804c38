"""The DSFinV-K export: the closings of some business days as the ZIP a tax auditor's tool reads — the
official index.xml, its DTD, and every table of the standard.

Closings are read one at a time, with their entries and their orders (the sales', for their lines;
those refunded to a card, for the card's brand, which a refund's entry does not name); each table's
lines go to a temporary file of their own as they are made (a closing adds lines to every table at
once, and a ZIP is written one member after another), and the ZIP is written into a spool, so
memory stays that of one closing whatever the range.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import asdict
from typing import BinaryIO

from ..domain import dsfinvk
from ..domain.catalog import Store
from ..domain.closings import CARD_PRESENT
from ..domain.events import RefundCreated
from .downloads import ZIP_TYPE, Attachment, PeriodFile, StorePeriod, copied_from, write_zip
from .exports import local_days
from .finance_ports import FinanceUnitOfWork
from .journal_ports import Entry
from .orders import catalog_or_404


class DsfinvkExport(PeriodFile):
    id = "dsfinvk"
    media_type = ZIP_TYPE
    description = "DSFinV-K export of a date range: a ZIP with index.xml, its DTD and every table"
    stem = "dsfinvk"
    extension = "zip"

    def render(self, period: StorePeriod, uow: FinanceUnitOfWork, out: BinaryIO) -> Attachment:
        store, _ = catalog_or_404(uow, period.store_id)
        local_days(period.first, period.last, store)  # the same limits as every range export
        with ExitStack() as stack:
            parts = {name: stack.enter_context(tempfile.TemporaryFile("w+b")) for name in dsfinvk.tables()}
            for name, part in parts.items():
                part.write(dsfinvk.heading(name).encode())
            for name, lines in closing_lines(period, store, uow):
                parts[name].write("".join(lines).encode())
            official = [("index.xml", dsfinvk.INDEX), (dsfinvk.DTD.name, dsfinvk.DTD)]
            write_zip(out, [*official, *((name, copied_from(part)) for name, part in parts.items())])
        return self.attachment(period)


DSFINVK = DsfinvkExport()


def closing_lines(period: StorePeriod, store: Store, uow: FinanceUnitOfWork) -> Iterable[tuple[str, Iterable[str]]]:
    """(table, its lines) of each closing of the period, a closing at a time."""
    described = {"name": store.name, "address": store.address}
    for closing in uow.books.closings(store.id, period.first, period.last):
        entries = uow.journal.entries_between(store.id, closing.first_seq, closing.last_seq)
        sold = [entry["data"]["order_id"] for entry in entries if entry["data"].get("sale")]
        to_cards = [entry["data"]["order_id"] for entry in entries if is_card_refund(entry)]
        # the sales' orders, whose lines the receipts list, and those of refunds to a card, for its brand
        orders = {order.id: asdict(order) for order in uow.books.orders(list(dict.fromkeys([*sold, *to_cards])))}
        tables = dsfinvk.closing_tables(closing.as_dict(), described, dsfinvk.receipts(entries, orders))
        for name, table in tables.items():
            yield name, dsfinvk.csv_lines(name, table)


def is_card_refund(entry: Entry) -> bool:
    return entry["type"] == RefundCreated.TYPE and entry["data"]["method"] == CARD_PRESENT
