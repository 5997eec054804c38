"""Licence billing in the document store: `billing_profiles/{store}` (whom the platform bills and how),
`licence_invoices/{id}` (each invoice and its payment) and `licence_invoice_files/{id}` (its PDF as
issued, created with it)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from ..domain.licence_billing import BillingProfile, InvoiceAccount, SavedCard
from ..domain.licence_invoices import LicenceInvoice, Party, Period, Plan
from ..services.documents import Documents


def billing_profile_path(store_id: str) -> str:
    return f"billing_profiles/{store_id}"


def licence_invoice_path(invoice_id: str) -> str:
    return f"licence_invoices/{invoice_id}"


def licence_pdf_path(invoice_id: str) -> str:
    return f"licence_invoice_files/{invoice_id}"


def party_to_doc(party: Party) -> dict[str, Any]:
    return {
        "name": party.name,
        "street": party.street,
        "postal_code": party.postal_code,
        "city": party.city,
        "country": party.country,
        "tax_number": party.tax_number,
        "vat_id": party.vat_id,
        "email": party.email,
    }


def party_from_doc(doc: dict[str, Any]) -> Party:
    return Party(**doc)


def profile_to_doc(profile: BillingProfile) -> dict[str, Any]:
    card = profile.card
    return {
        "store_id": profile.store_id,
        "plan": profile.plan,
        "recipient": party_to_doc(profile.recipient),
        "billing_email": profile.billing_email,
        "stripe_customer": profile.stripe_customer,
        "card": None if card is None else asdict(card),
        "card_setup": profile.card_setup,
    }


def profile_from_doc(doc: dict[str, Any]) -> BillingProfile:
    card = doc.get("card")
    return BillingProfile(
        doc["store_id"],
        doc["plan"],
        party_from_doc(doc["recipient"]),
        doc["billing_email"],
        doc.get("stripe_customer"),
        SavedCard(**card) if card else None,
        doc.get("card_setup"),
    )


def invoice_account_to_doc(account: InvoiceAccount) -> dict[str, Any]:
    invoice = account.invoice
    return {
        "store_id": invoice.store_id,
        "number": invoice.number,
        "issued_on": invoice.issued_on.isoformat(),
        "due_on": invoice.due_on.isoformat(),
        "period": invoice.period.label,
        "plan": {"id": invoice.plan.id, "name": invoice.plan.name, "monthly_net": invoice.plan.monthly_net},
        "issuer": party_to_doc(invoice.issuer),
        "recipient": party_to_doc(invoice.recipient),
        "net": invoice.net,
        "vat_rate": invoice.vat_rate,
        "vat": invoice.vat,
        "gross": invoice.gross,
        "currency": invoice.currency,
        "status": account.status,
        "paid_at": account.paid_at,
        "paid_with": account.paid_with,
        "payment_reference": account.payment_reference,
        "charge_attempts": account.charge_attempts,
        "next_charge_on": account.next_charge_on.isoformat() if account.next_charge_on else None,
        "checkouts": account.checkouts,
        "pdf_sha256": account.pdf_sha256,
    }


def account_from_doc(invoice_id: str, doc: dict[str, Any]) -> InvoiceAccount:
    year, month = (int(part) for part in doc["period"].split("-"))
    invoice = LicenceInvoice(
        number=doc["number"],
        store_id=doc["store_id"],
        issued_on=date.fromisoformat(doc["issued_on"]),
        due_on=date.fromisoformat(doc["due_on"]),
        period=Period(year, month),
        plan=Plan(**doc["plan"]),  # as billed then, whatever the plan costs now
        issuer=party_from_doc(doc["issuer"]),
        recipient=party_from_doc(doc["recipient"]),
        net=doc["net"],
        vat_rate=doc["vat_rate"],
        vat=doc["vat"],
        gross=doc["gross"],
        currency=doc["currency"],
    )
    next_on = doc.get("next_charge_on")
    return InvoiceAccount(
        invoice_id,
        invoice,
        doc["status"],
        doc.get("paid_at"),
        doc.get("paid_with"),
        doc.get("payment_reference"),
        doc.get("charge_attempts", 0),
        date.fromisoformat(next_on) if next_on else None,
        dict(doc.get("checkouts") or {}),
        doc.get("pdf_sha256", ""),
    )


class DocumentBillingProfiles:
    def __init__(self, docs: Documents):
        self._docs = docs

    def get(self, store_id: str) -> tuple[BillingProfile, Any] | None:
        doc = self._docs.get(billing_profile_path(store_id))
        return (profile_from_doc(doc.data), doc.version) if doc else None


class DocumentLicenceInvoices:
    def __init__(self, docs: Documents):
        self._docs = docs

    def get(self, invoice_id: str) -> tuple[InvoiceAccount, Any] | None:
        doc = self._docs.get(licence_invoice_path(invoice_id))
        return (account_from_doc(doc.id, doc.data), doc.version) if doc else None

    def of_store(self, store_id: str) -> list[InvoiceAccount]:
        found = self._docs.query("licence_invoices", where=[("store_id", "==", store_id)])
        accounts = [account_from_doc(doc.id, doc.data) for doc in found]
        return sorted(accounts, key=lambda account: account.invoice.number, reverse=True)

    def pdf(self, invoice_id: str) -> bytes | None:
        doc = self._docs.get(licence_pdf_path(invoice_id))
        return doc.data["pdf"] if doc else None
