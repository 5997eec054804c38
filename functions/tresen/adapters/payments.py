"""Payment providers. The sandbox stands in for a real provider in dev and demo."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import settings
from ..domain.errors import DomainError, FieldError
from ..domain.orders import PaymentRef
from .clock import new_id


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    status: str  # succeeded | pending | failed


class SandboxProvider:
    """Payments that exist only in our own Firestore; refunds succeed at once (CONTRACT §6)."""

    name = "sandbox"

    def refund(self, *, payment_id: str, amount: int, refund_id: str) -> ProviderRefund:
        return ProviderRefund(id=f"sbx_{refund_id}", status="succeeded")

    def update_amount(self, *, payment_id: str, amount: int) -> None:
        """Nothing to do: the sandbox charges what our `payments/{id}` record says."""

    def create_payment(self, *, order_id: str, store_id: str, amount: int, currency: str) -> PaymentRef:
        payment_id = new_id("pay_sbx_")
        return PaymentRef(
            id=payment_id,
            provider=self.name,
            status="requires_payment",
            checkout_url=f"{settings().public_url}/v1/sandbox/checkout/{payment_id}",
        )


def provider(name: str):
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
