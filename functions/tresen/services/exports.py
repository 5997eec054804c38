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

**Ranges.** Objects created on the given store-local days (inclusive), read STREAM_PAGE documents
at a time with a start-after cursor and handed out as pages of rows: memory stays the same
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

from ..adapters import giftcard_store as cards
from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..adapters.clock import rfc3339
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
from .documents import Doc, Documents, Filter, Order
from .orders import catalog_or_404

JOURNAL_CHUNK = 500  # entries per read of the journal
# Entries one feed page examines at most: a kind that few entries name (gift-card activities in a
# busy restaurant) answers a short or empty page with has_more rather than reading on and on.
MAX_EXAMINED = 5000
STREAM_PAGE = 1000  # documents per read of a range export: a few MB of documents in memory at a time
# A range export is a long download, not an interactive request: one page's read may take longer
# than a request's reads are given (firestore_client.READ), and failing a 100 000-row download over
# a slow page would only make the client start again.
PAGE_TIMEOUT = 60.0
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


def change_feed(backend: Backend, store_id: str, kind: str, cursor: str | None, limit: int) -> FeedPage:
    """The current state of every object of `kind` changed after `cursor` (from the start without
    one), at most `limit` of them; `next_cursor` is always given."""
    check_kind(kind)
    store, _ = catalog_or_404(backend, store_id)
    after = decode_cursor(cursor, store_id, kind) if cursor else Position()
    page = PageCollector(kind, limit, after)
    has_more = collect(backend.docs, store_id, page)
    rows = RESOLVERS[kind](backend.docs, store, page.objects)
    return FeedPage(rows, encode_cursor(store_id, kind, page.position), has_more)


def collect(docs: Documents, store_id: str, page: PageCollector) -> bool:
    """Feeds the journal after the page's position to it until the page is full, the journal ends or
    MAX_EXAMINED entries were examined. True if there is more after the position it ends at."""
    examined = 0
    size = min(JOURNAL_CHUNK, page.limit + 1)  # one entry per object at best: what a full page needs
    while True:
        entries = journal_after(docs, store_id, page.position.seq, size)
        for entry in entries:
            if not page.take(entry):
                return True
        examined += len(entries)
        if len(entries) < size:
            return False
        if examined >= MAX_EXAMINED:
            return True
        size = JOURNAL_CHUNK


def journal_after(docs: Documents, store_id: str, seq: int, limit: int) -> list[dict[str, Any]]:
    found = docs.query(f"stores/{store_id}/journal", order_by=[("seq", False)], start_after={"seq": seq}, limit=limit)
    return [doc.data for doc in found]


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


def of_store(doc: Doc | None, store: Store) -> bool:
    return doc is not None and doc.data.get("store_id") == store.id


def order_rows(docs: Documents, store: Store, objects: Objects) -> list[Row]:
    found = docs.get_all([repo.order_path(order_id) for order_id in objects]) if objects else []
    return [order_row(repo.order_from_doc(doc.data), store.zone) for doc in found if of_store(doc, store)]


def payment_rows(docs: Documents, store: Store, objects: Objects) -> list[Row]:
    """The payments of the orders named (orders paid at the counter or by gift cards have none)."""
    found = docs.get_all([repo.order_path(order_id) for order_id in objects]) if objects else []
    paid_online = [
        order for order in (repo.order_from_doc(d.data) for d in found if of_store(d, store)) if order.payment
    ]
    payments = docs.get_all([repo.payment_path(order.payment.id) for order in paid_online]) if paid_online else []
    return [
        payment_row(repo.payment_from_doc(doc.id, doc.data), order, store.zone)
        for order, doc in zip(paid_online, payments, strict=True)
        if doc is not None
    ]


def refund_rows(docs: Documents, store: Store, objects: Objects) -> list[Row]:
    found = docs.get_all([repo.refund_path(refund_id) for refund_id in objects]) if objects else []
    return [
        refund_row(repo.refund_from_doc(doc.data), store.currency, store.zone) for doc in found if of_store(doc, store)
    ]


def activity_rows(docs: Documents, store: Store, objects: Objects) -> list[Row]:
    """Activities are named by (card id, n); their documents sit under the card's key, a keyed
    hash of its code, which only the card document knows: the cards are looked up by id first."""
    found_cards = cards_by_id(docs, store, {card_id for card_id, _ in objects})
    wanted = [(found_cards[card_id], n) for card_id, n in objects if card_id in found_cards]
    found = docs.get_all([cards.activity_path(key, n) for (key, _), n in wanted]) if wanted else []
    return [
        activity_row(cards.activity_from_doc(doc.data), card, doc.data.get("actor"), store.zone)
        for ((_, card), _), doc in zip(wanted, found, strict=True)
        if doc is not None
    ]


def cards_by_id(docs: Documents, store: Store, card_ids: set[str]) -> dict[str, tuple[str, Any]]:
    """card id → (document key, card), for the store's cards, in `in` queries of 30 (Firestore's limit)."""
    ids, found = sorted(card_ids), {}
    for start in range(0, len(ids), repo.IN_QUERY_LIMIT):
        chunk = ids[start : start + repo.IN_QUERY_LIMIT]
        for doc in docs.query("giftcards", where=[("id", "in", chunk)]):
            if of_store(doc, store):
                found[doc.data["id"]] = (doc.id, cards.card_from_doc(doc.data))
    return found


