"""Payment providers. The sandbox stands in for a real provider in dev and demo."""

from __future__ import annotations

from ..config import settings
from ..domain.errors import DomainError, FieldError
from ..domain.orders import PaymentRef
from ..domain.refunds import ReportedRefund
from ..services.ports import PaymentProvider
from .clock import new_id

SANDBOX_REFUND = "sbx_"  # the sandbox's refund id is ours with this prefix


class SandboxProvider:
    """Payments that exist only in our own Firestore; refunds succeed at once (CONTRACT §6)."""

    name = "sandbox"

    def refund(self, *, payment_id: str, amount: int, refund_id: str) -> ReportedRefund:
        return ReportedRefund(SANDBOX_REFUND + refund_id, amount, "succeeded", payment_id, refund_id)

    def update_amount(self, *, payment_id: str, amount: int) -> None:
        """Nothing to do: the sandbox charges what our `payments/{id}` record says."""

    def refunds_of(self, payment_id: str) -> list[ReportedRefund]:
        """The sandbox reports each refund in its own event; it keeps no list to ask for."""
        return []

    def create_payment(self, *, order_id: str, store_id: str, amount: int, currency: str) -> PaymentRef:
        payment_id = new_id("pay_sbx_")
        return PaymentRef(
            id=payment_id,
            provider=self.name,
            status="requires_payment",
            checkout_url=f"{settings().public_url}/v1/sandbox/checkout/{payment_id}",
        )


def sandbox_tresen_refund_id(provider_refund_id: str) -> str | None:
    """Which refund of ours a sandbox refund id names, if any (the others were made "at the provider")."""
    return provider_refund_id.removeprefix(SANDBOX_REFUND) if provider_refund_id.startswith(SANDBOX_REFUND) else None


def provider(name: str) -> PaymentProvider:
    if name == "sandbox" and settings().sandbox_enabled:
        return SandboxProvider()
    if name == "stripe" and settings().stripe_api_key:
        from .stripe_provider import StripeProvider

        return StripeProvider()
    raise DomainError(
        "validation_failed",
        "This payment provider is not available.",
        [FieldError("payment.provider", f"{name} is not enabled")],
    )
