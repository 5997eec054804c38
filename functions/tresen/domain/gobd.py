"""The GoBD data export ("Datenträgerüberlassung", Z3): Tresen's own records as CSV files, each
described in an `index.xml` per the GDPdU description standard (DTD `gdpdu-01-09-2004.dtd`,
shipped beside it), which auditors' tools (IDEA, AIS TaxAudit) import as is.

The description is generated from the same column definitions the CSVs are written from
(`export_columns.RECORD_COLUMNS`), so it always says exactly what lies beside it: integers are
`Numeric` (amounts in cents, as in every export of Tresen: no rounding, no decimal separator to
misread), days `Date` as `YYYY-MM-DD`, the rest `AlphaNumeric` (times as RFC 3339 text with their
offset, which GDPdU's date formats cannot express).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import date

from .export_columns import DAY_COLUMNS, RECORD_COLUMNS

TABLES = ("journal", "orders", "order-lines", "payments", "refunds", "giftcard-activities", "closings", "payouts")
DESCRIPTIONS = {
    "journal": "Journal: jedes Geschäftsereignis, unveränderlich verkettet (seq, Hash des Vorgängers)",
    "orders": "Bestellungen mit Summen je Steuersatz (Beträge in Cent)",
    "order-lines": "Bestellpositionen (Beträge in Cent)",
    "payments": "Zahlungen über Zahlungsdienstleister (Beträge in Cent)",
    "refunds": "Erstattungen mit Aufteilung je Steuersatz (Beträge in Cent)",
    "giftcard-activities": "Gutschein-Konto: jede Buchung eines Gutscheins (Beträge in Cent)",
    "closings": "Kassenabschlüsse (Z-Berichte, Beträge in Cent)",
    "payouts": "Auszahlungen der Zahlungsdienstleister (Beträge in Cent)",
}
PRIMARY_KEYS = {
    "journal": ("seq",),
    "orders": ("id",),
    "order-lines": ("order_id", "line_id"),
    "payments": ("id",),
    "refunds": ("id",),
    "giftcard-activities": ("card_id", "n"),
    "closings": ("z_number",),
    "payouts": ("provider", "payout_id"),
}
DTD_NAME = "gdpdu-01-09-2004.dtd"
RECORD_DELIMITER = "\r\n"


def file_name(table: str) -> str:
    return f"{table}.csv"


def index_xml(supplier: str, location: str, first: date, last: date, tables: Iterable[str] = TABLES) -> bytes:
    root = ET.Element("DataSet")
    ET.SubElement(root, "Version").text = "1.0"
    who = ET.SubElement(root, "DataSupplier")
    ET.SubElement(who, "Name").text = supplier
    ET.SubElement(who, "Location").text = location
    ET.SubElement(who, "Comment").text = "GoBD-Datenexport (Z3) aus Tresen"
    media = ET.SubElement(root, "Media")
    ET.SubElement(media, "Name").text = "Tresen-Datenexport"
    for table in tables:
        media.append(table_element(table, first, last))
    ET.indent(root)
    # a CR in text must be a character reference, or every XML parser reads it as a plain LF
    body = ET.tostring(root, encoding="unicode").replace(RECORD_DELIMITER, "&#xD;&#xA;")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE DataSet SYSTEM "{DTD_NAME}">\n{body}\n'.encode()


def table_element(table: str, first: date, last: date) -> ET.Element:
    element = ET.Element("Table")
    ET.SubElement(element, "URL").text = file_name(table)
    ET.SubElement(element, "Name").text = table
    ET.SubElement(element, "Description").text = DESCRIPTIONS[table]
    validity = ET.SubElement(element, "Validity")
    period = ET.SubElement(validity, "Range")
    ET.SubElement(period, "From").text = first.strftime("%d.%m.%Y")
    ET.SubElement(period, "To").text = last.strftime("%d.%m.%Y")
    ET.SubElement(validity, "Format").text = "DD.MM.YYYY"
    ET.SubElement(element, "UTF8")
    ET.SubElement(element, "DecimalSymbol").text = ","
    ET.SubElement(element, "DigitGroupingSymbol").text = "."
    ET.SubElement(ET.SubElement(element, "Range"), "From").text = "2"  # line 1 is the header
    layout = ET.SubElement(element, "VariableLength")
    ET.SubElement(layout, "ColumnDelimiter").text = ","
    ET.SubElement(layout, "RecordDelimiter").text = RECORD_DELIMITER
    ET.SubElement(layout, "TextEncapsulator").text = '"'
    columns = RECORD_COLUMNS[table]
    for name in column_order(table):
        column = ET.SubElement(layout, "VariablePrimaryKey" if name in PRIMARY_KEYS[table] else "VariableColumn")
        ET.SubElement(column, "Name").text = name
        kind = columns[name]
        if name in DAY_COLUMNS:
            ET.SubElement(ET.SubElement(column, "Date"), "Format").text = "YYYY-MM-DD"
        elif kind is int:
            ET.SubElement(column, "Numeric")
        else:
            ET.SubElement(column, "AlphaNumeric")
    return element


def column_order(table: str) -> list[str]:
    """The CSV's columns: the primary key first (the DTD wants keys before columns), then the rest."""
    keys = PRIMARY_KEYS[table]
    return [*keys, *(name for name in RECORD_COLUMNS[table] if name not in keys)]
