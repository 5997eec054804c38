"""Paying licence invoices: by card through Stripe Checkout, by PayPal, or by the card saved for it;
and what the portal shows of a store's billing.

An invoice reads paid when the provider says so: Stripe's `checkout.session.completed` for a
Checkout, PayPal's `PAYMENT.CAPTURE.COMPLETED` (after we capture the order its payer approved), or
the answer of an off-session charge. Each provider event is applied once (its record is created with
the invoice's change), and an invoice is paid once whichever way comes first; a payment of another
amount than the invoice's is not taken as paying it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from ..domain.errors import DomainError
from ..domain.events import BillingCardSaved, LicenceInvoicePaid, LicenceInvoicePaymentFailed
from ..domain.journal import JournalEvent, rfc3339
from ..domain.licence_billing import MANDATE_TEXT, MANDATE_VERSION, BillingProfile, InvoiceAccount, SavedCard
from ..domain.payments import BillingEvent
from .licence_ports import BillingUnitOfWork
from .payments import EventOutcome, event_record, record_once
from .platform_stores import PLATFORM
from .provider_refunds import PROVIDER
from .unit_of_work import AlreadyWritten, Claims, Plan, Writes

log = logging.getLogger(__name__)
SYSTEM = {"type": "system"}


@dataclass(frozen=True)
class StartPayment:
    store_id: str
    invoice_id: str
    method: str  # card | paypal
    portal_url: str
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class StartCardSetup:
    store_id: str
    portal_url: str
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class Billing:
    """A store's billing as the portal shows it."""

    profile: BillingProfile
    invoices: list[InvoiceAccount]
    today: date

    @property
    def open_amount(self) -> int:
        return sum(account.invoice.gross for account in self.invoices if account.status == "open")


def pay_link(portal_url: str, account: InvoiceAccount) -> str:
    """The portal's page of the invoice, where it is paid."""
    return portal_url + "?" + urlencode({"store": account.invoice.store_id, "invoice": account.id})


def billing_of(store_id: str, uow: BillingUnitOfWork) -> Billing:
    found = uow.billing_profiles.get(store_id)
    if found is None:
        raise DomainError("store_not_found", f"The platform bills no store {store_id!r}.")
    return Billing(found[0], uow.licence_invoices.of_store(store_id), uow.now().date())


def invoice_of(store_id: str, invoice_id: str, uow: BillingUnitOfWork) -> tuple[InvoiceAccount, Any]:
    found = uow.licence_invoices.get(invoice_id)
    if found is None or found[0].invoice.store_id != store_id:
        raise DomainError("invoice_not_found", f"No invoice {invoice_id} of this store.")
    return found


def invoice_pdf(store_id: str, invoice_id: str, uow: BillingUnitOfWork) -> tuple[str, bytes]:
    account, _ = invoice_of(store_id, invoice_id, uow)
    return account.invoice.number, uow.licence_invoices.pdf(account.id)


def start_payment(command: StartPayment, uow: BillingUnitOfWork) -> str:
    """The provider's page where the invoice is paid. An open checkout of the same method is
    answered again rather than a second one made."""
    account, _ = invoice_of(command.store_id, command.invoice_id, uow)
    if account.status == "paid":
        raise DomainError("invoice_paid", f"Invoice {account.invoice.number} is paid.")
    now = uow.now()
    kept = account.checkouts.get(command.method)
    if kept and (kept.get("expires_at") is None or kept["expires_at"] > now):
        return kept["url"]
    back = pay_link(command.portal_url, account)
    key = f"{account.id}-{command.method}-{now:%Y%m%d%H%M%S%f}"  # a new checkout only once the kept one expired
    invoice = account.invoice
    if command.method == "card":
        profile = uow.billing_profiles.get(command.store_id)[0]
        link = uow.stripe_billing.invoice_checkout(
            invoice_id=account.id,
            invoice_number=invoice.number,
            amount=invoice.gross,
            currency=invoice.currency,
            customer_id=profile.stripe_customer,
            success_url=back + "&paid=card",
            cancel_url=back,
            idempotency_key=key,
        )
        checkout = {"id": link.id, "url": link.url, "expires_at": link.expires_at}
    else:
        order = uow.paypal.create_order(
            reference=account.id,
            invoice_number=invoice.number,
            amount=invoice.gross,
            currency=invoice.currency,
            description=f"Rechnung {invoice.number}: {invoice.service}"[:127],  # PayPal's limit
            return_url=back + "&paid=paypal",
            cancel_url=back,
            request_id=key,
        )
        checkout = {"id": order.id, "url": order.approve_url, "expires_at": None}
    keep_checkout(account.id, command.method, checkout, command.actor, uow)
    return checkout["url"]


