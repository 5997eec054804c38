"""What the order, payment and refund use cases read, as protocols: the stores' settings and menus,
orders, our records of the providers' payments, refunds, the provider events seen, the passkeys.

The storage adapters implement them over the documents (adapters/order_repository.py,
adapters/passkeys.py); each is an attribute of the unit of work (`uow.orders`, `uow.refunds` …).
Nothing here knows a collection or a document path. Every read that a use case decides on returns
the version it read where the use case writes back guarded by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..domain.catalog import Product, Store
from ..domain.errors import DomainError
from ..domain.orders import Order
from ..domain.passkeys import PasskeyState
from ..domain.payments import PaymentRecord
from ..domain.refunds import Refund
from .card_ports import CardRepository
from .customer_ports import CustomerImports, Customers
from .ports import PaymentProvider, StripeConnect
from .promotion_ports import Promotions
from .stock_ports import Products, StockCounts
from .unit_of_work import UnitOfWork

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from ..domain.stripe_connect import StripeAccount

Version = Any  # opaque: what a guarded write names as "the version I read"


class Catalog(Protocol):
    """Stores and their menus (cached for a few seconds: a menu change reaches every instance soon)."""

    def get(self, store_id: str) -> tuple[Store | None, dict[str, Product]]: ...

    def refresh(self, store_id: str) -> None:
        """Reads the store again now (one just opened is served at once)."""


class Stores(Protocol):
    def pii_key(self, store_id: str) -> bytes:
        """The store's key for pseudonymising personal data in the journal (made when it was saved)."""

    def save(self, store: Store, products: tuple[Product, ...]) -> None:
        """Writes the store and its menu; its key for personal data is made once and never replaced."""

    def ensure_pii_key(self, store_id: str) -> None:
        """Makes the store's key for personal data unless it has one."""

    def exists(self, store_id: str) -> bool:
        """Whether the store exists, read now (not from a cache)."""

    def read(self, store_id: str) -> tuple[Store, Version] | None:
        """The store read now (not from a cache), with the version read."""


@dataclass(frozen=True)
class OrderCursor:
    """Where a page of orders, newest first, ended: the last order's creation time and id."""

    created_at: datetime
    order_id: str


class Orders(Protocol):
    def read_in_store(self, store_id: str, order_id: str) -> tuple[Order, Version]:
        """The order and the version read; `order_not_found` unless the store has it."""

    def read_with_token_hash(self, order_id: str) -> tuple[Order, str] | None:
        """The order and the SHA-256 (hex) of its customer's access token, or None."""

    def newest_first(
        self, store_id: str, *, status: str | None, since: datetime | None, after: OrderCursor | None, limit: int
    ) -> list[Order]: ...

    def unsigned_sales(self, limit: int) -> list[Order]:
        """Sales taken on site whose TSE transaction is not signed yet: pending or failed."""

    def unpaid_past(self, moment: datetime, limit: int) -> list[Order]:
        """Orders still awaiting payment whose window closed by `moment`."""

    def of_contacts(
        self, store_id: str, keys: tuple[str, ...], after: OrderCursor | None, limit: int
    ) -> list[tuple[Order, Version]]:
        """The store's orders whose customer has one of these contact keys, newest first."""


class Payments(Protocol):
    def read(self, payment_id: str) -> PaymentRecord | None: ...

    def read_unless_seen(self, payment_id: str, provider: str, event_id: str) -> tuple[PaymentRecord | None, bool]:
        """Our record of the payment, and whether the provider's event is recorded already (applied,
        acknowledged or parked): both in one read, so a repeated delivery costs no more."""


class Refunds(Protocol):
    def read(self, refund_id: str) -> tuple[Refund, Version] | None: ...

    def of_orders(self, order_ids: list[str]) -> list[Refund]: ...

    def by_provider_id(self, provider: str, provider_refund_id: str) -> Refund | None: ...


@dataclass(frozen=True)
class ParkedEvent:
    """A provider event kept for an operator: correctly signed, but never processable."""

    provider: str
    event_id: str
    type: str | None
    reason: str
    received_at: datetime
    size: int  # of the body, in bytes


class ProviderEvents(Protocol):
    def seen(self, provider: str, event_id: str) -> bool:
        """Recorded already: applied, acknowledged or parked."""

    def parked(self, limit: int) -> list[ParkedEvent]:
        """Newest first."""


@dataclass(frozen=True)
class StoredPasskey:
    state: PasskeyState
    hash: str  # of the PIN; never leaves the passkey use cases


class Passkeys(Protocol):
    def read(self, store_id: str) -> StoredPasskey | None: ...

    def hashed(self, pin: str) -> str:
        """A slow, salted hash of the PIN (what is stored)."""

    def matches(self, stored_hash: str, offered: str) -> bool: ...


class SandboxCheckout(Protocol):
    """The sandbox's stand-in for a customer at a provider's checkout: it reports the payment's
    outcome to our own webhook, signed and later, as a provider would."""

    def report(self, payment: PaymentRecord, error: str | None) -> None:
        """`payment.succeeded` without an error, else `payment.failed` with it."""


class StripeAccounts(Protocol):
    """The stores' Stripe connected accounts."""

    def of_store(self, store_id: str, fresh: bool = False) -> StripeAccount | None:
        """The store's account (as read in the last few seconds, unless `fresh`), or None."""

    def by_account(self, account_id: str) -> StripeAccount | None:
        """The account of a store, found by Stripe's account id; None if no store has it."""


def catalog_or_404(uow: OrderUnitOfWork, store_id: str) -> tuple[Store, dict[str, Product]]:
    """The store and its menu, or `store_not_found`: what every use case on a store reads first."""
    store, products = uow.catalog.get(store_id)
    if store is None:
        raise DomainError("store_not_found", f"There is no store {store_id!r}.")
    return store, products


class OrderUnitOfWork(UnitOfWork, Protocol):
    """The unit of work as the order use cases use it."""

    catalog: Catalog
    cards: CardRepository
    stores: Stores
    orders: Orders
    payments: Payments
    refunds: Refunds
    provider_events: ProviderEvents
    passkeys: Passkeys
    sandbox_checkout: SandboxCheckout
    stripe_accounts: StripeAccounts
    stripe_connect: StripeConnect
    customers: Customers
    customer_imports: CustomerImports
    products: Products  # as stored now, for the catalog's changes (services/catalog.py)
    stock: StockCounts  # the tracked products' stock (services/stock.py)
    promotions: Promotions  # the store's promotions (services/promotions.py)

    def webhook_source(self, name: str) -> PaymentProvider | None:
        """The provider whose signed webhooks are taken at `/v1/webhooks/{name}`, or None."""

    def offered_providers(self, store: Store) -> tuple[str, ...]:
        """The store's online providers that can take a payment now (Stripe: once its connected
        account may take charges)."""
