"""What the use cases need from the outside world, as protocols: adapters implement them.

A payment provider is a protocol with shared types (`PaymentRef`, `ReportedRefund` in the domain),
not a module the others import: the sandbox and Stripe each implement it on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..domain.orders import PaymentRef
from ..domain.payments import ProviderEvent
from ..domain.refunds import ReportedRefund
from ..domain.signed_note import Verifier

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from ..domain.stripe_connect import AccountStatus


@dataclass(frozen=True)
class PaymentLine:
    name: str
    unit_amount: int  # cents
    quantity: int


@dataclass(frozen=True)
class PaymentRequest:
    """What the customer is to pay for one order."""

    order_id: str
    store_id: str
    amount: int  # cents
    currency: str
    lines: tuple[PaymentLine, ...]  # what is paid for, adding up to `amount`
    expires_at: datetime | None  # the order's payment window closes


@runtime_checkable
class PaymentProvider(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> PaymentRef:
        """A payment the customer completes with the provider; idempotent by the order's id."""

    def update_amount(self, *, payment_id: str, amount: int) -> None:
        """The payment now expects `amount` (a void or discount changed what is due)."""

    def refund(self, *, payment_id: str, amount: int, refund_id: str) -> ReportedRefund:
        """Pay `amount` back; idempotent by our `refund_id`."""

    def refunds_of(self, payment_id: str) -> list[ReportedRefund]:
        """Every refund of the payment, as the provider knows them (refunds made in its dashboard too)."""

    def order_of(self, payment_id: str) -> tuple[str, str] | None:
        """(store id, order id) that the provider's record of a payment names as ours, or None."""

    def read_webhook(self, headers: Mapping[str, str], raw: bytes) -> ProviderEvent:
        """The event of a body the provider signed; raises InvalidSignature. Never raises for what
        the body says: whatever cannot be understood is an `UnprocessableEvent`."""


@dataclass(frozen=True)
class OnboardingLink:
    url: str
    expires_at: datetime


class StripeConnect(Protocol):
    """The platform's own calls about connected accounts (Stripe Connect): they name the account,
    they are not made on its behalf."""

    def create_account(self, store_id: str) -> str:
        """A new connected account for the store (idempotent by the store id); its id."""

    def onboarding_link(self, account_id: str, return_url: str, refresh_url: str) -> OnboardingLink:
        """A single-use, short-lived link where the owner tells Stripe what it needs to know."""

    def account_status(self, account_id: str) -> AccountStatus:
        """What Stripe says about the account now."""


@runtime_checkable
class Signer(Protocol):
    """Signs the journal's checkpoints with an Ed25519 key: a local key in dev, one in Cloud KMS in
    production that never leaves it. `verifier` names the key and holds its public half, which
    is all an outsider needs (`GET /v1/journal/public-keys`)."""

    @property
    def verifier(self) -> Verifier:
        """The key's name and public key; its key id is `verifier.key_id`."""

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `message` (PureEdDSA: the message itself, not a digest)."""


class InvalidToken(Exception):
    """A staff token that is malformed, unsigned where a signature is needed, or expired."""


@dataclass(frozen=True)
class StaffIdentity:
    """Who a verified staff token names, and their role in each store."""

    uid: str
    stores: dict[str, str]  # store id → role
    platform_admin: bool = False  # claim `platform: "admin"`: the platform's own administrators
    email: str | None = None  # claim `email`: the account's address, as Firebase Auth keeps it
    email_verified: bool = False  # claim `email_verified`: its owner proved they receive its mail

    def role_in(self, store_id: str) -> str | None:
        return self.stores.get(store_id)
