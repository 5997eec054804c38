"""What the use cases need from the outside world, as protocols: adapters implement them.

A payment provider is a protocol with shared types (`PaymentRef`, `ReportedRefund` in the domain),
not a module the others import: the sandbox and Stripe each implement it on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..domain.orders import PaymentRef
from ..domain.payments import ProviderEvent
from ..domain.refunds import ReportedRefund
from ..domain.signed_note import Verifier


@runtime_checkable
class PaymentProvider(Protocol):
    name: str

    def create_payment(self, *, order_id: str, store_id: str, amount: int, currency: str) -> PaymentRef:
        """A payment the customer completes with the provider; idempotent by `order_id`."""

    def update_amount(self, *, payment_id: str, amount: int) -> None:
        """The payment now expects `amount` (a void or discount changed what is due)."""

    def refund(self, *, payment_id: str, amount: int, refund_id: str) -> ReportedRefund:
        """Pay `amount` back; idempotent by our `refund_id`."""

    def refunds_of(self, payment_id: str) -> list[ReportedRefund]:
        """Every refund of the payment, as the provider knows them (refunds made in its dashboard too)."""

    def read_webhook(self, headers: Mapping[str, str], raw: bytes) -> ProviderEvent:
        """The event of a body the provider signed; raises InvalidSignature. Never raises for what
        the body says: whatever cannot be understood is an `UnprocessableEvent`."""


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

    def role_in(self, store_id: str) -> str | None:
        return self.stores.get(store_id)