def keep_checkout(account_id: str, method: str, checkout: dict, actor: Mapping[str, Any], uow: BillingUnitOfWork):
    now = uow.now()

    def build(_claims: Claims) -> Plan[None]:
        account, version = uow.licence_invoices.get(account_id)
        writes = Writes(actor)
        writes.licence_invoice(account.with_checkout(method, checkout), version)
        return Plan(None, now, actor, [], writes)

    uow.commit(PLATFORM, build)


def start_card_setup(command: StartCardSetup, uow: BillingUnitOfWork) -> str:
    """Stripe's page where the owner saves a card for the licence fees, having agreed to the mandate
    (who and when are kept with the card once it is saved)."""
    found = uow.billing_profiles.get(command.store_id)
    if found is None:
        raise DomainError("store_not_found", f"The platform bills no store {command.store_id!r}.")
    profile = found[0]
    customer = uow.stripe_billing.customer(command.store_id, profile.billing_email, profile.stripe_customer)
    now = uow.now()
    back = command.portal_url + "?" + urlencode({"store": command.store_id})
    link = uow.stripe_billing.card_setup_checkout(
        store_id=command.store_id,
        customer_id=customer,
        success_url=back + "&card=saved",
        cancel_url=back,
        idempotency_key=f"{command.store_id}-card-setup-{now:%Y%m%d%H%M%S%f}",
    )
    setup = {
        "session_id": link.id,
        "accepted_by": str(command.actor.get("uid")),
        "accepted_at": now,
        "mandate_version": MANDATE_VERSION,
        "mandate_text": MANDATE_TEXT,
    }

    def build(_claims: Claims) -> Plan[None]:
        current, version = uow.billing_profiles.get(command.store_id)
        writes = Writes(command.actor)
        writes.billing_profile(replace(current, stripe_customer=customer, card_setup=setup), version)
        return Plan(None, now, command.actor, [], writes)

    uow.commit(PLATFORM, build)
    return link.url


def mark_paid(
    account_id: str,
    method: str,
    reference: str,
    amount: int,
    uow: BillingUnitOfWork,
    seen: tuple[str, str, dict[str, Any]] | None = None,
) -> bool:
    """The invoice paid, journaled once; False if it was paid before or the amount is not its own.
    `seen`: the provider event's record, created in the same commit."""
    now = uow.now()

    def build(_claims: Claims) -> Plan[bool]:
        account, version = uow.licence_invoices.get(account_id)
        writes = Writes(PROVIDER)
        if seen is not None:
            writes.event_seen(*seen)
        if account.status == "paid" or amount != account.invoice.gross:
            if account.status != "paid":
                log.warning(
                    "licence invoice %s: %s paid %d, not its %d", account_id, method, amount, account.invoice.gross
                )
            return Plan(False, now, PROVIDER, [], writes)
        writes.licence_invoice(account.paid_by(method, reference, now), version)
        paid = LicenceInvoicePaid(
            invoice_id=account.id, number=account.invoice.number, method=method, reference=reference, amount=amount
        )
        return Plan(True, now, PROVIDER, [JournalEvent.of(paid)], writes)

    return uow.commit(PLATFORM, build).result


def apply_billing_event(event: BillingEvent, uow: BillingUnitOfWork) -> EventOutcome:
    """A provider's event about the platform's billing, applied once."""
    if uow.provider_events.seen(event.provider, event.id):
        return EventOutcome(duplicate=True)
    seen = (event.provider, event.id, event_record(event.type, "processed", uow.now()))
    try:
        if event.kind == "invoice_paid":
            if uow.licence_invoices.get(event.reference) is None:
                return EventOutcome(unprocessable=f"no licence invoice {event.reference}")
            mark_paid(event.reference, event.method, event.object_id, event.amount or 0, uow, seen)
        elif event.kind == "invoice_payment_failed":
            payment_failed(event, uow, seen)
        else:
            save_card(event, uow, seen)
    except AlreadyWritten:  # another delivery of it was applied meanwhile
        return EventOutcome(duplicate=True)
    return EventOutcome()


