"""The finance use cases' repositories (services/finance_ports.py) over the documents and the archive:
a store's books read in bulk, payouts and their match records, statements and their files.

Long reads go STREAM_PAGE documents at a time with a start-after cursor (an offset would read, and
bill, everything it skips), and batched reads by id READ_CHUNK documents at a time, so that a
statement of thirty thousand payments makes many reads each well within its deadline.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from ..domain.closings import Closing, closing_from_dict
from ..domain.journal import rfc3339
from ..domain.orders import Order
from ..domain.payments import PaymentRecord
from ..domain.payouts import PayoutItem
from ..domain.refunds import Refund
from ..services.documents import Doc, Documents, Filter
from ..services.documents import Order as Ordering
from ..services.finance_ports import CardActivity, Entry, Record
from . import giftcard_store as cards
from . import repository as repo
from .archive import BucketArchive, MemoryArchive
from .closing_store import closing_collection
from .journal_store import journal_collection
from .records import payout_match_path, payout_path, statement_path
from .signed_urls import DOWNLOAD_VALIDITY

STREAM_PAGE = 1000  # documents per read of a range: a few MB of documents in memory at a time
# A range export is a long download, not an interactive request: one page's read may take longer
# than a request's reads are given (firestore_client.READ), and failing a 100 000-row download over
# a slow page would only make the client start again.
PAGE_TIMEOUT = 60.0
READ_CHUNK = 500  # documents per batched read by id


def created_between(store_id: str, start: datetime, end: datetime) -> list[Filter]:
    return [("store_id", "==", store_id), ("created_at", ">=", start), ("created_at", "<", end)]


def existing(docs: Documents, paths: Sequence[str]) -> list[Doc]:
    """The documents that exist, in the order asked, read READ_CHUNK at a time."""
    found: list[Doc] = []
    for start in range(0, len(paths), READ_CHUNK):
        found += [doc for doc in docs.get_all(paths[start : start + READ_CHUNK]) if doc is not None]
    return found


class DocumentBooks:
    def __init__(self, docs: Documents):
        self._docs = docs

    def orders(self, order_ids: Collection[str]) -> list[Order]:
        return [repo.order_from_doc(doc.data) for doc in existing(self._docs, [repo.order_path(i) for i in order_ids])]

    def payments(self, payment_ids: Collection[str]) -> dict[str, PaymentRecord]:
        found = existing(self._docs, [repo.payment_path(payment_id) for payment_id in payment_ids])
        return {doc.id: repo.payment_from_doc(doc.id, doc.data) for doc in found}

    def refunds(self, refund_ids: Collection[str]) -> list[Refund]:
        found = existing(self._docs, [repo.refund_path(refund_id) for refund_id in refund_ids])
        return [repo.refund_from_doc(doc.data) for doc in found]

    def invoice_numbers(self, order_ids: Collection[str]) -> dict[str, str | None]:
        found = existing(self._docs, [repo.order_path(order_id) for order_id in order_ids])
        return {doc.id: doc.data.get("invoice_number") for doc in found}

    def card_activities(self, store_id: str, refs: Collection[tuple[str, int]]) -> list[CardActivity]:
        """Activities sit under their card's key, a keyed hash of its code that only the card
        document knows: the cards are looked up by id first."""
        store_cards = self._cards_by_id(store_id, {card_id for card_id, _ in refs})
        wanted = [(store_cards[card_id], n) for card_id, n in refs if card_id in store_cards]
        found = self._docs.get_all([cards.activity_path(key, n) for (key, _), n in wanted]) if wanted else []
        return [
            CardActivity(cards.activity_from_doc(doc.data), card, doc.data.get("actor"))
            for ((_, card), _), doc in zip(wanted, found, strict=True)
            if doc is not None
        ]

    def _cards_by_id(self, store_id: str, card_ids: set[str]) -> dict[str, tuple[str, Any]]:
        """card id → (document key, card), for the store's cards, in `in` queries of IN_QUERY_LIMIT."""
        ids, found = sorted(card_ids), {}
        for start in range(0, len(ids), repo.IN_QUERY_LIMIT):
            for doc in self._docs.query(cards.CARDS, where=[("id", "in", ids[start : start + repo.IN_QUERY_LIMIT])]):
                if doc.data.get("store_id") == store_id:
                    found[doc.data["id"]] = (doc.id, cards.card_from_doc(doc.data))
        return found

    def closings(self, store_id: str, first: date, last: date) -> list[Closing]:
        found = self._docs.query(
            closing_collection(store_id),
            where=[("business_day", ">=", first.isoformat()), ("business_day", "<=", last.isoformat())],
            order_by=[("business_day", False)],
        )
        return sorted((closing_from_dict(doc.data) for doc in found), key=lambda closing: closing.z_number)

    def order_pages(self, store_id: str, start: datetime, end: datetime) -> Iterator[list[Doc]]:
        """The store's order documents created in [start, end), oldest first (bench/exports.py reads
        them this way too, unformatted, as the baseline of the export's speed)."""
        return self._pages("orders", created_between(store_id, start, end), [("created_at", False), ("id", False)])

    def orders_created(self, store_id: str, start: datetime, end: datetime) -> Iterator[list[Order]]:
        for page in self.order_pages(store_id, start, end):
            yield [repo.order_from_doc(doc.data) for doc in page]

    def payments_created(
        self, store_id: str, start: datetime, end: datetime
    ) -> Iterator[list[tuple[PaymentRecord, Order]]]:
        # order_id breaks ties of created_at: an order has one payment, made when it is placed
        by_creation = [("created_at", False), ("order_id", False)]
        for page in self._pages("payments", created_between(store_id, start, end), by_creation):
            orders = self._docs.get_all([repo.order_path(doc.data["order_id"]) for doc in page])
            yield [
                (repo.payment_from_doc(doc.id, doc.data), repo.order_from_doc(order.data))
                for doc, order in zip(page, orders, strict=True)
                if order is not None
            ]

    def refunds_created(self, store_id: str, start: datetime, end: datetime) -> Iterator[list[Refund]]:
        by_creation = [("created_at", False), ("id", False)]
        for page in self._pages("refunds", created_between(store_id, start, end), by_creation):
            yield [repo.refund_from_doc(doc.data) for doc in page]

    def entries_at(
        self, store_id: str, start: datetime, end: datetime, fields: Sequence[str] | None = None
    ) -> Iterator[list[Entry]]:
        """By `at`: RFC 3339 in UTC with a fixed form, so its text sorts as its time. Firestore's
        select leaves out a map none of whose selected fields an entry has (a `passkey.changed`
        entry has no `data.sale`): it is put back empty."""
        within = [("at", ">=", rfc3339(start.astimezone(UTC))), ("at", "<", rfc3339(end.astimezone(UTC)))]
        maps = {name.split(".")[0] for name in fields or () if "." in name}
        for page in self._pages(journal_collection(store_id), within, [("at", False), ("seq", False)], fields):
            for doc in page:
                for name in maps:
                    doc.data.setdefault(name, {})
            yield [doc.data for doc in page]

    def _pages(
        self, collection: str, where: list[Filter], order_by: list[Ordering], fields: Sequence[str] | None = None
    ) -> Iterator[list[Doc]]:
        """A query read STREAM_PAGE documents at a time, each page starting after the last document
        of the one before."""
        start = None
        while True:
            page = self._docs.query(
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


class DocumentPayouts:
    def __init__(self, docs: Documents):
        self._docs = docs

    def exists(self, provider: str, payout_id: str) -> bool:
        return self._docs.get(payout_path(provider, payout_id)) is not None

    def claims(self, items: Sequence[PayoutItem]) -> list[str | None]:
        found = self._docs.get_all([payout_match_path(item.kind, item.object_id) for item in items])
        return [doc.data["payout_id"] if doc else None for doc in found]

    def matches(self, kind: str, object_ids: Collection[str]) -> dict[str, Record]:
        paths = [payout_match_path(kind, object_id) for object_id in dict.fromkeys(object_ids)]
        return {doc.data["object_id"]: doc.data for doc in existing(self._docs, paths)}

    def named(self, refs: Collection[tuple[str, str]]) -> list[Record]:
        paths = sorted({payout_path(provider, payout_id) for provider, payout_id in refs})
        return [found.data for found in self._docs.get_all(paths) if found]

    def arrived_between(self, first: date, last: date) -> list[Record]:
        found = self._docs.query(
            "payouts",
            where=[("arrival_date", ">=", first.isoformat()), ("arrival_date", "<=", last.isoformat())],
            order_by=[("arrival_date", False)],
        )
        return [doc.data for doc in found]

    def matches_of(self, provider: str, payout_id: str) -> list[Record]:
        mine = [("provider", "==", provider), ("payout_id", "==", payout_id)]
        return [doc.data for doc in self._docs.query("payout_matches", where=mine)]


class DocumentStatements:
    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str, statement_id: str) -> Record | None:
        found = self._docs.get(statement_path(store_id, statement_id))
        return found.data if found else None


def statement_object(store_id: str, statement_id: str, name: str) -> str:
    """A new statement id each time: create-only writes never meet an older statement's objects."""
    return f"statements/{store_id}/{statement_id}/{name}"


class ArchivedStatementFiles:
    """A statement's files in the archive bucket, handed out as signed URLs."""

    link_validity = DOWNLOAD_VALIDITY

    def __init__(self, archive: BucketArchive | MemoryArchive):
        self._archive = archive

    def keep(self, store_id: str, statement_id: str, name: str, content: bytes) -> None:
        self._archive.put(statement_object(store_id, statement_id, name), content)

    def download_link(self, store_id: str, statement_id: str, name: str) -> str:
        return self._archive.signed_url(statement_object(store_id, statement_id, name), name)
