"""What the platform's billing of its merchants (the monthly licence invoices) needs from the outside
world, as protocols, and the types they answer. The adapters implement them (adapters/stripe_billing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

# --- Stripe: paying licence invoices on the platform's own Stripe account ---


@dataclass(frozen=True)
class CheckoutLink:
    """A Stripe Checkout page the merchant is sent to, usable until `expires_at`."""

    id: str  # the Checkout Session's id: its events name it
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class SavedCard:
    """A card the merchant saved through Checkout, to be charged later without them (off-session)."""

    customer_id: str
    payment_method_id: str
    brand: str  # Stripe's name: "visa", "mastercard" …
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class OffSessionCharge:
    """What charging a saved card came to. A failure is an outcome, not an exception: the merchant
    is asked to authenticate the payment, or to pay another way."""

    status: Literal["succeeded", "authentication_required", "declined"]
    payment_intent_id: str | None  # Stripe's PaymentIntent, if one was made
    decline_code: str | None  # why the card was declined, in Stripe's words ("generic_decline" …)
    message: str | None  # Stripe's explanation of a failure, for the merchant


class StripeBillingPort(Protocol):
    """The platform's own Stripe account (not a store's connected account). Every call may raise
    ConnectionError: Stripe could not be reached or failed on its side, and the caller retries later."""

    def customer(self, store_id: str, email: str, existing: str | None) -> str:
        """The store's Stripe customer: `existing` if the store has one, else made once (idempotent by
        the store)."""

    def invoice_checkout(
        self,
        *,
        invoice_id: str,
        invoice_number: str,
        amount: int,  # cents
        currency: str,
        customer_id: str | None,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutLink:
        """A Checkout page paying one licence invoice by card; its payment names the invoice."""

    def card_setup_checkout(
        self, *, store_id: str, customer_id: str, success_url: str, cancel_url: str, idempotency_key: str
    ) -> CheckoutLink:
        """A Checkout page saving a card of the store's customer for later off-session charges."""

    def saved_card(self, setup_intent_id: str) -> SavedCard:
        """The card a completed card setup saved (its `setup_intent`); LookupError if it saved none."""

    def charge_off_session(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: int,  # cents
        currency: str,
        invoice_id: str,
        idempotency_key: str,
    ) -> OffSessionCharge:
        """Charges the saved card for one invoice without the merchant present; the same key, the same
        charge and outcome."""
