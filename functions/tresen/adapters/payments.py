"""Payment providers. The sandbox stands in for a real provider in dev and demo."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints

from ..config import settings
from ..domain.errors import DomainError, FieldError
from ..domain.orders import PaymentRef
from ..domain.payments import OtherEvent, PaymentEvent, PayoutEvent, ProviderEvent, RefundEvent
from ..domain.refunds import ReportedRefund
from ..domain.signatures import verify
from ..domain.terminals import CARD_BRANDS
from ..services.ports import PaymentProvider, PaymentRequest
from .clock import new_id
from .webhook_bodies import Body, Cents, EventType, Id, PayoutCents, ProviderId, read_event, validated

if TYPE_CHECKING:  # annotations only: Connect's types are not loaded by every cold start
    from ..domain.stripe_connect import StripeAccount

SANDBOX_REFUND = "sbx_"  # the sandbox's refund id is ours with this prefix
SANDBOX_PAYMENT_EVENTS = ("payment.succeeded", "payment.failed", "payment.canceled")
SANDBOX_REFUND_EVENTS = ("refund.succeeded", "refund.failed")
UpperCurrency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class SandboxEventIn(Body):
    id: ProviderId
    type: EventType
    created: Annotated[int, Field(strict=True, ge=0)]
    data: dict


class SandboxPaymentData(Body):
    payment_id: ProviderId
    amount: Cents
    currency: UpperCurrency
    error: Annotated[str, StringConstraints(max_length=500)] | None = None
    terminal_id: Id | None = None  # a simulated card reader's payment
    brand: Literal[CARD_BRANDS] | None = None  # the card presented there


class SandboxRefundData(Body):
    refund_id: ProviderId
    payment_id: ProviderId
    amount: Cents


class PayoutItem(Body):
    payment_id: Id
    refund_id: ProviderId | None = None  # the provider's refund of that payment: `amount` is negative
    amount: PayoutCents
    fee: Cents


class SandboxPayoutData(Body):
    payout_id: ProviderId
    arrival_date: date
    amount: PayoutCents
    currency: UpperCurrency
    items: list[PayoutItem] = Field(max_length=10_000)


class SandboxProvider:
    """Payments that exist only in our own Firestore; refunds succeed at once."""

    name = "sandbox"

    def refund(self, *, payment_id: str, amount: int, refund_id: str) -> ReportedRefund:
        return ReportedRefund(SANDBOX_REFUND + refund_id, amount, "succeeded", payment_id, refund_id)

    def update_amount(self, *, payment_id: str, amount: int) -> None:
        """Nothing to do: the sandbox charges what our `payments/{id}` record says."""

    def refunds_of(self, payment_id: str) -> list[ReportedRefund]:
        """The sandbox reports each refund in its own event; it keeps no list to ask for."""
        return []

    def order_of(self, payment_id: str) -> tuple[str, str] | None:
        """The sandbox's payments are ours from the start: none is named only by the provider."""
        return None

    def create_payment(self, request: PaymentRequest) -> PaymentRef:
        """The sandbox's own checkout page (it sends the customer back wherever the page says)."""
        payment_id = new_id("pay_sbx_")
        return PaymentRef(
            id=payment_id,
            provider=self.name,
            status="requires_payment",
            checkout_url=f"{settings().public_url}/v1/sandbox/checkout/{payment_id}",
        )

    def read_webhook(self, headers: Mapping[str, str], raw: bytes) -> ProviderEvent:
        verify(headers.get("Sandbox-Signature"), raw, settings().sandbox_secret, now=int(time.time()))
        return read_event(self.name, raw, sandbox_event)


def sandbox_event(body: dict) -> ProviderEvent:
    event = validated(SandboxEventIn, body, "")
    if event.type in SANDBOX_REFUND_EVENTS:
        data = validated(SandboxRefundData, event.data, "data")
        status = event.type.removeprefix("refund.")
        reported = ReportedRefund(
            data.refund_id, data.amount, status, data.payment_id, sandbox_tresen_refund_id(data.refund_id)
        )
        return RefundEvent("sandbox", event.id, event.type, data.payment_id, (reported,))
    if event.type == "payout.paid":
        payout = validated(SandboxPayoutData, event.data, "data").model_dump(mode="json")
        return PayoutEvent("sandbox", event.id, event.type, payout)
    if event.type not in SANDBOX_PAYMENT_EVENTS:
        return OtherEvent("sandbox", event.id, event.type)
    data = validated(SandboxPaymentData, event.data, "data")
    return PaymentEvent(
        provider="sandbox",
        id=event.id,
        type=event.type,
        payment_id=data.payment_id,
        amount=data.amount,
        currency=data.currency,
        error=data.error,
        brand=data.brand,
    )


def sandbox_tresen_refund_id(provider_refund_id: str) -> str | None:
    """Which refund of ours a sandbox refund id names, if any (the others were made "at the provider")."""
    return provider_refund_id.removeprefix(SANDBOX_REFUND) if provider_refund_id.startswith(SANDBOX_REFUND) else None


def provider(name: str, account: StripeAccount | None = None, for_store: bool = False) -> PaymentProvider:
    """The provider of this name; Stripe with Connect acts for a store on its connected `account`,
    and for the platform itself where it acts for no store."""
    config = settings()
    if name == "sandbox" and config.sandbox_enabled:
        return SandboxProvider()
    if name == "stripe" and config.stripe_api_key:
        from .stripe_provider import StripeProvider

        if not (config.stripe_connect and for_store):
            return StripeProvider()
        if account is None:
            raise DomainError(
                "provider_not_ready", "The store has no Stripe account yet: its owner sets one up on the staff board."
            )
        return StripeProvider(account.account_id, account.platform_fee)
    raise DomainError(
        "validation_failed",
        "This payment provider is not available.",
        [FieldError("payment.provider", f"{name} is not enabled")],
    )


def offers(name: str, account: StripeAccount | None) -> bool:
    """Whether a store can take a payment with the provider now (Stripe with Connect: once its
    account may take charges)."""
    config = settings()
    if name == "stripe":
        return bool(config.stripe_api_key) and (not config.stripe_connect or bool(account and account.ready))
    return name != "sandbox" or config.sandbox_enabled


def webhook_source(name: str) -> PaymentProvider | None:
    """The provider whose webhooks `/v1/webhooks/{name}` takes: the sandbox where it is enabled;
    Stripe everywhere, its webhook secret checks them (no API key is needed to read one)."""
    if name == "sandbox" and settings().sandbox_enabled:
        return SandboxProvider()
    if name == "stripe":
        from .stripe_provider import StripeProvider

        return StripeProvider()
    return None
