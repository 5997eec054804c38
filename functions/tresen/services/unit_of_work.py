"""The unit of work, as the use cases see it: read through repositories, write one atomic plan.

A use case is a function of (command, unit of work). Inside `commit` it builds a `Plan` — its result,
its journal events and its `Writes` — for one attempt; the unit of work claims the attempt's
gap-free numbers (`Claims`), appends the journal entries and commits everything in one batch, and
builds again on fresh reads when another writer got there first. What else belongs to the same
commit (the idempotent answer of an HTTP request) is registered on the unit of work by the caller,
never threaded through the use case.

The storage adapter implements this (adapters/unit_of_work.py over adapters/store_writer.py): it
maps each named write to its document. Nothing here knows a collection or a document path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ..domain.api_keys import ApiKey
from ..domain.card_blocks import BlockActivation, ChunkDone
from ..domain.giftcards import CardChange, card_journal_event
from ..domain.journal import JournalEvent
from ..domain.orders import Order
from ..domain.payments import PaymentRecord
from ..domain.refunds import Refund
from .ports import PaymentProvider

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from ..domain.catalog import Store
    from ..domain.customers import Customer
    from ..domain.licence_billing import BillingProfile, InvoiceAccount
    from ..domain.mail import Mail
    from ..domain.memberships import EmailHolder, Invitation, Membership
    from ..domain.stripe_connect import StripeAccount
    from ..domain.terminals import Shift, Terminal, TerminalCheck, Workplace
    from ..domain.tours import Position, Tour
    from ..domain.tse import StoreTse
    from ..domain.webhooks import Endpoint as WebhookEndpoint

T = TypeVar("T")


class StoreBusy(RuntimeError):
    """Too many concurrent writers won the race for this store's numbers; safe to retry."""


class JournalRecoveryNeeded(RuntimeError):
    """The archive holds entries beyond the live journal's head: the database lost them (a restore
    from a backup, an emulator that crashed). Appending now would give those seqs other content,
    so the store takes no writes until `tresen recover` brings them back."""

    def __init__(self, store_id: str, head: int):
        super().__init__(f"store {store_id}: the archive holds seq {head + 1} beyond the journal's head {head}")
        self.store_id = store_id


class AlreadyWritten(RuntimeError):
    """A create-only record of the use case itself exists: this effect was applied before."""

    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


class RetryLater(RuntimeError):
    """Nothing failed, but what was asked cannot be done yet (a provider's refund of a payment
    whose success has not reached us): 503, so the provider delivers it again later."""


@dataclass(frozen=True)
class Counter:
    """A gap-free number sequence of a store, restarting per scope (a year for invoice numbers, a
    business day for pickup numbers)."""

    name: str
    scope: str


INVOICE_NUMBERS = "invoice_numbers"
PICKUP_NUMBERS = "pickup_numbers"


class Claims(Protocol):
    """Hands out the next number of each counter for one commit attempt."""

    def next(self, counter: Counter, ref: str) -> int: ...


@dataclass(frozen=True)
class Write:
    """One record written, named by what it is; the storage adapter maps it to its document.

    `kind`: `create` (create-only: if it exists, this very effect happened before), `sequenced`
    (create-only and numbered from a version read: if it exists someone appended first, and the
    decision is made again), `update` (only if still the version `read_at`; any version if None),
    `set` (whatever was there)."""

    kind: str
    record: str
    key: tuple[Any, ...]
    value: Any
    read_at: Any = None


