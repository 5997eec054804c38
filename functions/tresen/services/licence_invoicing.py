"""The monthly licence run: each store's invoice for the previous month, issued once and numbered
gap-free in the platform's own journal, then the saved cards charged.

Run daily (`tresen licence-invoices`, `POST /v1/jobs/licence-invoices`), store by store in a run
that goes on across invocations (services/store_runs.py): an invoice already issued is found by its
id (one per store and month) and not issued again; a number is claimed in the same
commit as its invoice, so a failed commit leaves no gap. Each charge of a saved card has its own
idempotency key (invoice and attempt): a run repeated after a crash asks Stripe the same question and
gets the same answer, never a second charge. A failed charge keeps the invoice open, tells the owner
by e-mail with a link to pay, and is retried on days 3, 5 and 7.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from ..domain.events import LicenceInvoiceIssued, LicenceInvoicePaymentFailed
from ..domain.journal import JournalEvent
from ..domain.licence_billing import BillingProfile, InvoiceAccount, invoice_id
from ..domain.licence_invoices import (
    PLANS,
    Party,
    Period,
    german_date,
    invoice_number,
    issue_licence_invoice,
    needs_einvoice,
)
from ..domain.mail import Attachment, Mail
from .licence_payments import SYSTEM, mark_paid, pay_link
from .licence_ports import BillingUnitOfWork
from .platform_stores import PLATFORM
from .store_runs import StoreRunUnitOfWork, Walked, WalkStores, walk_stores
from .unit_of_work import AlreadyWritten, Claims, Counter, Plan, Writes

log = logging.getLogger(__name__)
LICENCE_INVOICE_NUMBERS = "licence_invoice_numbers"
LICENCE_INVOICES = "licence-invoices"  # the job's runs: `job_runs/licence-invoices:{day}`


@dataclass(frozen=True)
class RunLicenceBilling:
    on: date  # the day of the run: the previous month is billed
    issuer: Party  # the platform, as its invoices name it
    portal_url: str  # where owners pay: the portal page


@dataclass
class BillingRun:
    period: str
    walked: Walked[StoreBilled]  # this invocation of the day's run
    issued: list[str] = field(default_factory=list)  # invoice numbers
    paid: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # charges refused by the bank
    errors: list[str] = field(default_factory=list)  # charges the provider could not answer: tried on the next run


@dataclass
class StoreBilled:
    issued: str | None = None  # the number of the invoice issued now
    paid: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class LicenceRunUnitOfWork(BillingUnitOfWork, StoreRunUnitOfWork, Protocol):
    """The licence run's unit of work: billing, and the run it goes on with."""


def run_licence_billing(
    command: RunLicenceBilling, uow: LicenceRunUnitOfWork, walk: WalkStores | None = None
) -> BillingRun:
    """Goes on with the day's run (`licence-invoices:{day}`) over every store: its invoice for the
    previous month issued, then its saved card charged for what is due. A store whose invoice cannot
    be issued stops the invocation (the next one tries it again); a charge the provider cannot
    answer is only noted (the next day's run asks again, with the same key)."""
    period = Period.of(command.on).previous()
    walked = walk_stores(
        LICENCE_INVOICES,
        walk or WalkStores(command.on.isoformat()),
        uow,
        lambda store_id: bill_store(store_id, period, command, uow),
        lambda billed: "issued" if billed.issued else None,
    )
    run = BillingRun(period.label, walked)
    for billed in walked.results:
        run.issued += [billed.issued] if billed.issued else []
        run.paid += billed.paid
        run.failed += billed.failed
        run.errors += billed.errors
    return run


def bill_store(store_id: str, period: Period, command: RunLicenceBilling, uow: BillingUnitOfWork) -> StoreBilled | None:
    """One store of the run, None if it has no billing profile (the platform's journal, a store not
    opened through the portal)."""
    found = uow.billing_profiles.get(store_id)
    if found is None:
        return None
    profile, billed = found[0], StoreBilled()
    issued = issue_invoice(profile, period, command, uow)
    billed.issued = issued.invoice.number if issued is not None else None
    if profile.card is None:
        return billed
    for account in uow.licence_invoices.of_store(store_id):
        if not account.charge_due(command.on):
            continue
        try:
            outcome = charge_saved_card(account, profile, command.portal_url, uow)
        except Exception as error:  # the provider down: the next run asks again, with the same key
            log.warning("licence invoice %s: the saved card could not be charged: %r", account.invoice.number, error)
            billed.errors.append(f"{account.invoice.number}: {error!r}")
            continue
        (billed.paid if outcome == "succeeded" else billed.failed).append(account.invoice.number)
    return billed


