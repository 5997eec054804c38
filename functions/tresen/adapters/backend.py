"""The process-wide set of adapters the use cases run against (created lazily, once)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from ..config import settings
from ..domain.catalog import Store
from ..domain.errors import DomainError, FieldError
from ..domain.payments import STRIPE
from ..domain.terminals import SANDBOX, STRIPE_TERMINAL
from ..services.documents import Documents
from ..services.mail_ports import MailSender
from ..services.ports import PaymentProvider, Signer, StripeConnect
from ..services.terminal_ports import CardReader
from ..services.unit_of_work import Build, Claims, Committed, Plan, Writes
from . import clock, payments
from .accounting_store import DocumentAccounting
from .api_key_store import DocumentApiKeys
from .archive import ArchiveQueue, BucketArchive, MemoryArchive
from .billing_store import DocumentBillingProfiles, DocumentLicenceInvoices
from .closing_store import DocumentClosings
from .customer_imports import DocumentCustomerImports
from .customer_store import DocumentCustomers
from .dev_mail import DocumentDevMailbox
from .finance_store import ArchivedStatementFiles, DocumentBooks, DocumentPayouts, DocumentStatements
from .firestore_documents import FirestoreDocuments
from .giftcard_store import DocumentActivations, DocumentCards
from .idempotency import IdempotencyRecords
from .job_run_store import DocumentJobRuns
from .journal_store import JournalRecords
from .journal_writer import JournalWriter
from .lazy import Deferred, once
from .live_feed import FirestoreLiveFeed, MemoryLiveFeed
from .mail_outbox import Courier, DocumentMailOutbox
from .membership_store import DocumentEmailHolders, DocumentInvitations, DocumentMembers
from .memory_documents import MemoryDocuments
from .order_repository import (
    DocumentOrders,
    DocumentPayments,
    DocumentProviderEvents,
    DocumentRefunds,
    DocumentStores,
)
from .passkeys import DocumentPasskeys
from .promotion_store import DocumentPromotions
from .purchase_order_store import DocumentPurchaseOrders, DocumentSuppliers
from .rate_limits import DocumentRateLimits
from .records import add_to, placed
from .repository import CatalogCache
from .sandbox_sender import SandboxSender
from .signers import LocalSigner, default_key_dir, key_name, local_signer, new_key
from .smtp_sender import MemoryMailSender, configured_sender
from .stock_store import DocumentProducts, DocumentStock
from .store_writer import BeforeCommit, StoreWriter
from .stripe_accounts import DocumentStripeAccounts
from .terminal_simulator import SandboxReaders
from .terminal_store import DocumentShifts, DocumentTerminals, DocumentWorkplaces
from .tour_store import DocumentTours
from .tse_store import DocumentTse
from .webhook_courier import WebhookCourier

log = logging.getLogger(__name__)
HEALTH_TIMEOUT = 2.0
T = TypeVar("T")


@dataclass
class Backend:
    """The adapters the use cases run against: Firestore and the archive bucket (`Backend(db)`), or
    memory (`Backend.in_memory()`), where the use-case tests run in milliseconds."""

    db: object  # the Firestore client; None in memory
    docs: Documents | None = None
    archive_store: BucketArchive | MemoryArchive | None = None
    signer: Signer | None = None
    mail_sender: MailSender | None = None
    mail_after_commit: bool = True  # a commit that enqueued mail has it sent at once, on the courier's thread
    webhook_sender: Any = None  # services/webhook_ports.py WebhookSender
    webhooks_after_commit: bool = True  # a commit that journaled events sends them at once, on a thread
    background: bool = True  # `run_later` on a thread of its own; in memory at once (the tests see it done)
    # services/tse_ports.py TsePort: fiskaly with a database unless TRESEN_TSE=off; in memory none
    # unless a test gives one (adapters/memory_tse.py); None: sales on site are not signed
    tse: Any = None
    writer: StoreWriter = field(init=False)
    idempotency: IdempotencyRecords = field(init=False)
    archive: ArchiveQueue = field(init=False)
    catalog: CatalogCache = field(init=False)
    registered_keys: set[bytes] = field(init=False, default_factory=set)  # signing keys known listed
    latest_checkpoints: dict = field(init=False, default_factory=dict)  # store id → the latest it signed

    def __post_init__(self) -> None:
        if self.docs is None:
            self.docs = FirestoreDocuments(self.db)
        self.archive = ArchiveQueue(self.docs, self.archive_store)
        self.writer = StoreWriter(self.docs, on_committed=self.archive.submit, archived=self.archive.store.holds)
        self.archive.on_conflict = self.writer.forget_journal_head
        self.idempotency = IdempotencyRecords(self.docs)
        self.catalog = CatalogCache(self.docs)
        if self.signer is None:
            self.signer = configured_signer()
        # The repositories the use cases read through (stateless over the one database).
        # orders slice: repositories
        self.stores = DocumentStores(self.docs)
        self.orders = DocumentOrders(self.docs)
        self.payments = DocumentPayments(self.docs)
        self.refunds = DocumentRefunds(self.docs)
        self.provider_events = DocumentProviderEvents(self.docs)
        self.passkeys = DocumentPasskeys(self.docs)
        self.sandbox_checkout = SandboxSender()
        self.stripe_accounts = DocumentStripeAccounts(self.docs)
        self.customers = DocumentCustomers(self.docs)
        self.customer_imports = DocumentCustomerImports(self.docs)
        # catalog and stock slice: products as stored now (hidden ones too), each product's stock
        self.products = DocumentProducts(self.docs)
        self.stock = DocumentStock(self.docs)
        self.stripe_connect: StripeConnect = stripe_platform()
        # tours slice: delivery tours and their drivers' positions
        self.tours = DocumentTours(self.docs)
        # terminals slice: workplaces, card terminals, shifts; the sandbox's simulated readers
        self.workplaces = DocumentWorkplaces(self.docs)
        self.terminals = DocumentTerminals(self.docs)
        self.shifts = DocumentShifts(self.docs)
        self.terminal_simulator = SandboxReaders(self.docs)
        # promotions slice: the store's promotions, their codes (their uses are counters)
        self.promotions = DocumentPromotions(self.docs)
        # purchasing slice: the store's suppliers and the purchase orders sent them
        self.suppliers = DocumentSuppliers(self.docs)
        self.purchase_orders = DocumentPurchaseOrders(self.docs)
        # TSE slice: the store's TSS record, and the TSE itself (fiskaly, or memory in the tests)
        self.store_tses = DocumentTse(self.docs)
        if self.tse is None and self.db is not None and settings().tse_enabled:
            self.tse = Deferred(fiskaly_tse)
        # portal slice: repositories
        self.invitations = DocumentInvitations(self.docs)
        self.email_holders = DocumentEmailHolders(self.docs)
        self.members = DocumentMembers(self.docs)
        self.billing_profiles = DocumentBillingProfiles(self.docs)
        self.licence_invoices = DocumentLicenceInvoices(self.docs)
        self.identity = Deferred(identity_directory)
        self.stripe_billing = Deferred(stripe_billing)
        self.paypal = Deferred(paypal_billing)
        # cards slice: repositories
        self.cards = DocumentCards(self.docs)
        self.card_activations = DocumentActivations(self.docs)
        self.rate_limits = DocumentRateLimits(self.docs)
        self.api_keys = DocumentApiKeys(self.docs)
        self.accounting = DocumentAccounting(self.docs)
        # journal slice: repositories
        self.journal = JournalRecords(self.docs)
        self.journal_writer = JournalWriter(self.docs)
        self.archived = self.archive.store  # the archive's copy of the journal, read back
        self.closings = DocumentClosings(self.docs)
        self.job_runs = DocumentJobRuns(self.docs)  # the jobs over every store: how far each run got
        # finance slice: repositories
        self.books = DocumentBooks(self.docs)
        self.payouts = DocumentPayouts(self.docs)
        self.statements = DocumentStatements(self.docs)
        self.statement_archive = ArchivedStatementFiles(self.archive.store)
        # mail slice: the outbox, the mail server, and dev mode's SMTP sink
        self.mail_outbox = DocumentMailOutbox(self.docs)
        if self.mail_sender is None:
            self.mail_sender = configured_sender()
        self.mail_courier = Courier(self.deliver_mail)
        self.dev_mail = DocumentDevMailbox(self.docs)
        # live slice: one listener per stream, on the database itself (memory: the tests say what changed)
        self.live = FirestoreLiveFeed(self.db) if self.db is not None else MemoryLiveFeed(self.docs)
        # webhooks slice: the endpoints, their deliveries, each store's cursor, and the HTTP client
        from .webhook_store import (  # their types load with the first request, not with `import main`
            DocumentCardsById,
            DocumentWebhookCursors,
            DocumentWebhookDeliveries,
            DocumentWebhookEndpoints,
        )

        self.webhook_endpoints = DocumentWebhookEndpoints(self.docs)
        self.webhook_deliveries = DocumentWebhookDeliveries(self.docs)
        self.webhook_cursors = DocumentWebhookCursors(self.docs)
        self.cards_by_id = DocumentCardsById(self.docs)
        if self.webhook_sender is None:
            self.webhook_sender = webhook_sender()
        self.webhook_courier = WebhookCourier(
            self.fan_out_webhooks, self.send_webhooks, self.webhook_endpoints.any_enabled
        )

    @classmethod
    def in_memory(cls) -> Backend:
        signer = LocalSigner(new_key(key_name("test")))
        # the tests send the outbox's mail themselves (services/mail.py), to see each step
        return cls(
            None,
            MemoryDocuments(),
            MemoryArchive(),
            signer,
            MemoryMailSender(),
            mail_after_commit=False,
            webhooks_after_commit=False,  # the tests dispatch themselves (services/webhook_dispatch.py)
            background=False,
        )

    @staticmethod
    def now() -> datetime:
        return clock.now()

    @staticmethod
    def new_id(prefix: str) -> str:
        return clock.new_id(prefix)

    @staticmethod
    def new_secret_token() -> str:
        return clock.new_secret_token()

    def provider(self, name: str, store_id: str | None) -> PaymentProvider:
        if name != STRIPE or store_id is None:  # None: the platform's own (its payouts)
            return payments.provider(name)
        return payments.provider(name, self.stripe_accounts.of_store(store_id), for_store=True)

    def card_reader(self, provider: str, store_id: str) -> CardReader:
        if provider == SANDBOX and settings().sandbox_enabled:
            return self.terminal_simulator
        if provider == STRIPE_TERMINAL:
            stripe = self.provider(STRIPE, store_id)  # refuses as a Stripe payment of the store would
            from .stripe_terminal import StripeTerminal  # Stripe Terminal's types: where a terminal is used

            return StripeTerminal(stripe.account, stripe.platform_fee)
        raise DomainError(
            "validation_failed",
            "This terminal provider is not available.",
            [FieldError("provider", f"{provider} is not enabled")],
        )

    def offered_providers(self, store: Store) -> tuple[str, ...]:
        account = self.stripe_accounts.of_store(store.id) if STRIPE in store.online_providers else None
        return tuple(name for name in store.online_providers if payments.offers(name, account))

    @staticmethod
    def webhook_source(name: str) -> PaymentProvider | None:
        return payments.webhook_source(name)

    def commit(self, store_id: str, build: Build[T], before_commit: list[BeforeCommit] | None = None) -> Committed[T]:
        planned: list[Plan[T]] = []  # the last is the one committed

        def build_and_keep(claims: Claims) -> Plan[T]:
            planned.append(build(claims))
            return planned[-1]

        committed = self.writer.commit(store_id, build_and_keep, before_commit)
        self._send_mail_of(planned[-1].writes)
        if self.webhooks_after_commit and committed.entries:
            self.webhook_courier.committed(store_id, committed.entries)
        return committed

    def commit_writes(self, writes: Writes) -> None:
        batch = self.docs.batch()
        for write in writes.ops:
            add_to(batch, placed(write))
        batch.commit()
        self._send_mail_of(writes)

    def _send_mail_of(self, writes: Writes | None) -> None:
        if self.mail_after_commit and writes and any(write.record == "mail" for write in writes.ops):
            self.mail_courier.kick()

    def deliver_mail(self) -> None:
        """Every mail due now: what the courier runs after a commit."""
        from ..services.mail import deliver_all_due_mail  # the mail types only where mail is sent

        deliver_all_due_mail(self)

    def fan_out_webhooks(self, store_id: str) -> Any:
        """Deliveries of the store's new events, held by this process: what runs after a commit."""
        from ..services.webhook_dispatch import fan_out

        return fan_out(self, store_id)

    def send_webhooks(self, store_id: str, held: Any) -> Any:
        """Those deliveries sent, then the store's retries due."""
        from ..services.webhook_dispatch import send_held

        return send_held(self, store_id, held)

    def run_later(self, name: str, task: Callable[[Any], Any]) -> None:
        """Work that goes on after the request is answered (an import's rows), on a thread of its own,
        with a unit of work of its own (a request's keeps that request's answer)."""

        def run() -> None:
            try:
                task(self)
            except Exception:  # the work's own state says where it stopped; the log says why
                log.exception("background work %s failed", name)

        if not self.background:
            run()
            return
        threading.Thread(target=run, name=name, daemon=True).start()

    def presenting(self, transform: Callable[[Any], Any]) -> None:
        """Outside a request (a job, the command line) no answer is stored with a commit."""

    def ping(self) -> None:
        """Raises unless Firestore answers one read within two seconds (one try: a load balancer
        or an operator wants the answer now)."""
        if self.db is not None:
            self.db.document("health/probe").get(retry=None, timeout=HEALTH_TIMEOUT)


