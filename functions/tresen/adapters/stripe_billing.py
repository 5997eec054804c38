"""Stripe for the platform's own billing of its merchants: a licence invoice paid through Checkout, a
card saved through Checkout in `setup` mode (for off-session use) and charged each month without the
merchant. Every call is the platform's own, on its own account: no `Stripe-Account`, since merchants
pay the platform, not a store. The client (with `STRIPE_API_BASE`), the reading of Stripe's
failures and the metadata keys its webhooks are read by are adapters/stripe_provider.py's; a charge
the card refuses is an outcome, not an error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..services.billing_ports import CheckoutLink, OffSessionCharge, SavedCard
from .stripe_provider import CARD_SETUP_METADATA, INVOICE_METADATA, client, stripe_errors

if TYPE_CHECKING:
    import stripe

STORE_METADATA = "tresen_store"  # names the store on its Stripe customer


class StripeBilling:
    """services/billing_ports.py `StripeBillingPort` on the platform's Stripe account."""

    def customer(self, store_id: str, email: str, existing: str | None) -> str:
        if existing:
            return existing
        with stripe_errors():
            made = client().v1.customers.create(
                {"email": email, "metadata": {STORE_METADATA: store_id}},
                {"idempotency_key": f"tresen-billing-customer-{store_id}"},
            )
        return made.id

    def invoice_checkout(
        self,
        *,
        invoice_id: str,
        invoice_number: str,
        amount: int,
        currency: str,
        customer_id: str | None,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutLink:
        metadata = {INVOICE_METADATA: invoice_id}
        line = {
            "quantity": 1,
            "price_data": {
                "currency": currency.lower(),
                "unit_amount": amount,
                "product_data": {"name": f"Tresen-Lizenz, Rechnung {invoice_number}"},
            },
        }
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [line],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if customer_id:  # else Stripe asks for the e-mail on its page
            params["customer"] = customer_id
        with stripe_errors():
            session = client().v1.checkout.sessions.create(params, {"idempotency_key": idempotency_key})
        return checkout_link(session)

    def card_setup_checkout(
        self, *, store_id: str, customer_id: str, success_url: str, cancel_url: str, idempotency_key: str
    ) -> CheckoutLink:
        metadata = {CARD_SETUP_METADATA: store_id}
        with stripe_errors():
            session = client().v1.checkout.sessions.create(
                {
                    "mode": "setup",
                    "currency": "eur",
                    "customer": customer_id,
                    "payment_method_types": ["card"],
                    "metadata": metadata,
                    "setup_intent_data": {"metadata": metadata},
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                },
                {"idempotency_key": idempotency_key},
            )
        return checkout_link(session)

    def saved_card(self, setup_intent_id: str) -> SavedCard:
        import stripe

        try:
            with stripe_errors():
                intent = client().v1.setup_intents.retrieve(setup_intent_id, {"expand": ["payment_method"]}).to_dict()
        except stripe.InvalidRequestError as error:
            if error.http_status != 404:
                raise
            raise LookupError(f"no setup intent {setup_intent_id}") from error
        method = intent["payment_method"]
        if intent["status"] != "succeeded" or not method or not method["customer"]:
            raise LookupError(f"setup intent {setup_intent_id} saved no card of a customer ({intent['status']})")
        card = method["card"]
        return SavedCard(
            customer_id=method["customer"],
            payment_method_id=method["id"],
            brand=card["brand"],
            last4=card["last4"],
            exp_month=card["exp_month"],
            exp_year=card["exp_year"],
        )

    def charge_off_session(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: int,
        currency: str,
        invoice_id: str,
        idempotency_key: str,
    ) -> OffSessionCharge:
        import stripe

        try:
            with stripe_errors():
                intent = client().v1.payment_intents.create(
                    {
                        "amount": amount,
                        "currency": currency.lower(),
                        "customer": customer_id,
                        "payment_method": payment_method_id,
                        "off_session": True,
                        "confirm": True,
                        "metadata": {INVOICE_METADATA: invoice_id},
                        "description": f"Tresen-Lizenz {invoice_id}",
                    },
                    {"idempotency_key": idempotency_key},
                )
        except stripe.CardError as error:
            return refused_charge(error)
        return OffSessionCharge("succeeded", intent.id, None, None)


def checkout_link(session: stripe.checkout.Session) -> CheckoutLink:
    return CheckoutLink(session.id, session.url, datetime.fromtimestamp(session.expires_at, UTC))


def refused_charge(error: stripe.CardError) -> OffSessionCharge:
    """Stripe's 402 to an off-session charge: the card needs its holder to authenticate the payment,
    or it was declined. The error names the PaymentIntent it made, which now waits for another card."""
    found = (error.json_body or {}).get("error", {})
    intent = found.get("payment_intent") or {}
    status = "authentication_required" if error.code == "authentication_required" else "declined"
    return OffSessionCharge(status, intent.get("id"), found.get("decline_code"), found.get("message"))
