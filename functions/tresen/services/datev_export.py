"""The DATEV export: the bookings of some days as EXTF Buchungsstapel, one file, or a ZIP of several
where the range crosses a year or holds more than 99 999 bookings.

The journal entries of the range are streamed once into a `BookingCollector` (a statement feeds
the same collector from its own single pass); the payouts that arrived in the range add the
bookings of this store's items: payouts belong to a provider account, which may serve several
stores, so each item is attributed through its payment; and through the payment's order to the
account that holds it until the payout (card clearing for a card at a terminal, provider clearing
for the others).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from itertools import chain
from typing import BinaryIO

from ..domain import datev
from ..domain.catalog import Store
from ..domain.closings import CARD_PRESENT
from .downloads import ZIP_TYPE, Attachment, PeriodFile, StorePeriod, write_zip
from .exports import local_days
from .finance_ports import Books, FinanceUnitOfWork
from .order_ports import catalog_or_404
from .payouts import store_payouts

CSV_TYPE = "text/csv; charset=windows-1252"


class DatevExport(PeriodFile):
    id = "datev"
    media_type = CSV_TYPE
    description = "DATEV EXTF Buchungsstapel of a date range (a ZIP when it must be split)"
    stem = "EXTF_Buchungsstapel"
    extension = "csv"

    def render(self, period: StorePeriod, uow: FinanceUnitOfWork, out: BinaryIO) -> Attachment:
        store, _ = catalog_or_404(uow, period.store_id)
        start, end = local_days(period.first, period.last, store)
        collector = datev.BookingCollector(store.id, store.zone)
        pages = uow.books.entries_at(store.id, start, end, datev.BOOKING_FIELDS)
        for _ in collector.gather(chain.from_iterable(pages)):
            pass
        zipped = write_bookings(out, uow, store, collector, period.first, period.last)
        return datev_attachment(self.file_name(store.id, period.first, period.last), zipped)


DATEV = DatevExport()


def write_bookings(
    out: BinaryIO,
    uow: FinanceUnitOfWork,
    store: Store,
    collector: datev.BookingCollector,
    first: date,
    last: date,
    ours: frozenset[str] = frozenset(),
) -> bool:
    """Writes into `out` the EXTF file of the collected bookings and of the payouts of `first`..`last`,
    or a ZIP of its batches where one file cannot hold them (True then); `ours` names payments
    already known to be this store's (they need not be read again)."""
    collector.resolve_references(uow.books.invoice_numbers(list(collector.refunded_orders)))
    bookings = collector.bookings + payout_bookings(uow, store.id, first, last, ours)
    settings = uow.accounting.settings(store.id)
    now = uow.now().astimezone(store.zone)

    def extf(start: date, end: date, chunk: list[datev.Booking]) -> bytes:
        return datev.extf_file(chunk, settings, start, end, now, f"Tresen {store.id}")

    batches = datev.batches(bookings, first, last)
    if len(batches) == 1:
        out.write(extf(*batches[0]))
        return False
    # one batch's file in memory at a time: the ZIP takes each as it is made
    write_zip(
        out,
        (
            (batch_name(store.id, start, end, part), extf(start, end, chunk))
            for part, (start, end, chunk) in enumerate(batches, 1)
        ),
    )
    return True


def datev_attachment(csv_name: str, zipped: bool) -> Attachment:
    """A DATEV file as it is handed out: `csv_name`, or the same name as a ZIP of its batches."""
    if zipped:
        return Attachment(csv_name.removesuffix(".csv") + ".zip", ZIP_TYPE)
    return Attachment(csv_name, CSV_TYPE)


def batch_name(store_id: str, start: date, end: date, part: int) -> str:
    """A batch in the ZIP: named as a file of its own days, numbered."""
    return DATEV.file_name(store_id, start, end).removesuffix(".csv") + f"_{part:02d}.csv"


def payout_bookings(
    uow: FinanceUnitOfWork, store_id: str, first: date, last: date, ours: frozenset[str] = frozenset()
) -> list[datev.Booking]:
    paid_out = list(store_payouts(uow, store_id, first, last, ours))
    by_card = card_present_payments(uow.books, {item["payment_id"] for _, items in paid_out for item in items})
    bookings = []
    for payout, items in paid_out:
        others = [item for item in items if item["payment_id"] not in by_card]
        cards = [item for item in items if item["payment_id"] in by_card]
        bookings += datev.payout_bookings(payout, others, store_id)
        bookings += datev.payout_bookings(payout, cards, store_id, datev.CARD_CLEARING)
    return bookings


def card_present_payments(books: Books, payment_ids: Collection[str]) -> frozenset[str]:
    """Those of `payment_ids` that a card terminal took, as their orders say."""
    payments = books.payments(sorted(payment_ids))
    orders = books.orders(sorted({payment.order_id for payment in payments.values()}))
    by_card = {order.id for order in orders if order.payment_method == CARD_PRESENT}
    return frozenset(payment_id for payment_id, payment in payments.items() if payment.order_id in by_card)
