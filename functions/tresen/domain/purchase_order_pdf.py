"""A purchase order as the PDF its supplier gets, in German: the store's name and address, the
supplier, the store's customer number there, the order's date and number, and each line's product
name, quantity and unit.

Drawn with the receipt's page (`receipt_pdf`: the masthead, the page count at the foot of a
document that runs to more pages) from the Z-report's blocks (`zreport_pdf`: embedded fonts,
fields, tables). The output is deterministic (its date is the order's own), so the PDF downloaded
later is the one mailed, as long as the store's name and address are unchanged.
"""

from __future__ import annotations

from .catalog import Store
from .licence_invoices import german_date
from .purchase_orders import PurchaseOrder
from .receipt_pdf import _masthead, _render
from .zreport_pdf import SANS, SMALL, TEXT, Column, Table, ZReportPDF

ARTICLE, ITEM = Column("Artikelnummer", 34, "L"), Column("Bezeichnung", 92, "L")
UNIT = Column("Einheit", 17, "L")
LINE_COLUMNS = (
    Column("Pos.", 12, "L"),
    ARTICLE,
    ITEM,
    Column("Menge", 20),
    Column("", 3),  # between the quantity flush right and its unit flush left
    UNIT,
)


def purchase_order_filename(order: PurchaseOrder, extension: str) -> str:
    return f"Bestellung {order.number}.{extension}"


def purchase_order_pdf(store: Store, order: PurchaseOrder) -> bytes:
    def draw(pdf: ZReportPDF) -> None:
        _masthead(pdf, store, "Bestellung", f"Nr. {order.number}")
        supplier = order.supplier
        pdf.fields(
            [
                ("Bestellnummer", order.number),
                ("Bestelldatum", german_date(store.local(order.created_at).date())),
                ("Lieferant", supplier.name),
                ("E-Mail", supplier.email),
                *([("Unsere Kundennummer", supplier.customer_number)] if supplier.customer_number else []),
                *([("Lieferanschrift", ", ".join(store.address))] if store.address else []),
            ]
        )
        pdf.ln(3)
        _lines(pdf, order)
        pdf.ln(3)
        pdf.paragraph(f"Artikelnummer: die Nummer des Artikels bei {store.name}.", SMALL)

    return _render(store, f"Bestellung {order.number}", order.created_at, draw)


def _lines(pdf: ZReportPDF, order: PurchaseOrder) -> None:
    pdf.set_font(SANS, "", TEXT)
    rows = [
        (
            str(line.line),
            pdf.fit(line.product_id or "", ARTICLE.width - 2),
            pdf.fit(line.name, ITEM.width - 2),
            str(line.quantity),
            "",
            pdf.fit(line.unit, UNIT.width),
        )
        for line in order.lines
    ]
    pdf.table(Table(LINE_COLUMNS, rows, titles=True))
