"""The platform's Stripe account and PayPal as the licence billing use cases see them, in memory: what
was asked of them is recorded, and what a saved card does when charged is chosen by the test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tresen.services.billing_ports import CheckoutLink, OffSessionCharge, SavedCard
from tresen.services.paypal_ports import PayPalEvent, PayPalOrder, PayPalSignatureError


@dataclass
class FakeStripeBilling:
    # what charging the saved card answers next: succeeded, authentication_required or declined
    charge_outcome: str = "succeeded"
    charges: dict[str, OffSessionCharge] = field(default_factory=dict)  # by idempotency key
    checkouts: list[dict] = field(default_factory=list)
    customers: dict[str, str] = field(default_factory=dict)  # store → customer
    cards: dict[str, SavedCard] = field(default_factory=dict)  # setup intent → card

    def customer(self, store_id: str, email: str, existing: str | None) -> str:
        return existing or self.customers.setdefault(store_id, f"cus_{store_id}")

    def invoice_checkout(self, **asked) -> CheckoutLink:
        self.checkouts.append(asked | {"mode": "payment"})
        number = len(self.checkouts)
        return CheckoutLink(f"cs_pay_{number}", f"https://checkout.test/pay/{number}", in_an_hour())

    def card_setup_checkout(self, **asked) -> CheckoutLink:
        self.checkouts.append(asked | {"mode": "setup"})
        number = len(self.checkouts)
        return CheckoutLink(f"cs_setup_{number}", f"https://checkout.test/setup/{number}", in_an_hour())

    def saved_card(self, setup_intent_id: str) -> SavedCard:
        return self.cards[setup_intent_id]

    def charge_off_session(self, *, idempotency_key: str, **asked) -> OffSessionCharge:
        if idempotency_key not in self.charges:
            status = self.charge_outcome
            self.charges[idempotency_key] = OffSessionCharge(
                status,
                f"pi_{len(self.charges) + 1}",
                "generic_decline" if status == "declined" else None,
                None if status == "succeeded" else "refused",
            )
        return self.charges[idempotency_key]


@dataclass
class FakePayPal:
    orders: list[dict] = field(default_factory=list)
    captured: list[str] = field(default_factory=list)
    events: dict[bytes, PayPalEvent] = field(default_factory=dict)  # body → the event it verifies as

    def create_order(self, **asked) -> PayPalOrder:
        self.orders.append(asked)
        order_id = f"PAYPAL-ORDER-{len(self.orders)}"
        return PayPalOrder(order_id, f"https://paypal.test/checkoutnow?token={order_id}")

    def capture(self, order_id: str, request_id: str) -> str:
        self.captured.append(order_id)
        return "COMPLETED"

    def verified_event(self, headers, body: bytes) -> PayPalEvent:
        if body not in self.events:
            raise PayPalSignatureError("not signed by PayPal")
        return self.events[body]


def in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)
