"""Receipts mailed to customers who asked for them (`receipt: "email"`): each committed into the mail
outbox with the change it documents, so it exists exactly when that change does.

- The receipt goes with the commit that gives the order its invoice number: an online order's
  payment, an order gift cards pay in full, an order placed to be paid at the counter.
- The correction receipt of a refund goes with the commit that records the refund succeeded, when
  the money is back: a refund paid out at the counter or onto gift cards at once, one through the
  provider when the provider reports it so. A refund that fails sends none.

Each mail's id is derived from what it documents (`rcpt-{order}`, `rcpt-{refund}`): one commit makes
it due, once, and every attempt to send it carries the same Message-ID, by which a receiver drops a
second delivery. The PDFs are rendered in the commit's build; fpdf is loaded with the first one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from ..config import settings
from ..domain.catalog import Store
from ..domain.orders import RECEIPT_BY_EMAIL, Order
from ..domain.refunds import Refund
from ..domain.tse import PENDING
from .order_ports import OrderUnitOfWork
from .unit_of_work import Writes

if TYPE_CHECKING:  # the mail types are loaded where a receipt is made, not by every cold start
    from ..domain.mail import Attachment, Mail

PDF = "application/pdf"


def mail_receipt(store: Store, order: Order, writes: Writes) -> None:
    """Into the outbox with this commit, if it gives `order` its invoice number: its receipt, if
    the customer asked for it. A sale taken on site waits for its TSE (services/tse.py mails it with
    the signature, or with the TSE's failure)."""
    if order.receipt == RECEIPT_BY_EMAIL and order.invoice_number is not None and order.tse_status != PENDING:
        writes.mail(receipt_mail(store, order))


def mail_correction(store: Store, order: Order, refund: Refund, writes: Writes) -> None:
    """Into the outbox with this commit, which records `refund` succeeded: its correction receipt,
    if the customer asked for receipts and the refund corrects an invoice."""
    if order.receipt == RECEIPT_BY_EMAIL and corrects_an_invoice(order, refund):
        writes.mail(correction_mail(store, order, refund))


def mail_correction_of(uow: OrderUnitOfWork, store_id: str, refund: Refund, writes: Writes) -> None:
    """`mail_correction` where only the refund is at hand (the provider reported it succeeded)."""
    order, _ = uow.orders.read_in_store(store_id, refund.order_id)
    if order.receipt == RECEIPT_BY_EMAIL:
        store, _ = uow.catalog.get(store_id)
        mail_correction(store, order, refund, writes)


def corrects_an_invoice(order: Order, refund: Refund) -> bool:
    """A refund of an order that was never invoiced (paid after it was closed) corrects nothing."""
    return order.invoice_number is not None and refund.amount > 0


def receipt_mail(store: Store, order: Order) -> Mail:
    from ..domain.zreport_pdf import format_euro

    return customer_mail(
        f"rcpt-{order.id}",
        store,
        order,
        f"Ihr Beleg {order.invoice_number} – {store.name}",
        f"vielen Dank für Ihre Bestellung bei {store.name}. Ihr Beleg {order.invoice_number} "
        f"über {format_euro(order.totals.total)} liegt dieser E-Mail als PDF bei.",
        receipt_attachment(store, order),
    )


def correction_mail(store: Store, order: Order, refund: Refund) -> Mail:
    from ..domain.zreport_pdf import format_euro

    return customer_mail(
        f"rcpt-{refund.id}",
        store,
        order,
        f"Rechnungskorrektur zu Ihrem Beleg {order.invoice_number} – {store.name}",
        f"{store.name} hat Ihnen {format_euro(refund.amount)} Ihrer Bestellung erstattet. Die "
        f"Rechnungskorrektur zu Ihrem Beleg {order.invoice_number} liegt dieser E-Mail als PDF bei.",
        correction_attachment(store, order, refund),
    )


def customer_mail(mail_id: str, store: Store, order: Order, subject: str, news: str, pdf: Attachment) -> Mail:
    """To the order's customer: what the mail is about, where the order is followed, who sends it."""
    from ..domain.mail import Mail

    page = order_page(order)
    follow = f"\nIhre Bestellung und den Nachweis, dass sie im Journal des Geschäfts steht:\n{page}\n" if page else ""
    sender = "\n".join((store.name, *store.address))
    text = f"Guten Tag {order.customer.name},\n\n{news}\n{follow}\n{sender}\n"
    return Mail(id=mail_id, to=order.customer.email, subject=subject, text=text, attachments=(pdf,))


def receipt_attachment(store: Store, order: Order) -> Attachment:
    """The receipt as mailed and as its customer downloads it."""
    from ..domain.mail import Attachment
    from ..domain.receipt_pdf import receipt_filename, receipt_pdf

    return Attachment(receipt_filename(order), PDF, receipt_pdf(store, order, order_page(order)))


def correction_attachment(store: Store, order: Order, refund: Refund) -> Attachment:
    from ..domain.mail import Attachment
    from ..domain.receipt_pdf import correction_filename, correction_pdf

    return Attachment(correction_filename(order, refund), PDF, correction_pdf(store, order, refund, order_page(order)))


def order_page(order: Order) -> str | None:
    """The ordering page showing this order, where its customer also checks its proof (the page
    keeps the order's token on the device it was ordered on); None where no page is configured."""
    base = settings().order_page_url
    return f"{base}?{urlencode({'store': order.store_id})}#order={order.id}" if base else None
