"""What the licence billing use cases read through (adapters/billing_store.py implements it), and
the unit of work as they see it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .membership_ports import PortalUnitOfWork

if TYPE_CHECKING:
    from ..domain.licence_billing import BillingProfile, InvoiceAccount
    from .billing_ports import StripeBillingPort
    from .paypal_ports import PayPal


class BillingProfiles(Protocol):
    def get(self, store_id: str) -> tuple[BillingProfile, Any] | None:
        """The store's profile and the version read."""


class LicenceInvoices(Protocol):
    def get(self, invoice_id: str) -> tuple[InvoiceAccount, Any] | None: ...

    def of_store(self, store_id: str) -> list[InvoiceAccount]:
        """Newest first."""

    def pdf(self, invoice_id: str) -> bytes | None:
        """The invoice's document as issued."""


class BillingUnitOfWork(PortalUnitOfWork, Protocol):
    billing_profiles: BillingProfiles
    licence_invoices: LicenceInvoices
    stripe_billing: StripeBillingPort
    paypal: PayPal
