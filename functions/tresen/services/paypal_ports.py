"""PayPal for the platform's licence invoices, as the use cases see it: an order (Orders v2) a merchant
approves on PayPal's page, its capture, and PayPal's webhooks once PayPal vouched for them.
adapters/paypal_billing.py implements it through PayPal's SDK.

The flow: `create_order` → the payer approves at `approve_url` → `CHECKOUT.ORDER.APPROVED` →
`capture` → `PAYMENT.CAPTURE.COMPLETED` (or `.PENDING`, settled later as `.COMPLETED` or `.DENIED`).
Only a completed capture pays an invoice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# the events the webhook is subscribed to (docs/operations.md, "PayPal")
ORDER_APPROVED = "CHECKOUT.ORDER.APPROVED"
CAPTURE_COMPLETED = "PAYMENT.CAPTURE.COMPLETED"
CAPTURE_PENDING = "PAYMENT.CAPTURE.PENDING"
CAPTURE_DENIED = "PAYMENT.CAPTURE.DENIED"


@dataclass(frozen=True)
class PayPalOrder:
    id: str
    approve_url: str  # where the payer approves it on PayPal's page


@dataclass(frozen=True)
class PayPalEvent:
    """A webhook PayPal signed, as far as the invoices need it; a field the event does not carry is None."""

    id: str
    type: str  # PayPal's event_type, e.g. PAYMENT.CAPTURE.COMPLETED
    order_id: str | None
    capture_id: str | None  # capture events only
    reference: str | None  # our invoice id (the purchase unit's `custom_id`)
    amount: int | None  # cents


class PayPalUnavailable(ConnectionError):
    """PayPal could not be reached, or failed on its side: a ConnectionError, answered 503 with Retry-After."""


class PayPalRefused(Exception):
    """PayPal refused the request (a 4xx): `code` is its issue (ORDER_NOT_APPROVED …) or error name."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class PayPalSignatureError(Exception):
    """A webhook PayPal does not vouch for: the headers are missing, or its verification said FAILURE."""


@runtime_checkable
class PayPal(Protocol):
    def create_order(
        self,
        *,
        reference: str,
        invoice_number: str,
        amount: int,
        currency: str,
        description: str,
        return_url: str,
        cancel_url: str,
        request_id: str,
    ) -> PayPalOrder:
        """An order paying `amount` cents for the invoice `reference` (numbered `invoice_number`);
        the same `request_id` gives the same order."""

    def capture(self, order_id: str, request_id: str) -> str:
        """Captures an approved order: the capture's status (COMPLETED, PENDING, DECLINED …). An order
        captured before answers the status of that capture."""

    def verified_event(self, headers: Mapping[str, str], body: bytes) -> PayPalEvent:
        """The event of a webhook body, once PayPal verified its signature; PayPalSignatureError if not."""
