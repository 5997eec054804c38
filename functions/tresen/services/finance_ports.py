"""What the finance use cases — statements, payouts, the exports and the files for the tax consultant —
read through, as protocols: a store's books read in bulk, payouts and the items they paid out, the
statements made, and the statements' archived files.

The storage adapters implement them (adapters/finance_store.py); each is an attribute of the unit
of work (`uow.books`, `uow.payouts` …). Nothing here knows a collection, a document path or an
object name. Payouts and their match records are the domain's own mappings (domain/payouts.py);
the rest is typed with the domain's types.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from ..domain.closings import Closing
from ..domain.giftcards import Activity, Card
from ..domain.orders import Order
from ..domain.payments import PaymentRecord
from ..domain.payouts import PayoutItem
from ..domain.refunds import Refund
from .journal_ports import Entry, JournalReader, JournalWriter
from .order_ports import Catalog, ProviderEvents
from .ports import Signer
from .setup_ports import AccountingRecords
from .tse_ports import StoreTses
from .unit_of_work import UnitOfWork

Record = dict[str, Any]  # a payout or a match record, as domain/payouts.py makes it


class CardActivity(NamedTuple):
    """One activity of a card's ledger, with its card and who did it."""

    activity: Activity
    card: Card
    actor: dict[str, Any] | None


class Books(Protocol):
    """A store's records read in bulk: by id (whatever store holds them: the caller keeps its own),
    or those created in a time range, page by page, so that memory stays one page's whatever the range."""

    def orders(self, order_ids: Collection[str]) -> list[Order]:
        """Those that exist, in the order asked."""

    def payments(self, payment_ids: Collection[str]) -> dict[str, PaymentRecord]:
        """By id, those that exist."""

    def refunds(self, refund_ids: Collection[str]) -> list[Refund]:
        """Those that exist, in the order asked."""

    def invoice_numbers(self, order_ids: Collection[str]) -> dict[str, str | None]:
        """order id → its invoice number (None: not invoiced), for the orders that exist."""

    def card_activities(self, store_id: str, refs: Collection[tuple[str, int]]) -> list[CardActivity]:
        """The activities (card id, n) of the store's cards, in the order asked; those of unknown or
        other stores' cards are left out."""

    def closings(self, store_id: str, first: date, last: date) -> list[Closing]:
        """The closings whose business day is one of `first`..`last`, by z number."""

    def orders_created(self, store_id: str, start: datetime, end: datetime) -> Iterator[list[Order]]:
        """The store's orders created in [start, end), oldest first."""

    def payments_created(
        self, store_id: str, start: datetime, end: datetime
    ) -> Iterator[list[tuple[PaymentRecord, Order]]]:
        """The store's payments created in [start, end), oldest first, each with the order it pays
        (a payment whose order is gone is left out)."""

    def refunds_created(self, store_id: str, start: datetime, end: datetime) -> Iterator[list[Refund]]:
        """The store's refunds created in [start, end), oldest first."""

    def entries_at(
        self, store_id: str, start: datetime, end: datetime, fields: Sequence[str] | None = None
    ) -> Iterator[list[Entry]]:
        """The journal entries made in [start, end), by time. With `fields` (dotted paths) only those
        parts of each entry are read; a map none of whose selected fields an entry has is there,
        empty, so that every entry keeps the shape its readers know."""


class Payouts(Protocol):
    """The providers' payouts, and which payment or refund each of their items paid out."""

    def exists(self, provider: str, payout_id: str) -> bool: ...

    def claims(self, items: Sequence[PayoutItem]) -> list[str | None]:
        """For each item, the payout that has matched it already (None: no payout yet)."""

    def matches(self, kind: str, object_ids: Collection[str]) -> dict[str, Record]:
        """object id → its match record, for those of `kind` a payout has paid out."""

    def named(self, refs: Collection[tuple[str, str]]) -> list[Record]:
        """The payouts (provider, payout id) that exist, by provider and id."""

    def arrived_between(self, first: date, last: date) -> list[Record]:
        """Payouts that arrived on the days `first`..`last`, oldest first (every provider)."""

    def matches_of(self, provider: str, payout_id: str) -> list[Record]:
        """The match records of every item the payout paid out."""


class PayoutListing(Protocol):
    """A provider whose payout event names no items (Stripe): they are asked of it."""

    def payout_transactions(self, payout_id: str) -> list[dict[str, Any]]:
        """The payout's balance transactions, each with its source expanded (domain/payouts.py
        `stripe_items` reads them)."""


class Statements(Protocol):
    def read(self, store_id: str, statement_id: str) -> Record | None:
        """The statement's summary as committed (its `statement.created` data)."""


class StatementArchive(Protocol):
    """A statement's files in the archive: create-only, handed out through links that expire."""

    link_validity: timedelta  # how long a download link works

    def keep(self, store_id: str, statement_id: str, name: str, content: bytes) -> None:
        """Raises ArchiveConflict (services/journal_ports.py) if the file exists with other content;
        any other error means the archive did not answer."""

    def download_link(self, store_id: str, statement_id: str, name: str) -> str:
        """A link that downloads the file as `name` for `link_validity`, with no credential of ours."""


class FinanceUnitOfWork(UnitOfWork, Protocol):
    """The unit of work as the finance use cases use it."""

    catalog: Catalog
    accounting: AccountingRecords
    provider_events: ProviderEvents
    journal: JournalReader
    journal_writer: JournalWriter
    signer: Signer
    registered_keys: set[bytes]  # ids of the signing keys this process knows listed
    books: Books
    payouts: Payouts
    statements: Statements
    statement_archive: StatementArchive
    store_tses: StoreTses  # the store's TSE record, for the certificate DSFinV-K's tse.csv holds
