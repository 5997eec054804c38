"""Receipts for the holder of an order's token: the receipt of an invoiced order, and the correction
receipt of each refund that succeeded — the very documents mailed (services/receipt_mail.py), made
again from the order, its refund and the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.errors import DomainError
from .order_ports import OrderUnitOfWork, catalog_or_404
from .order_views import customer_order
from .receipt_mail import correction_attachment, corrects_an_invoice, receipt_attachment

if TYPE_CHECKING:
    from ..domain.mail import Attachment


def receipt(uow: OrderUnitOfWork, order_id: str, token: str | None) -> Attachment:
    """`order_not_paid` until the order has its invoice number (an online order not paid yet)."""
    order = customer_order(uow, order_id, token)
    if order.invoice_number is None:
        raise DomainError("order_not_paid", f"Order {order.id} has no receipt until it is paid.")
    store, _ = catalog_or_404(uow, order.store_id)
    return receipt_attachment(store, order)


def correction(uow: OrderUnitOfWork, order_id: str, refund_id: str, token: str | None) -> Attachment:
    """`not_found` for a refund of another order, one not succeeded (yet), or one correcting no invoice."""
    order = customer_order(uow, order_id, token)
    found = uow.refunds.read(refund_id)
    refund = found[0] if found else None
    corrected = refund is not None and refund.order_id == order.id and refund.status == "succeeded"
    if not (corrected and corrects_an_invoice(order, refund)):
        raise DomainError("not_found", "This order has no correction receipt for this refund.")
    store, _ = catalog_or_404(uow, order.store_id)
    return correction_attachment(store, order, refund)