def issue_invoice(
    profile: BillingProfile, period: Period, command: RunLicenceBilling, uow: BillingUnitOfWork
) -> InvoiceAccount | None:
    """The store's invoice for `period`, issued with its document and its e-mail; None if it was
    issued before."""
    from ..domain.einvoice import licence_invoice_document  # the PDF libraries: only where invoices are made

    account_id = invoice_id(profile.store_id, period)
    if uow.licence_invoices.get(account_id) is not None:
        return None
    now, year = uow.now(), command.on.year
    mail_id = uow.new_id("mail")

    def build(claims: Claims) -> Plan[InvoiceAccount]:
        number = invoice_number(year, claims.next(Counter(LICENCE_INVOICE_NUMBERS, str(year)), account_id))
        invoice = issue_licence_invoice(
            number=number,
            store_id=profile.store_id,
            issued_on=command.on,
            period=period,
            plan=PLANS[profile.plan],
            issuer=command.issuer,
            recipient=profile.recipient,
        )
        document = licence_invoice_document(invoice)
        account = InvoiceAccount(account_id, invoice, pdf_sha256=hashlib.sha256(document).hexdigest())
        writes = Writes(SYSTEM)
        writes.licence_invoice(account, pdf=document)
        writes.mail(issued_mail(mail_id, account, profile, document, pay_link(command.portal_url, account)))
        return Plan(account, now, SYSTEM, [JournalEvent.of(issued_event(account))], writes)

    try:
        return uow.commit(PLATFORM, build).result
    except AlreadyWritten:  # another run issued it meanwhile
        return None


def issued_event(account: InvoiceAccount) -> LicenceInvoiceIssued:
    invoice = account.invoice
    return LicenceInvoiceIssued(
        invoice_id=account.id,
        number=invoice.number,
        store_id=invoice.store_id,
        period=invoice.period.label,
        plan=invoice.plan.id,
        net=invoice.net,
        vat=invoice.vat,
        gross=invoice.gross,
        due_on=invoice.due_on.isoformat(),
        einvoice=needs_einvoice(invoice),
        pdf_sha256=account.pdf_sha256,
    )


def issued_mail(mail_id: str, account: InvoiceAccount, profile: BillingProfile, document: bytes, link: str) -> Mail:
    invoice = account.invoice
    paying = (
        f"Der Betrag wird von Ihrer hinterlegten Karte ({profile.card.brand} •••• {profile.card.last4}) eingezogen."
        if profile.card
        else f"Bitte bezahlen Sie bis zum {german_date(invoice.due_on)} im Kundenportal:\n{link}"
    )
    text = (
        f"Guten Tag,\n\nanbei Ihre Rechnung {invoice.number} für {invoice.service} "
        f"über {euros(invoice.gross)}.\n\n{paying}\n"
    )
    attachment = Attachment(f"{invoice.number}.pdf", "application/pdf", document)
    return Mail(mail_id, profile.billing_email, f"Rechnung {invoice.number}", text, attachments=(attachment,))


def charge_saved_card(account: InvoiceAccount, profile: BillingProfile, portal_url: str, uow: BillingUnitOfWork) -> str:
    """One try of the saved card: the invoice paid, or the failure journaled and mailed."""
    card, attempt = profile.card, account.charge_attempts + 1
    outcome = uow.stripe_billing.charge_off_session(
        customer_id=card.customer_id,
        payment_method_id=card.payment_method_id,
        amount=account.invoice.gross,
        currency=account.invoice.currency,
        invoice_id=account.id,
        idempotency_key=f"{account.id}-charge-{attempt}",
    )
    if outcome.status == "succeeded":
        mark_paid(account.id, "card_on_file", outcome.payment_intent_id or "", account.invoice.gross, uow)
        return outcome.status
    record_failed_charge(account.id, outcome.status, profile, portal_url, uow)
    return outcome.status


def record_failed_charge(
    account_id: str, reason: str, profile: BillingProfile, portal_url: str, uow: BillingUnitOfWork
) -> None:
    now, mail_id = uow.now(), uow.new_id("mail")

    def build(_claims: Claims) -> Plan[None]:
        account, version = uow.licence_invoices.get(account_id)
        failed = account.charge_failed()
        writes = Writes(SYSTEM)
        writes.licence_invoice(failed, version)
        writes.mail(failed_mail(mail_id, failed, reason, profile, pay_link(portal_url, failed)))
        event = LicenceInvoicePaymentFailed(
            invoice_id=failed.id,
            number=failed.invoice.number,
            method="card_on_file",
            reason=reason,
            attempt=failed.charge_attempts,
            next_attempt_on=failed.next_charge_on.isoformat() if failed.next_charge_on else None,
        )
        return Plan(None, now, SYSTEM, [JournalEvent.of(event)], writes)

    uow.commit(PLATFORM, build)


def failed_mail(mail_id: str, account: InvoiceAccount, reason: str, profile: BillingProfile, link: str) -> Mail:
    invoice = account.invoice
    why = (
        "Ihre Bank möchte die Zahlung von Ihnen bestätigen lassen."
        if reason == "authentication_required"
        else "Ihre Bank hat die Zahlung abgelehnt."
    )
    retry = (
        f"Wir versuchen es am {german_date(account.next_charge_on)} erneut."
        if account.next_charge_on
        else "Wir versuchen es nicht erneut."
    )
    text = (
        f"Guten Tag,\n\ndie Lizenzgebühr der Rechnung {invoice.number} über {euros(invoice.gross)} konnte nicht "
        f"von Ihrer Karte eingezogen werden. {why} {retry}\n\nSie können die Rechnung jetzt im Kundenportal "
        f"bezahlen:\n{link}\n\nIhr Geschäft nimmt weiter Bestellungen an.\n"
    )
    return Mail(mail_id, profile.billing_email, f"Zahlung fehlgeschlagen: Rechnung {invoice.number}", text)


def euros(cents: int) -> str:
    """`9401` as "94,01 €"."""
    return f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d} €"
