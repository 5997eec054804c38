"""The DSFinV-K export: the closings of some business days as the ZIP a tax auditor's tool reads — the
official index.xml, its DTD, and every table of the standard.

Closings are read one at a time, with their entries and their orders (the sales', for their lines;
those refunded to a card, for the card's brand, which a refund's entry does not name); each table's
lines go to a temporary file of their own as they are made (a closing adds lines to every table at
once, and a ZIP is written one member after another), and the ZIP is written into a spool, so
memory stays that of one closing whatever the range.

The store's TSEs are read once: its `tse.installed` entries, whatever closing holds them, with the
certificate from its TSE record. A sale of a closing whose signature is not among the closing's
entries (the TSE failed, or its signing was cut off) has its own entries read: it may have been
signed since.
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
from ..domain.events import RefundCreated, TseInstalled, TseSigned
from .downloads import ZIP_TYPE, Attachment, PeriodFile, StorePeriod, copied_from, write_zip
from .exports import local_days
from .finance_ports import FinanceUnitOfWork
from .journal_ports import Entry
from .order_ports import catalog_or_404


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
    tses = store_tses(uow, store.id)
    for closing in uow.books.closings(store.id, period.first, period.last):
        entries = uow.journal.entries_between(store.id, closing.first_seq, closing.last_seq)
        sold = [entry["data"]["order_id"] for entry in entries if entry["data"].get("sale")]
        to_cards = [entry["data"]["order_id"] for entry in entries if is_card_refund(entry)]
        # the sales' orders, whose lines the receipts list, and those of refunds to a card, for its brand
        orders = {order.id: asdict(order) for order in uow.books.orders(list(dict.fromkeys([*sold, *to_cards])))}
        sales = [orders[order_id] for order_id in sold if order_id in orders]
        later = signed_later(uow, store.id, closing.last_seq, entries, sales)
        signatures = dsfinvk.sale_signatures([*entries, *later], orders)
        found = dsfinvk.receipts(entries, orders)
        tables = dsfinvk.closing_tables(closing.as_dict(), described, found, tses, signatures)
        for name, table in tables.items():
            yield name, dsfinvk.csv_lines(name, table)


def store_tses(uow: FinanceUnitOfWork, store_id: str) -> list[dsfinvk.Tse]:
    """The store's TSEs as journaled, with the certificate, which a `tse.installed` entry does not
    carry, from the store's TSE record."""
    record = uow.store_tses.read(store_id)
    tse = record[0] if record else None
    certificates = {tse.serial_number: tse.certificate} if tse and tse.serial_number and tse.certificate else {}
    return dsfinvk.installed_tses(uow.journal.entries_of_type(store_id, TseInstalled.TYPE), certificates)


def signed_later(
    uow: FinanceUnitOfWork, store_id: str, last_seq: int, entries: list[Entry], sales: list[dict]
) -> list[Entry]:
    """The entries after the closing of its sales that a TSE was to sign and that it did not sign
    within the closing (their `tse.signed`, if the TSE has signed them since)."""
    signed = {entry["data"]["order_id"] for entry in entries if entry["type"] == TseSigned.TYPE}
    unsigned = [sale["id"] for sale in sales if sale.get("tse_status") and sale["id"] not in signed]
    return [
        entry
        for order_id in unsigned
        for entry in uow.journal.entries_of_order(store_id, order_id)
        if entry["seq"] > last_seq
    ]


def is_card_refund(entry: Entry) -> bool:
    return entry["type"] == RefundCreated.TYPE and entry["data"]["method"] == CARD_PRESENT