class Writes:
    """What one use case writes, named by what it is: an order, a refund, a card and its ledger, a
    provider event seen."""

    def __init__(self, actor: Mapping[str, Any]):
        self.actor = dict(actor)  # recorded on every ledger activity
        self.ops: list[Write] = []
        self.events: list[JournalEvent] = []  # the card activities' journal entries

    def _add(self, kind: str, record: str, key: tuple[Any, ...], value: Any, read_at: Any = None) -> None:
        self.ops.append(Write(kind, record, key, value, read_at))

    def new_order(self, order: Order, access_token_hash: str) -> None:
        self._add("create", "new_order", (order.id,), (order, access_token_hash))

    def order(self, order: Order, read_at: Any) -> None:
        self._add("update", "order", (order.id,), order, read_at)

    def new_payment(self, payment: PaymentRecord) -> None:
        self._add("create", "payment", (payment.id,), payment)

    def payment_amount(self, payment_id: str, amount: int) -> None:
        self._add("update", "payment_amount", (payment_id,), amount)

    def new_refund(self, refund: Refund) -> None:
        self._add("create", "refund", (refund.id,), refund)

    def refund_status(self, refund_id: str, status: str, provider_refund_id: str, read_at: Any) -> None:
        self._add("update", "refund_status", (refund_id,), (status, provider_refund_id), read_at)

    def card(self, key: str, change: CardChange, read_at: Any | None, new: bool = False) -> None:
        """`new`: create the card (fails if the code exists); else update it if unchanged since
        `read_at`. Each ledger activity is its own numbered record and journal entry."""
        if new:
            self._add("create", "card", (key,), change.card)
        else:
            self._add("update", "card", (key,), change.card, read_at)
        for activity in change.activities:
            self._add("sequenced", "card_activity", (key, activity.n), (change.card, activity, self.actor))
            self.events.append(card_journal_event(change.card, activity))

    def event_seen(self, provider: str, event_id: str, record: Mapping[str, Any]) -> None:
        """Created once per provider event: a second delivery finds it and changes nothing."""
        self._add("create", "event_seen", (provider, event_id), dict(record))

    def payout(self, payout: Mapping[str, Any]) -> None:
        """Created once: a second event about the same payout finds it."""
        self._add("create", "payout", (payout["provider"], payout["payout_id"]), dict(payout))

    def payout_match(self, kind: str, object_id: str, match: Mapping[str, Any]) -> None:
        """Created once: an item another payout has matched already is that payout's."""
        self._add("create", "payout_match", (kind, object_id), dict(match))

    def passkey(self, store_id: str, state: Mapping[str, Any]) -> None:
        self._add("set", "passkey", (store_id,), dict(state))

    def passkey_attempts(self, store_id: str, failures: int, locked_until: datetime | None) -> None:
        """The wrong passkeys in a row and the lock they led to, on the passkey set (any version)."""
        self._add("update", "passkey_attempts", (store_id,), (failures, locked_until))

    def new_api_key(self, key_hash: str, key: ApiKey) -> None:
        self._add("create", "api_key", (key_hash,), key)

    def api_key_used(self, key_hash: str, used_at: datetime, read_at: Any) -> None:
        self._add("update", "api_key_used", (key_hash,), used_at, read_at)

    def api_key_revoked(self, key_hash: str, revoked_at: Any, read_at: Any) -> None:
        self._add("update", "api_key_revoked", (key_hash,), revoked_at, read_at)

    def stripe_account(self, account: StripeAccount, new: bool = False) -> None:
        """The store's connected account; a new one is also findable by its account id (create-only:
        a store gets one account, an account one store)."""
        if new:
            self._add("create", "stripe_account_route", (account.account_id,), account.store_id)
        self._add("create" if new else "set", "stripe_account", (account.store_id,), account)

    def new_customer(self, customer: Customer, keys: tuple[str, ...]) -> None:
        """The record and a create-only claim on each of its contacts: two records never share one."""
        self._add("create", "customer", (customer.store_id, customer.id), customer)
        for key in keys:
            self._add("create", "customer_contact", (customer.store_id, key), customer.id)

    def customer(self, customer: Customer, read_at: Any, claimed: tuple[str, ...], released: tuple[str, ...]) -> None:
        """The record as changed (guarded by the version read), with the contacts it takes and gives up."""
        self._add("update", "customer", (customer.store_id, customer.id), customer, read_at)
        for key in claimed:
            self._add("create", "customer_contact", (customer.store_id, key), customer.id)
        for key in released:
            self._add("delete", "customer_contact", (customer.store_id, key), None)

    def customer_erased(self, customer: Customer, keys: tuple[str, ...]) -> None:
        self._add("delete", "customer", (customer.store_id, customer.id), None)
        for key in keys:
            self._add("delete", "customer_contact", (customer.store_id, key), None)

    def import_progress(self, store_id: str, import_id: str, counts: Mapping[str, int], now: datetime) -> None:
        self._add("update", "customer_import", (store_id, import_id), dict(counts) | {"updated_at": now})

    def import_done(self, store_id: str, import_id: str, counts: Mapping[str, int], now: datetime) -> None:
        self._add(
            "update", "customer_import", (store_id, import_id), dict(counts) | {"status": "done", "updated_at": now}
        )

    def new_store(self, store: Any, billing: BillingProfile) -> None:
        """A store opened by the platform, with its billing profile (create-only: ids are not reused)."""
        self._add("create", "store", (store.id,), store)
        self._add("create", "billing_profile", (store.id,), billing)

    def store(self, store: Store, read_at: Any) -> None:
        """The store's document as changed since read at `read_at` (its name, address, tax numbers)."""
        self._add("update", "store", (store.id,), store, read_at)

    def billing_profile(self, billing: BillingProfile, read_at: Any) -> None:
        self._add("update", "billing_profile", (billing.store_id,), billing, read_at)

    def licence_invoice(self, account: InvoiceAccount, read_at: Any = None, pdf: bytes | None = None) -> None:
        """A new invoice with its document (`read_at` None: create-only, one per store and month), or
        its payment's progress since read at `read_at`."""
        if read_at is None:
            self._add("create", "licence_invoice", (account.id,), account)
            self._add("create", "licence_invoice_pdf", (account.id,), pdf)
        else:
            self._add("update", "licence_invoice", (account.id,), account, read_at)

    def invitation(self, invitation: Invitation, read_at: Any = None) -> None:
        """A new invitation (`read_at` None), or one answered or revoked since read at `read_at`."""
        if read_at is None:
            self._add("create", "invitation", (invitation.id,), invitation)
        else:
            self._add("update", "invitation", (invitation.id,), invitation, read_at)

    def email_holder(self, holder: EmailHolder, read_at: Any = None) -> None:
        """The store an address belongs to. Taken fresh (`read_at` None) it is numbered-like: another
        store taking it first makes the use case decide again on what it then finds."""
        if read_at is None:
            self._add("sequenced", "email_holder", (holder.email,), holder)
        else:
            self._add("update", "email_holder", (holder.email,), holder, read_at)

    def email_released(self, email: str) -> None:
        self._add("delete", "email_holder", (email,), None)

    def member(self, membership: Membership, roles: Mapping[str, str]) -> None:
        """A member's role in a store, and all of the person's roles (what a request is checked by)."""
        self._add("set", "member", (membership.store_id, membership.uid), membership)
        self._add("set", "user_roles", (membership.uid,), (membership.email, dict(roles)))

    def member_removed(self, store_id: str, uid: str, email: str, roles: Mapping[str, str]) -> None:
        """Kept as an empty set of roles, not deleted: a token's own `stores` claim (mirrored from
        Tresen's record) must not count for a person Tresen removed."""
        self._add("delete", "member", (store_id, uid), None)
        self._add("set", "user_roles", (uid,), (email, dict(roles)))

    def payment_alias(self, payment: PaymentRecord) -> None:
        """Our record of a payment under another id of the provider's (a Checkout Session's
        PaymentIntent): refunds and payouts name that one. Set, not created: each event about the
        payment may bring it."""
        self._add("set", "payment", (payment.id,), payment)

    def accounting(self, store_id: str, settings: Mapping[str, Any]) -> None:
        self._add("set", "accounting", (store_id,), dict(settings))

    def new_closing(self, closing: Any) -> None:
        self._add("create", "closing", (closing["store_id"], closing["z_number"]), closing)

    def new_statement(self, statement: Mapping[str, Any]) -> None:
        self._add("create", "statement", (statement["store_id"], statement["id"]), dict(statement))

    def new_activation(self, activation: BlockActivation) -> None:
        self._add("create", "activation", (activation.id,), activation)

    def activation_done(self, activation_id: str) -> None:
        self._add("update", "activation_done", (activation_id,), None)

    def chunk_done(self, activation_id: str, chunk: ChunkDone) -> None:
        self._add("create", "activation_chunk", (activation_id, chunk.index), chunk)

    def mail(self, mail: Mail) -> None:
        """Into the outbox, sent after the commit: an e-mail exists exactly when what it tells of does."""
        self._add("create", "mail", (mail.id,), mail)

    def webhook_endpoint(self, endpoint: WebhookEndpoint, read_at: Any = None) -> None:
        """A new endpoint (`read_at` None: create-only), or one changed since read at `read_at`."""
        self._add("create" if read_at is None else "update", "webhook_endpoint", (endpoint.id,), endpoint, read_at)

    def webhook_endpoint_deleted(self, endpoint_id: str) -> None:
        self._add("delete", "webhook_endpoint", (endpoint_id,), None)

    def webhook_endpoint_failing(self, endpoint_id: str, since: datetime | None, read_at: Any) -> None:
        """Since when its deliveries fail without a success (None: one succeeded): bookkeeping, not journaled."""
        self._add("update", "webhook_endpoint_failing", (endpoint_id,), since, read_at)

    def tour(self, tour: Tour, read_at: Any = None) -> None:
        """A new delivery tour (`read_at` None: create-only), or one changed since read at `read_at`."""
        self._add("create" if read_at is None else "update", "tour", (tour.id,), tour, read_at)

    def tour_positions(self, tour_id: str, positions: Sequence[Position], received_at: datetime) -> None:
        """The driver's positions, one record each, create-only by its seq: one sent again was
        recorded before. Each expires a day after it came (not journaled: see docs/architecture.md)."""
        for position in positions:
            self._add("create", "tour_position", (tour_id, position.seq), (position, received_at))

    def tour_latest(self, tour_id: str, latest: Position, read_at: Any) -> None:
        """The tour's latest position, moved only if the tour is still as read at `read_at`."""
        self._add("update", "tour_latest", (tour_id,), latest, read_at)

    def workplace(self, workplace: Workplace, read_at: Any = None) -> None:
        """A new workplace (`read_at` None: create-only), or one changed since read at `read_at`: what
        a terminal or shift change is guarded by, so none of them happens beside a shift's opening."""
        kind = "create" if read_at is None else "update"
        self._add(kind, "workplace", (workplace.store_id, workplace.id), workplace, read_at)

    def terminal(self, terminal: Terminal, read_at: Any = None) -> None:
        """A new terminal (`read_at` None: create-only), or one changed since read at `read_at`."""
        self._add("create" if read_at is None else "update", "terminal", (terminal.id,), terminal, read_at)

    def terminal_checked(self, terminal_id: str, check: TerminalCheck) -> None:
        """The last connection check, on the terminal as it is (bookkeeping, not journaled)."""
        self._add("update", "terminal_checked", (terminal_id,), check)

    def store_tse(self, tse: StoreTse, read_at: Any = None) -> None:
        """The store's TSS record: created once (`read_at` None), or changed since read at `read_at`."""
        self._add("create" if read_at is None else "update", "store_tse", (tse.store_id,), tse, read_at)

    def shift(self, shift: Shift, read_at: Any = None) -> None:
        """A new shift (`read_at` None: create-only), or one closed since read at `read_at`."""
        self._add("create" if read_at is None else "update", "shift", (shift.store_id, shift.id), shift, read_at)


