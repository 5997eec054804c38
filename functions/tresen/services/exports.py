"""Exports of a store's books: a change feed over the journal, and whole date ranges read page by
page (services/row_exports.py writes them as files).

**The change feed.** Its position is a journal seq. Every change to an order, payment, refund or
gift-card activity is committed in one batch with the journal entries that name it, and entry n+1
is only ever created by a writer that has seen n (adapters/store_writer.py): the journal a reader
sees has no holes, and an object named by an entry at or before the position is read in a state
at least that new. A page reads the entries after the position, maps each to the objects of the
kind it changed (domain/export_columns.py), and reads their current state in bulk. A change made
while the page is read shows in the state read and names the object again after the new
position; a client that polls with `next_cursor` forever therefore ends with every object in its
final state, whenever it was changed.

**Ranges.** Objects created on the given store-local days (inclusive), read a page at a time
(`uow.books`, services/finance_ports.py) and handed out as pages of rows: memory stays the same
whatever the size of the range.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ..domain.catalog import Store
from ..domain.errors import DomainError, FieldError
from ..domain.export_columns import (
    COLUMNS,
    KINDS,
    Row,
    activity_row,
    journal_row,
    objects_changed,
    order_row,
    payment_row,
    refund_row,
)
from .finance_ports import Books, FinanceUnitOfWork
from .journal_ports import JournalReader
from .order_ports import catalog_or_404

JOURNAL_CHUNK = 500  # entries per read of the journal
# Entries one feed page examines at most: a kind that few entries name (gift-card activities in a
# busy restaurant) answers a short or empty page with has_more rather than reading on and on.
MAX_EXAMINED = 5000
MAX_DAYS = 366
MAX_SEQ = 2**62  # beyond any journal; a larger number in a cursor is not one we issued


# --------------------------------------------------------------------------------- the feed


@dataclass(frozen=True)
class Position:
    """Where a feed stands: every entry up to `seq` examined, and the first `skip` objects of
    entry seq+1 (one that changed more objects than a page holds: a chunk of a gift-card block)."""

    seq: int = 0
    skip: int = 0


@dataclass(frozen=True)
class FeedPage:
    rows: list[Row]
    next_cursor: str
    has_more: bool


@dataclass
class PageCollector:
    """Takes journal entries in order until `limit` distinct objects are named. An object named
    again moves to the end: the page is ordered by each object's latest change, oldest first, and
    holds each object once."""

    kind: str
    limit: int
    position: Position
    objects: dict[Hashable, Mapping[str, Any]] = field(default_factory=dict)  # → the latest entry naming it

    def take(self, entry: Mapping[str, Any]) -> bool:
        """False if the page filled up before the end of this entry (the position then says how far)."""
        seq = entry["seq"]
        named = objects_changed(self.kind, entry)
        start = self.position.skip if seq == self.position.seq + 1 else 0
        for index in range(start, len(named)):
            ref = named[index]
            if ref in self.objects:
                del self.objects[ref]
            elif len(self.objects) == self.limit:
                self.position = Position(seq - 1, index)
                return False
            self.objects[ref] = entry
        self.position = Position(seq)
        return True


def change_feed(uow: FinanceUnitOfWork, store_id: str, kind: str, cursor: str | None, limit: int) -> FeedPage:
    """The current state of every object of `kind` changed after `cursor` (from the start without
    one), at most `limit` of them; `next_cursor` is always given."""
    check_kind(kind)
    store, _ = catalog_or_404(uow, store_id)
    after = decode_cursor(cursor, store_id, kind) if cursor else Position()
    page = PageCollector(kind, limit, after)
    has_more = collect(uow.journal, store_id, page)
    rows = RESOLVERS[kind](uow.books, store, page.objects)
    return FeedPage(rows, encode_cursor(store_id, kind, page.position), has_more)


def collect(journal: JournalReader, store_id: str, page: PageCollector) -> bool:
    """Feeds the journal after the page's position to it until the page is full, the journal ends or
    MAX_EXAMINED entries were examined. True if there is more after the position it ends at."""
    examined = 0
    size = min(JOURNAL_CHUNK, page.limit + 1)  # one entry per object at best: what a full page needs
    while True:
        entries = journal.entries_after(store_id, page.position.seq, size)
        for entry in entries:
            if not page.take(entry):
                return True
        examined += len(entries)
        if len(entries) < size:
            return False
        if examined >= MAX_EXAMINED:
            return True
        size = JOURNAL_CHUNK


def encode_cursor(store_id: str, kind: str, position: Position) -> str:
    """Opaque to clients; names its store and kind, so a cursor of another feed is refused."""
    raw = json.dumps([store_id, kind, position.seq, position.skip], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, store_id: str, kind: str) -> Position:
    try:
        named_store, named_kind, seq, skip = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        named_store = None
    if named_store == store_id and named_kind == kind and all(ok_count(n) for n in (seq, skip)):
        return Position(seq, skip)
    raise DomainError(
        "validation_failed", "The cursor is not one this feed issued.", [FieldError("query.cursor", "invalid")]
    )


def ok_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_SEQ


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise DomainError("not_found", f"No export {kind!r}: there are {', '.join(KINDS)}.")


# ------------------------------------------------------- reading the objects a page names


Objects = Mapping[Hashable, Mapping[str, Any]]  # what a page names → the latest entry naming it


def order_rows(books: Books, store: Store, objects: Objects) -> list[Row]:
    return [order_row(order, store.zone) for order in books.orders(list(objects)) if order.store_id == store.id]


def payment_rows(books: Books, store: Store, objects: Objects) -> list[Row]:
    """The payments of the orders named (orders paid at the counter or by gift cards have none)."""
    paid_online = [order for order in books.orders(list(objects)) if order.store_id == store.id and order.payment]
    found = books.payments([order.payment.id for order in paid_online])
    return [
        payment_row(found[order.payment.id], order, store.zone) for order in paid_online if order.payment.id in found
    ]


def refund_rows(books: Books, store: Store, objects: Objects) -> list[Row]:
    return [
        refund_row(refund, store.currency, store.zone)
        for refund in books.refunds(list(objects))
        if refund.store_id == store.id
    ]


def activity_rows(books: Books, store: Store, objects: Objects) -> list[Row]:
    return [
        activity_row(found.activity, found.card, found.actor, store.zone)
        for found in books.card_activities(store.id, list(objects))
    ]


def journal_rows(books: Books, store: Store, objects: Objects) -> list[Row]:
    """Entries never change: the entry read is the state."""
    return [journal_row(entry) for entry in objects.values()]


RESOLVERS: dict[str, Callable[[Books, Store, Objects], list[Row]]] = {
    "orders": order_rows,
    "payments": payment_rows,
    "refunds": refund_rows,
    "giftcard-activities": activity_rows,
    "journal": journal_rows,
}


# --------------------------------------------------------------------------------- ranges


@dataclass(frozen=True)
class RangeExport:
    columns: tuple[str, ...]
    pages: Iterator[list[Row]]  # read as they are consumed


def export_range(uow: FinanceUnitOfWork, store_id: str, kind: str, first: date, last: date) -> RangeExport:
    """Every object of `kind` created from `first` to `last` (store-local days, inclusive), oldest
    first, as pages of rows read one after another."""
    check_kind(kind)
    store, _ = catalog_or_404(uow, store_id)
    start, end = local_days(first, last, store)
    pages = RANGE_READERS[kind](uow.books, store, start, end)
    return RangeExport(tuple(COLUMNS[kind]), pages)


def local_days(first: date, last: date, store: Store) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in the store's time zone, in UTC."""
    return days_from(first, last, store, time(0), "query.")