def fiskaly_tse():
    from .fiskaly import tse  # the TSE's client: loaded with the first sale on site

    return tse()


def identity_directory():
    from .identity_directory import FirebaseIdentityDirectory

    return FirebaseIdentityDirectory()


def stripe_billing():
    from .stripe_billing import StripeBilling

    return StripeBilling()


def paypal_billing():
    from .paypal_billing import paypal_billing

    return paypal_billing()


def webhook_sender():
    from .webhook_sender import configured_sender  # urllib3 only where webhooks are sent

    return configured_sender()


def stripe_platform() -> StripeConnect:
    from .stripe_provider import StripePlatform

    return StripePlatform()


def configured_signer() -> Signer:
    config = settings()
    if config.signing_key:
        from .kms_signer import KmsSigner

        return KmsSigner.for_key_version(config.signing_key, key_name(config.project))
    # Without a data directory the dev key lives in the user's cache, so that `tresen dev` and a
    # `tresen checkpoint` run beside it sign with the same key.
    return local_signer(config.data_dir or default_key_dir(), key_name(config.project))


@once
def backend() -> Backend:
    from .firestore_client import db

    if settings().count_reads:  # a measurement of what a page costs (adapters/read_meter.py)
        from .read_meter import CountedDocuments

        return Backend(db(), CountedDocuments(FirestoreDocuments(db())))
    return Backend(db())