def payment_failed(event: BillingEvent, uow: BillingUnitOfWork, seen: tuple[str, str, dict[str, Any]]) -> None:
    """A PayPal capture the payer's bank refused: journaled; the invoice stays open to be paid again."""
    now = uow.now()

    def build(_claims: Claims) -> Plan[None]:
        writes = Writes(PROVIDER)
        writes.event_seen(*seen)
        found = uow.licence_invoices.get(event.reference)
        if found is None or found[0].status == "paid":
            return Plan(None, now, PROVIDER, [], writes)
        account = found[0]
        failed = LicenceInvoicePaymentFailed(
            invoice_id=account.id,
            number=account.invoice.number,
            method=event.method,
            reason="declined",
            attempt=1,
            next_attempt_on=None,
        )
        return Plan(None, now, PROVIDER, [JournalEvent.of(failed)], writes)

    uow.commit(PLATFORM, build)


def save_card(event: BillingEvent, uow: BillingUnitOfWork, seen: tuple[str, str, dict[str, Any]]) -> None:
    """Checkout saved a card (setup mode): it becomes the store's card for the licence fees, with the
    mandate its owner agreed to when starting the setup."""
    card = uow.stripe_billing.saved_card(event.object_id)
    now = uow.now()

    def build(_claims: Claims) -> Plan[None]:
        writes = Writes(PROVIDER)
        writes.event_seen(*seen)
        found = uow.billing_profiles.get(event.reference)
        if found is None:
            return Plan(None, now, PROVIDER, [], writes)
        profile, version = found
        setup = profile.card_setup or {}
        accepted_by, accepted_at = str(setup.get("accepted_by", "")), setup.get("accepted_at") or now
        saved = SavedCard(
            card.customer_id,
            card.payment_method_id,
            card.brand,
            card.last4,
            card.exp_month,
            card.exp_year,
            accepted_by,
            accepted_at,
            setup.get("mandate_version", MANDATE_VERSION),
        )
        writes.billing_profile(replace(profile, stripe_customer=card.customer_id, card=saved, card_setup=None), version)
        event_saved = BillingCardSaved(
            store_id=profile.store_id,
            brand=saved.brand,
            last4=saved.last4,
            mandate_version=saved.mandate_version,
            accepted_by=accepted_by,
            accepted_at=rfc3339(accepted_at),
        )
        return Plan(None, now, PROVIDER, [JournalEvent.of(event_saved)], writes)

    uow.commit(PLATFORM, build)


@dataclass(frozen=True)
class ReceivePayPalWebhook:
    headers: Mapping[str, str]
    raw: bytes


def receive_paypal_webhook(command: ReceivePayPalWebhook, uow: BillingUnitOfWork) -> EventOutcome:
    """PayPal's event, checked through PayPal's own verification (`invalid_signature` otherwise). An
    approved order is captured (with a request id of its own: asked twice, PayPal captures once);
    the capture's completion pays the invoice."""
    from .paypal_ports import CAPTURE_COMPLETED, CAPTURE_DENIED, ORDER_APPROVED, PayPalSignatureError

    try:
        event = uow.paypal.verified_event(command.headers, command.raw)
    except PayPalSignatureError as error:
        raise DomainError("invalid_signature", str(error)) from None
    if uow.provider_events.seen("paypal", event.id):
        return EventOutcome(duplicate=True)
    if event.type == ORDER_APPROVED and event.order_id:
        uow.paypal.capture(event.order_id, f"capture-{event.order_id}")
    if event.type in (CAPTURE_COMPLETED, CAPTURE_DENIED) and event.reference:
        kind = "invoice_paid" if event.type == CAPTURE_COMPLETED else "invoice_payment_failed"
        billing = BillingEvent(
            "paypal", event.id, event.type, kind, event.reference, event.capture_id or "", "paypal", event.amount
        )
        return apply_billing_event(billing, uow)
    if not record_once(uow, "paypal", event.id, event_record(event.type, "processed", uow.now())):
        return EventOutcome(duplicate=True)
    return EventOutcome()