def days_from(first: date, last: date, store: Store, starts: time, where: str) -> tuple[datetime, datetime]:
    """[`starts` on `first`, `starts` on the day after `last`) in the store's time zone, in UTC: at
    most MAX_DAYS days; `where` prefixes the field a refusal names (`query.` for a query)."""
    if first > last:
        raise DomainError("validation_failed", "`from` is after `to`.", [FieldError(f"{where}to", "before from")])
    if (last - first).days + 1 > MAX_DAYS:
        raise DomainError(
            "validation_failed",
            f"A range covers at most {MAX_DAYS} days.",
            [FieldError(f"{where}to", f"more than {MAX_DAYS} days after from")],
        )
    try:
        start = datetime.combine(first, starts, store.zone).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), starts, store.zone).astimezone(UTC)
    except OverflowError:  # the first or last day a datetime can hold
        raise DomainError(
            "validation_failed", "No data at that date.", [FieldError(f"{where}from", "out of range")]
        ) from None
    return start, end


def orders_in(books: Books, store: Store, start: datetime, end: datetime) -> Iterator[list[Row]]:
    for page in books.orders_created(store.id, start, end):
        yield [order_row(order, store.zone) for order in page]


def payments_in(books: Books, store: Store, start: datetime, end: datetime) -> Iterator[list[Row]]:
    for page in books.payments_created(store.id, start, end):
        yield [payment_row(payment, order, store.zone) for payment, order in page if order.store_id == store.id]


def refunds_in(books: Books, store: Store, start: datetime, end: datetime) -> Iterator[list[Row]]:
    for page in books.refunds_created(store.id, start, end):
        yield [refund_row(refund, store.currency, store.zone) for refund in page]


def journal_in(books: Books, store: Store, start: datetime, end: datetime) -> Iterator[list[Row]]:
    for page in books.entries_at(store.id, start, end):
        yield [journal_row(entry) for entry in page]


def activities_in(books: Books, store: Store, start: datetime, end: datetime) -> Iterator[list[Row]]:
    """A card's activities are found through the journal entries that record them: each sits in its
    card's own ledger, and no list of the store's activities by time exists to read."""
    for page in books.entries_at(store.id, start, end):
        named = {ref: entry for entry in page for ref in objects_changed("giftcard-activities", entry)}
        if named:
            yield activity_rows(books, store, named)


RANGE_READERS: dict[str, Callable[[Books, Store, datetime, datetime], Iterator[list[Row]]]] = {
    "orders": orders_in,
    "payments": payments_in,
    "refunds": refunds_in,
    "giftcard-activities": activities_in,
    "journal": journal_in,
}