def journal_rows(docs: Documents, store: Store, objects: Objects) -> list[Row]:
    """Entries never change: the entry read is the state."""
    return [journal_row(entry) for entry in objects.values()]


RESOLVERS: dict[str, Callable[[Documents, Store, Objects], list[Row]]] = {
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


def export_range(backend: Backend, store_id: str, kind: str, first: date, last: date) -> RangeExport:
    """Every object of `kind` created from `first` to `last` (store-local days, inclusive), oldest
    first, as pages of rows read one after another."""
    check_kind(kind)
    store, _ = catalog_or_404(backend, store_id)
    start, end = local_days(first, last, store)
    pages = RANGE_READERS[kind](backend.docs, store, start, end)
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


def pages_of(
    docs: Documents, collection: str, where: list[Filter], order_by: list[Order], fields: list[str] | None = None
) -> Iterator[list[Doc]]:
    """A query read STREAM_PAGE documents at a time, each page starting after the last document of
    the one before: a cursor, not an offset (an offset reads, and bills, everything it skips)."""
    start = None
    while True:
        page = docs.query(
            collection,
            where=where,
            order_by=order_by,
            limit=STREAM_PAGE,
            start_after=start,
            timeout=PAGE_TIMEOUT,
            fields=fields,
        )
        if page:
            yield page
        if len(page) < STREAM_PAGE:
            return
        start = {name: page[-1].data[name] for name, _ in order_by}


def created_between(store: Store, start: datetime, end: datetime) -> list[Filter]:
    return [("store_id", "==", store.id), ("created_at", ">=", start), ("created_at", "<", end)]


def order_pages(docs: Documents, store: Store, start: datetime, end: datetime) -> Iterator[list[Doc]]:
    """The store's order documents created in [start, end), oldest first (bench/exports.py reads them
    this way too, unformatted, as the baseline of the export's speed)."""
    return pages_of(docs, "orders", created_between(store, start, end), [("created_at", False), ("id", False)])


def orders_in(docs: Documents, store: Store, start: datetime, end: datetime) -> Iterator[list[Row]]:
    for page in order_pages(docs, store, start, end):
        yield [order_row(repo.order_from_doc(doc.data), store.zone) for doc in page]


def payments_in(docs: Documents, store: Store, start: datetime, end: datetime) -> Iterator[list[Row]]:
    # order_id breaks ties of created_at: an order has one payment, made when it is placed
    by_creation = [("created_at", False), ("order_id", False)]
    for page in pages_of(docs, "payments", created_between(store, start, end), by_creation):
        orders = docs.get_all([repo.order_path(doc.data["order_id"]) for doc in page])
        yield [
            payment_row(repo.payment_from_doc(doc.id, doc.data), repo.order_from_doc(order.data), store.zone)
            for doc, order in zip(page, orders, strict=True)
            if of_store(order, store)
        ]


def refunds_in(docs: Documents, store: Store, start: datetime, end: datetime) -> Iterator[list[Row]]:
    by_creation = [("created_at", False), ("id", False)]
    for page in pages_of(docs, "refunds", created_between(store, start, end), by_creation):
        yield [refund_row(repo.refund_from_doc(doc.data), store.currency, store.zone) for doc in page]


def journal_pages(
    docs: Documents, store: Store, start: datetime, end: datetime, fields: list[str] | None = None
) -> Iterator[list[Doc]]:
    """Entries by time: `at` is RFC 3339 in UTC with a fixed form, so its text sorts as its time."""
    within = [("at", ">=", rfc3339(start)), ("at", "<", rfc3339(end))]
    return pages_of(docs, f"stores/{store.id}/journal", within, [("at", False), ("seq", False)], fields)


def journal_entries(
    docs: Documents, store: Store, start: datetime, end: datetime, fields: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """The entries of [start, end) one by one (only `fields` of each, if given), a page at a time.

    A projection leaves out a map none of whose selected fields an entry has (Firestore's select
    does: a `passkey.changed` entry has no `data.sale`); it is put back empty, so that every entry
    keeps the shape its readers know."""
    maps = {name.split(".")[0] for name in fields or () if "." in name}
    for page in journal_pages(docs, store, start, end, fields):
        for doc in page:
            for name in maps:
                doc.data.setdefault(name, {})
            yield doc.data


def journal_in(docs: Documents, store: Store, start: datetime, end: datetime) -> Iterator[list[Row]]:
    for page in journal_pages(docs, store, start, end):
        yield [journal_row(doc.data) for doc in page]


def activities_in(docs: Documents, store: Store, start: datetime, end: datetime) -> Iterator[list[Row]]:
    """A card's activities are found through the journal entries that record them: they sit below
    cards, and the storage port queries one collection, not every card's ledger at once."""
    for page in journal_pages(docs, store, start, end):
        named = {ref: doc.data for doc in page for ref in objects_changed("giftcard-activities", doc.data)}
        if named:
            yield activity_rows(docs, store, named)


RANGE_READERS: dict[str, Callable[[Documents, Store, datetime, datetime], Iterator[list[Row]]]] = {
    "orders": orders_in,
    "payments": payments_in,
    "refunds": refunds_in,
    "giftcard-activities": activities_in,
    "journal": journal_in,
}
