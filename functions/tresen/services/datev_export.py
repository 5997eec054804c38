"""The DATEV export (CONTRACT §4 "Exports"): the bookings of some days as EXTF Buchungsstapel, one
file, or a ZIP of several where the range crosses a year or holds more than 99 999 bookings.

The journal entries of the range are streamed once into a `BookingCollector` (a statement feeds
the same collector from its own single pass); the payouts that arrived in the range add the
bookings of this store's items: payouts belong to a provider account, which may serve several
stores, so each item is attributed through its payment.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date

from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..domain import datev
from ..domain.catalog import Store
from .accounting import load_settings
from .documents import Documents
from .downloads import Download
from .exports import journal_entries, local_days
from .orders import catalog_or_404
from .payouts import store_payouts

CSV_TYPE = "text/csv; charset=windows-1252"
SPOOL_BYTES = 8 << 20  # a ZIP is kept in memory up to this size, then on disk


def datev_export(backend: Backend, store_id: str, first: date, last: date) -> Download:
    store, _ = catalog_or_404(backend, store_id)
    start, end = local_days(first, last, store)
    collector = datev.BookingCollector(store.id, store.zone)
    for _ in collector.gather(journal_entries(backend.docs, store, start, end, list(datev.BOOKING_FIELDS))):
        pass
    return datev_download(backend, store, collector, first, last)


def datev_download(
    backend: Backend,
    store: Store,
    collector: datev.BookingCollector,
    first: date,
    last: date,
    ours: frozenset[str] = frozenset(),
) -> Download:
    """The file (or ZIP) of the collected bookings and of the payouts of `first`..`last`; `ours`
    names payments already known to be this store's (they need not be read again)."""
    docs = backend.docs
    collector.resolve_references(invoices_of(docs, collector.refunded_orders))
    bookings = collector.bookings + payout_bookings(docs, store.id, first, last, ours)
    settings = load_settings(backend, store.id)
    now = backend.now().astimezone(store.zone)
    files = [
        (file_name(store.id, start, end, part), datev.extf_file(chunk, settings, start, end, now, f"Tresen {store.id}"))
        for part, (start, end, chunk) in enumerate(datev.batches(bookings, first, last), 1)
    ]
    if len(files) == 1:
        name, content = files[0]
        return Download(name.replace("_01.csv", ".csv"), CSV_TYPE, io.BytesIO(content))
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (the caller closes it)
    with zipfile.ZipFile(spooled, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content)
    spooled.seek(0)
    return Download(f"EXTF_Buchungsstapel_{store.id}_{first:%Y%m%d}_{last:%Y%m%d}.zip", "application/zip", spooled)


def file_name(store_id: str, start: date, end: date, part: int) -> str:
    return f"EXTF_Buchungsstapel_{store_id}_{start:%Y%m%d}_{end:%Y%m%d}_{part:02d}.csv"


def invoices_of(docs: Documents, order_ids: Iterable[str]) -> dict[str, str | None]:
    paths = [repo.order_path(order_id) for order_id in order_ids]
    return {found.id: found.data.get("invoice_number") for found in docs.get_all(paths) if found}


def payout_bookings(
    docs: Documents, store_id: str, first: date, last: date, ours: frozenset[str] = frozenset()
) -> list[datev.Booking]:
    return [
        booking
        for payout, items in store_payouts(docs, store_id, first, last, ours)
        for booking in datev.payout_bookings(payout, items, store_id)
    ]
