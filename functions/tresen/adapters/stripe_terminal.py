"""Stripe Terminal, server-driven: the store's card readers registered with Stripe, card-present
PaymentIntents sent to them, and the charges each reader took, through the `stripe` library.

Everything happens on the store's connected account (its `Stripe-Account`), as its online payments
do (adapters/stripe_provider.py). A workplace is a Terminal Location, made once with the store's
postal address; a reader is registered there by the pairing code it shows. A payment is a
PaymentIntent for `card_present`, made once per order (its idempotency key), then handed to the
reader, which asks the customer for a card; Stripe's `terminal.reader.action_*` webhooks tell how
that ended, and `state` asks Stripe when a webhook is late or lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..domain.catalog import Store
from ..domain.errors import DomainError
from ..domain.store_profile import Address
from ..domain.stripe_connect import PlatformFee
from ..domain.terminals import CARD_BRANDS, ProviderCharge, TerminalRegistration, Workplace
from ..services.terminal_ports import (
    CardPresentRequest,
    CardPresentState,
    ReaderCheck,
    RegisteredReader,
    TerminalRefused,
)
from .stripe_provider import client, stripe_errors

# Stripe's refusals of a reader's action in ours; any other is `terminal_refused`
REFUSALS = {
    "terminal_reader_busy": "terminal_busy",
    "terminal_reader_offline": "terminal_offline",
    "terminal_reader_timeout": "terminal_offline",  # the reader did not answer Stripe in time
}
PROCESS_PAYMENT = "process_payment_intent"


@dataclass(frozen=True)
class StripeTerminal:
    """services/terminal_ports.py `CardReader` for one store: Stripe Terminal on its connected account
    (`account`), the platform's fee taken from each payment there."""

    account: str | None
    platform_fee: PlatformFee | None = None
    provider = "stripe_terminal"
    payment_provider = "stripe"

    def register(
        self, store: Store, workplace: Workplace, terminal_id: str, registration: TerminalRegistration
    ) -> RegisteredReader:
        import stripe

        location = workplace.location or self._new_location(store, workplace)
        metadata = {"tresen_terminal": terminal_id, "store_id": store.id, "serial_number": registration.serial_number}
        if registration.bank_terminal_id:
            metadata["bank_terminal_id"] = registration.bank_terminal_id
        try:
            with stripe_errors():
                reader = client(self.account).v1.terminal.readers.create(
                    {
                        "registration_code": registration.registration_code,
                        "location": location,
                        "label": f"{workplace.name} {registration.model} {registration.serial_number}",
                        "metadata": metadata,
                    },
                    {"idempotency_key": f"tresen-reader-{terminal_id}"},
                )
        except stripe.InvalidRequestError as error:
            message = f"Stripe refused the registration code: {error.user_message or error}"
            raise DomainError("registration_refused", message) from error
        return RegisteredReader(reader.id, location)

    def _new_location(self, store: Store, workplace: Workplace) -> str:
        """The workplace's Location, at the store's postal address: Stripe places every reader at one."""
        address = Address.from_lines(store.address)
        if address is None:
            raise DomainError(
                "store_address_required",
                "Stripe registers a card reader at the store's postal address: give the store its street, "
                "postal code and city first.",
            )
        with stripe_errors():
            location = client(self.account).v1.terminal.locations.create(
                {
                    "display_name": f"{store.name} – {workplace.name}",
                    "address": {
                        "line1": address.street,
                        "postal_code": address.postal_code,
                        "city": address.city,
                        "country": "DE",
                    },
                },
                {"idempotency_key": f"tresen-location-{workplace.id}"},
            )
        return location.id

    def unregister(self, reader_id: str) -> None:
        import stripe

        try:
            with stripe_errors():
                client(self.account).v1.terminal.readers.delete(reader_id)
        except stripe.InvalidRequestError as error:
            if error.code != "resource_missing":  # deleted already (here, or in Stripe's dashboard)
                raise

    def check(self, reader_id: str) -> ReaderCheck:
        import stripe

        try:
            with stripe_errors():
                reader = client(self.account).v1.terminal.readers.retrieve(reader_id).to_dict()
        except stripe.InvalidRequestError as error:
            if error.code != "resource_missing":
                raise
            return ReaderCheck("offline", "Stripe knows no such reader: it was deleted (in Stripe's dashboard?)")
        return ReaderCheck(reader.get("status") or "offline", reader_detail(reader))

    def create_payment(self, request: CardPresentRequest) -> str:
        params: dict[str, Any] = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "payment_method_types": ["card_present"],
            "capture_method": "automatic",
            "metadata": {
                "order_id": request.order_id,
                "store_id": request.store_id,
                "tresen_terminal": request.terminal_id,
            },
        }
        if self.account and self.platform_fee:
            params["application_fee_amount"] = self.platform_fee.of(request.amount)
        with stripe_errors(refused="provider_not_ready"):  # a restricted account, say
            intent = client(self.account).v1.payment_intents.create(
                params, {"idempotency_key": f"tresen-terminal-payment-{request.order_id}"}
            )
        return intent.id

    def present(self, reader_id: str, payment_id: str) -> None:
        """Carries no idempotency key of ours: a payment declined at the reader is presented again
        by the same call, which a key of the payment's own would only replay. Sending it twice is
        harmless — the reader already asking for this payment is no refusal, and a PaymentIntent
        is charged once at most."""
        import stripe

        try:
            with stripe_errors():
                client(self.account).v1.terminal.readers.process_payment_intent(
                    reader_id, {"payment_intent": payment_id}
                )
        except stripe.InvalidRequestError as error:
            if error.code == "terminal_reader_busy" and self.in_progress(reader_id) == payment_id:
                return  # sent before, its answer lost: the reader is asking for this payment already
            code = REFUSALS.get(error.code or "", "terminal_refused")
            raise TerminalRefused(code, error.user_message or str(error)) from error

    def cancel(self, reader_id: str, payment_id: str) -> CardPresentState:
        import stripe

        on_account = client(self.account)
        if self.in_progress(reader_id) == payment_id:  # never another payment's action
            try:
                with stripe_errors():
                    on_account.v1.terminal.readers.cancel_action(reader_id)
            except stripe.InvalidRequestError:
                pass  # its action ended meanwhile, or it went offline: the PaymentIntent's cancel decides
        try:
            with stripe_errors():
                intent = on_account.v1.payment_intents.cancel(payment_id)
        except stripe.InvalidRequestError as error:
            if error.code != "payment_intent_unexpected_state":
                raise
            return self.state(payment_id)  # paid before the cancel arrived, or canceled before
        return intent_state(intent.to_dict())

    def state(self, payment_id: str) -> CardPresentState:
        with stripe_errors():
            intent = client(self.account).v1.payment_intents.retrieve(payment_id, {"expand": ["latest_charge"]})
        return intent_state(intent.to_dict())

    def in_progress(self, reader_id: str) -> str | None:
        with stripe_errors():
            reader = client(self.account).v1.terminal.readers.retrieve(reader_id).to_dict()
        action = reader.get("action") or {}
        if action.get("type") != PROCESS_PAYMENT or action.get("status") != "in_progress":
            return None
        return id_of(action[PROCESS_PAYMENT]["payment_intent"])

    def charges(self, reader_id: str, since: datetime, until: datetime) -> list[ProviderCharge]:
        """The reader's successful charges, oldest first. Stripe's `created` is in whole seconds: a
        charge counts whose second overlaps the window."""
        window = {"gte": int(since.timestamp()), "lte": int(until.timestamp())}
        with stripe_errors():
            page = client(self.account).v1.charges.list({"created": window, "limit": 100})
            found = [charge.to_dict() for charge in page.auto_paging_iter()]
        taken = [
            ProviderCharge(
                ref=id_of(charge["payment_intent"]) if charge.get("payment_intent") else charge["id"],
                amount=charge["amount"],
                currency=charge["currency"].upper(),
                brand=card_brand(charge),
                at=datetime.fromtimestamp(charge["created"], UTC),
            )
            for charge in found
            if charge["status"] == "succeeded" and card_present(charge).get("reader") == reader_id
        ]
        return sorted(taken, key=lambda charge: (charge.at, charge.ref))


