"""What the workplace, terminal, shift and card-present use cases need, as protocols.

A `CardReader` is a terminal provider acting for one store (Stripe Terminal on the store's
connected account, or the sandbox's simulated readers); `Workplaces`, `Terminals` and `Shifts` are
Tresen's own records of them (adapters/terminal_store.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from .journal_ports import JournalReader
from .order_ports import OrderUnitOfWork

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from ..domain.catalog import Store
    from ..domain.terminals import ProviderCharge, Shift, Terminal, TerminalRegistration, Workplace

Version = Any  # opaque: what a guarded write names as "the version I read"


class TerminalRefused(Exception):
    """The provider refused what was asked of the reader (busy, offline, unknown, the card
    declined before it was presented): `code` a stable snake_case reason, the message its words."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class RegisteredReader:
    reader_id: str  # the provider's id of the reader
    location: str | None  # the provider's location it was registered to (Stripe), kept on the workplace


@dataclass(frozen=True)
class ReaderCheck:
    status: str  # online | offline
    detail: str  # what an operator reads: the device, when it was last seen


@dataclass(frozen=True)
class CardPresentRequest:
    """What the customer is to pay at the reader for one order."""

    order_id: str
    store_id: str
    terminal_id: str  # Tresen's terminal
    amount: int  # cents
    currency: str


@dataclass(frozen=True)
class CardPresentState:
    """What the provider says of a card-present payment now.

    `status`: `processing` (at the reader, or not yet sent), `succeeded`, `failed` (declined: it may
    be presented again), `canceled`. `amount` is what it collected once succeeded; `brand` the card's."""

    payment_id: str
    status: str
    amount: int | None = None
    currency: str | None = None
    brand: str | None = None
    error: str | None = None


class CardReader(Protocol):
    """A terminal provider acting for one store. Every call that starts or moves a payment is
    idempotent by Tresen's own ids (the order's), so a retry after a lost answer never charges twice."""

    provider: str  # stripe_terminal | sandbox
    payment_provider: str  # the payment provider its payments are refunded and reported through

    def register(
        self, store: Store, workplace: Workplace, terminal_id: str, registration: TerminalRegistration
    ) -> RegisteredReader:
        """The reader registered with the provider (Stripe: paired by its code, at the workplace's
        location, made once per workplace)."""

    def unregister(self, reader_id: str) -> None:
        """The reader no longer registered (Stripe deletes it); one gone already is fine."""

    def check(self, reader_id: str) -> ReaderCheck:
        """The reader's connection as the provider sees it now; raises ConnectionError if the
        provider cannot be asked."""

    def create_payment(self, request: CardPresentRequest) -> str:
        """The provider's payment for the order (Stripe: a PaymentIntent for `card_present`), not yet
        at the reader; its id. Idempotent by the order's id."""

    def present(self, reader_id: str, payment_id: str) -> None:
        """Send the payment to the reader, which asks the customer for the card. Raises
        TerminalRefused (busy, offline) or ConnectionError."""

    def cancel(self, reader_id: str, payment_id: str) -> CardPresentState:
        """Cancel the reader's action and the payment; the state after it (`succeeded` where the
        customer paid before the cancel arrived)."""

    def state(self, payment_id: str) -> CardPresentState:
        """What the provider says of the payment now: how a lost answer is recovered."""

    def in_progress(self, reader_id: str) -> str | None:
        """The payment the reader is asking a customer to pay now, or None."""

    def charges(self, reader_id: str, since: datetime, until: datetime) -> list[ProviderCharge]:
        """The card payments the reader took between `since` and `until`, as the provider holds them
        (Stripe: its successful charges made on that reader; the sandbox: the simulator's batch)."""


class Workplaces(Protocol):
    def read(self, store_id: str, workplace_id: str) -> tuple[Workplace, Version] | None: ...

    def of_store(self, store_id: str) -> list[Workplace]:
        """The store's workplaces, by name."""


class Terminals(Protocol):
    def read(self, terminal_id: str) -> tuple[Terminal, Version] | None:
        """The terminal, whichever store it is of, removed or not."""

    def at_workplace(self, store_id: str, workplace_id: str) -> list[Terminal]:
        """The workplace's terminals now (not removed), oldest first."""

    def of_store(self, store_id: str) -> list[Terminal]:
        """Every terminal the store ever registered, removed ones too, oldest first."""


class Shifts(Protocol):
    def read(self, store_id: str, shift_id: str) -> tuple[Shift, Version] | None: ...

    def of_workplace(self, store_id: str, workplace_id: str, limit: int) -> list[Shift]:
        """The workplace's shifts, newest first."""


class TerminalSimulator(Protocol):
    """The sandbox's simulated readers (dev mode): what a customer does at one."""

    def present_card(
        self, terminal_id: str, brand: str, approve: bool, amount: int | None, report: bool
    ) -> dict[str, Any]:
        """A card tapped on the reader: the payment it was asked for approved or declined, its outcome
        reported to our webhook unless `report` is False (the answer lost on its way). With no
        payment asked for, `amount` is a sale typed on the terminal by itself, which Tresen never
        hears of. Raises TerminalRefused (`no_payment_pending`)."""

    def set_connection(self, terminal_id: str, online: bool) -> None: ...


class TerminalUnitOfWork(OrderUnitOfWork, Protocol):
    workplaces: Workplaces
    terminals: Terminals
    shifts: Shifts
    terminal_simulator: TerminalSimulator
    journal: JournalReader

    def card_reader(self, provider: str, store_id: str) -> CardReader:
        """The terminal provider of this name acting for the store; `provider_not_ready` if the store
        cannot use it (Stripe: no connected account yet), `validation_failed` if it is not enabled."""
