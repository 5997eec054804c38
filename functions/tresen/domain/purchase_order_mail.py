"""The e-mail that sends a purchase order to its supplier, in German, with the order twice: as the
PDF a person reads (domain/purchase_order_pdf.py) and as a CSV a supplier's system imports.

The CSV is UTF-8 with a byte order mark (so that Excel reads the umlauts), `;`-separated, lines
ended by CRLF, a value quoted only where it holds a `;`, a quote or a line break: a header row
`Position;Artikelnummer;Bezeichnung;Menge;Einheit`, then a row per line. `Artikelnummer` is the
product's id in the store's catalog, empty for a free line.

The mail's id is derived from the order (`po-{order}`): the commit that creates the order makes it
due once, and every attempt to send it carries the same Message-ID.
"""

from __future__ import annotations

import csv
import io

from .catalog import Store
from .licence_invoices import german_date
from .mail import Attachment, Mail
from .purchase_order_pdf import purchase_order_filename, purchase_order_pdf
from .purchase_orders import PurchaseOrder

CSV_HEADER = ("Position", "Artikelnummer", "Bezeichnung", "Menge", "Einheit")
BYTE_ORDER_MARK = "\ufeff"


def purchase_order_csv(order: PurchaseOrder) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for line in order.lines:
        writer.writerow((line.line, line.product_id or "", line.name, line.quantity, line.unit))
    return (BYTE_ORDER_MARK + text.getvalue()).encode()


def purchase_order_mail(store: Store, order: PurchaseOrder) -> Mail:
    supplier = order.supplier
    customer = f" (Kundennummer {supplier.customer_number})" if supplier.customer_number else ""
    day = german_date(store.local(order.created_at).date())
    sender = "\n".join((store.name, *store.address))
    text = (
        f"Guten Tag,\n\nanbei erhalten Sie unsere Bestellung {order.number} vom {day}{customer} mit "
        f"{len(order.lines)} {'Position' if len(order.lines) == 1 else 'Positionen'}, als PDF und als "
        f"CSV-Datei.\n\nBitte liefern Sie an:\n{sender}\n\nMit freundlichen Grüßen\n{store.name}\n"
    )
    return Mail(
        id=f"po-{order.id}",
        to=supplier.email,
        subject=f"Bestellung {order.number} von {store.name}",
        text=text,
        attachments=(
            Attachment(purchase_order_filename(order, "pdf"), "application/pdf", purchase_order_pdf(store, order)),
            Attachment(purchase_order_filename(order, "csv"), "text/csv", purchase_order_csv(order)),
        ),
    )