@dataclass
class Plan(Generic[T]):
    """What one use case commits atomically: its writes, its journal events and its result."""

    result: T
    at: datetime
    actor: Mapping[str, Any]
    events: list[JournalEvent]
    writes: Writes | None = None

    def __post_init__(self) -> None:
        if self.writes is None:
            self.writes = Writes(self.actor)


@dataclass(frozen=True)
class Committed(Generic[T]):
    result: T
    entries: list[dict[str, Any]] = field(default_factory=list)


Build = Callable[[Claims], Plan[T]]


@dataclass(frozen=True)
class StoredResponse:
    """An HTTP answer kept with the commit of its request, so a replay returns exactly its bytes."""

    status: int
    body: bytes
    content_type: str


class UnitOfWork(Protocol):
    """What every use case runs against. Repositories are its attributes (see their protocols);
    the storage adapter provides them over one database."""

    def now(self) -> datetime: ...

    def new_id(self, prefix: str) -> str:
        """A random, unguessable id with this prefix (`ord_`, `re_` …)."""

    def new_secret_token(self) -> str:
        """A secret handed to whoever is to prove later that they hold it (an order's access token)."""

    def provider(self, name: str, store_id: str | None) -> PaymentProvider:
        """The payment provider of this name, acting for the store (Stripe: on its connected
        account), or for the platform itself (None); `validation_failed` if it is not enabled here,
        `provider_not_ready` if the store has no account with it."""

    def presenting(self, transform: Callable[[Any], Any]) -> None:
        """A request's stored answer is of `transform(result)`, not of the plan's own result."""

    def run_later(self, name: str, task: Callable[[Any], Any]) -> None:
        """Go on with `task(unit of work)` after the request is answered, on a unit of work of its own."""

    def commit(self, store_id: str, build: Build[T]) -> Committed[T]:
        """Build and commit atomically with the journal, building again on fresh reads after a
        conflict. Raises AlreadyWritten, StoreBusy, JournalRecoveryNeeded."""

    def commit_writes(self, writes: Writes) -> None:
        """Writes that carry no journal entry (a provider event only acknowledged), in one batch."""