def id_of(value: str | dict) -> str:
    """An id Stripe gives as a string, or as the object itself where it was expanded."""
    return value if isinstance(value, str) else value["id"]


def card_present(charge: dict | None) -> dict:
    """The card and reader of a card-present charge; {} for any other."""
    details = (charge or {}).get("payment_method_details") or {}
    return (details.get("card_present") or {}) if details.get("type") == "card_present" else {}


def card_brand(charge: dict | None) -> str:
    brand = card_present(charge).get("brand")
    return brand if brand in CARD_BRANDS else "unknown"


def intent_state(intent: dict) -> CardPresentState:
    """A card-present PaymentIntent in our terms: declined is `failed` (it may be presented again);
    waiting for a card, or for the network's answer, is `processing`."""
    payment_id, status = intent["id"], intent["status"]
    if status == "succeeded":
        latest_charge = intent.get("latest_charge")
        charge = latest_charge if isinstance(latest_charge, dict) else None
        return CardPresentState(
            payment_id, "succeeded", intent["amount_received"], intent["currency"].upper(), card_brand(charge)
        )
    if status == "canceled":
        return CardPresentState(payment_id, "canceled")
    error = intent.get("last_payment_error")
    if status == "requires_payment_method" and error:
        return CardPresentState(payment_id, "failed", error=error.get("message") or error.get("code"))
    return CardPresentState(payment_id, "processing")


def reader_detail(reader: dict) -> str:
    """What an operator reads of a reader: its device, its label, and when Stripe last heard from it."""
    parts = [reader.get("device_type") or "unknown device", f"“{reader.get('label') or ''}”"]
    if reader.get("last_seen_at"):  # in milliseconds, unlike Stripe's other times
        seen = datetime.fromtimestamp(reader["last_seen_at"] / 1000, UTC)
        parts.append(f"last seen {seen.isoformat(timespec='seconds')}")
    return ", ".join(parts)
