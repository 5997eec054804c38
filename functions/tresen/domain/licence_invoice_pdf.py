"""A licence invoice as the page a merchant files: one A4 PDF in German, laid out like a German
business letter, with everything §14 (4) UStG asks for.

The letterhead names the platform; the address field (with the sender line above it, where a
window envelope shows it) names the merchant; beside it the invoice's number, date, period of
supply, due date and the merchant's VAT id. Then the one line billed, the net amount, 19 % VAT and
the gross amount, the payment terms, and the platform's address and tax numbers in the foot.

Built from the Z-report's blocks (`zreport_pdf`: embedded fonts, tables, euro formatting). The
PDF keeps to PDF/A-3B (fonts embedded, an sRGB output intent, XMP metadata), so the e-invoice
(`einvoice.with_einvoice`) can be attached to it as it is, and the page archives as it is too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time

from .licence_invoices import LicenceInvoice, Party, Period, german_date, needs_einvoice
from .zreport_pdf import MARGIN, MARGIN_Y, ROW, SANS, SMALL, TEXT, Column, Table, ZReportPDF, format_euro

PDFA = "PDF/A-3B"
ADDRESS_TOP = 45  # mm from the top of the page: the address field of DIN 5008 (form B)
ADDRESS_WIDTH = 85  # mm
TITLE_TOP = ADDRESS_TOP + 45  # mm: under the address field, which is 45 mm high
INFO_LEFT = 112  # mm from the left edge of the page: the information block beside the address
INFO_LABEL = 34  # mm
INFO_LINE = 4.4  # mm
FOOT_LINE = 3.2  # mm
FOOT_LINES = 3
ITEM_COLUMNS = (
    Column("Pos.", 12, "L"),
    Column("Leistung", 86, "L"),
    Column("Menge", 22),
    Column("Einzelpreis", 29),
    Column("Betrag", 29),
)
# the totals' labels under the quantity and unit price, their amounts under the line's amount
TOTALS_LEFT = ITEM_COLUMNS[0].width + ITEM_COLUMNS[1].width  # mm from the left margin
TOTALS_LABEL = ITEM_COLUMNS[2].width + ITEM_COLUMNS[3].width
TOTALS_AMOUNT = ITEM_COLUMNS[4].width


class LicenceInvoicePDF(ZReportPDF):
    """The Z-report's page with the issuer's address and tax numbers at the foot."""

    def __init__(self, issuer: Party) -> None:
        super().__init__("", pages=1, compliance=PDFA)
        self.issuer = issuer
        self.set_auto_page_break(True, margin=MARGIN_Y + FOOT_LINES * FOOT_LINE + 4)

    def footer(self) -> None:
        columns = _foot_columns(self.issuer)
        width = self.epw / len(columns)
        top = self.h - MARGIN_Y - FOOT_LINES * FOOT_LINE
        self.set_draw_color(160)
        self.set_line_width(0.2)
        self.line(self.l_margin, top - 2, self.w - self.r_margin, top - 2)
        self.set_font(SANS, "", SMALL - 0.5)
        self.set_text_color(90)
        for number, lines in enumerate(columns):
            for row, line in enumerate(lines):
                self.set_xy(self.l_margin + number * width, top + row * FOOT_LINE)
                self.cell(width, FOOT_LINE, self.fit(line, width - 2))
        self.set_text_color(0)
        self.set_draw_color(90)

    def address_field(self, sender: str, recipient: Sequence[str]) -> None:
        """The sender in small print over the recipient's address, where a window envelope shows them."""
        self.set_xy(self.l_margin, ADDRESS_TOP)
        self.set_font(SANS, "", SMALL - 0.5)
        self.set_text_color(90)
        self.cell(ADDRESS_WIDTH, 4, self.fit(sender, ADDRESS_WIDTH), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)
        self.ln(2)
        for line in recipient:
            self.set_font(SANS, "", TEXT + 1)
            self.cell(ADDRESS_WIDTH, 4.8, self.fit(line, ADDRESS_WIDTH), new_x="LMARGIN", new_y="NEXT")

    def information(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Labels and values beside the address field, at its height."""
        for row, (label, value) in enumerate(pairs):
            self.set_xy(INFO_LEFT, ADDRESS_TOP + row * INFO_LINE)
            self.set_font(SANS, "", TEXT)
            self.set_text_color(90)
            self.cell(INFO_LABEL, INFO_LINE, label)
            self.set_text_color(0)
            self.cell(self.w - self.r_margin - INFO_LEFT - INFO_LABEL, INFO_LINE, value)

    def totals(self, rows: Sequence[tuple[str, str]], total: tuple[str, str]) -> None:
        """Amounts under the table's last column, the total in bold under a rule."""
        left = self.l_margin + TOTALS_LEFT
        for label, amount in rows:
            self._total_row(left, label, amount, "")
        self.set_line_width(0.4)
        self.line(left, self.get_y() + 0.6, self.w - self.r_margin, self.get_y() + 0.6)
        self.ln(1.4)
        self._total_row(left, *total, "B")

    def _total_row(self, left: float, label: str, amount: str, style: str) -> None:
        self.set_x(left)
        self.set_font(SANS, style, TEXT)
        self.cell(TOTALS_LABEL, ROW, label)
        self.cell(TOTALS_AMOUNT, ROW, amount, align="R", new_x="LMARGIN", new_y="NEXT")


def invoice_pdf(invoice: LicenceInvoice) -> bytes:
    """The invoice as PDF bytes (PDF/A-3B, one page)."""
    issuer, recipient = invoice.issuer, invoice.recipient
    pdf = LicenceInvoicePDF(issuer)
    pdf.set_title(f"Rechnung {invoice.number}")
    pdf.set_subject(f"{invoice.service} für {recipient.name}")
    pdf.set_author(issuer.name)
    pdf.set_creator("Tresen")
    pdf.set_lang("de-DE")
    pdf.set_creation_date(datetime.combine(invoice.issued_on, time(), tzinfo=UTC))
    _letterhead(pdf, issuer)
    pdf.address_field(" · ".join((issuer.name, issuer.street, _city(issuer))), _address(recipient))
    pdf.information(_information(invoice))
    pdf.set_xy(MARGIN, TITLE_TOP)
    pdf.paragraph("Rechnung", 16, "B")
    pdf.ln(3)
    pdf.paragraph(f"Für die Nutzung von Tresen im {invoice.period.in_words} berechnen wir Ihnen:", TEXT)
    pdf.ln(6)
    _items(pdf, invoice)
    pdf.ln(8)
    pdf.paragraph(invoice.payment_terms, TEXT)
    if needs_einvoice(invoice):
        pdf.ln(2)
        pdf.paragraph(
            "Diese Rechnung ist eine E-Rechnung nach EN 16931 (ZUGFeRD/Factur-X): "
            "ihre Daten liegen dieser PDF-Datei als „factur-x.xml“ bei.",
            TEXT,
        )
    return bytes(pdf.output())


def _letterhead(pdf: LicenceInvoicePDF, issuer: Party) -> None:
    contact = [(line, TEXT, "") for line in (issuer.street, _city(issuer), issuer.email) if line]
    pdf.masthead([(issuer.name, 16, "B")], contact)
    pdf.ln(2)
    pdf.rule(0.4)


def _information(invoice: LicenceInvoice) -> list[tuple[str, str]]:
    pairs = [
        ("Rechnungsnummer", invoice.number),
        ("Rechnungsdatum", german_date(invoice.issued_on)),
        ("Leistungszeitraum", _days(invoice.period)),
        ("Fällig am", german_date(invoice.due_on)),
        ("Kundennummer", invoice.store_id),
    ]
    if invoice.recipient.vat_id:
        pairs.append(("Ihre USt-IdNr.", invoice.recipient.vat_id))
    return pairs


def _items(pdf: LicenceInvoicePDF, invoice: LicenceInvoice) -> None:
    net = format_euro(invoice.net)
    rows = [
        ("1", invoice.service, "1 Monat", net, net),
        ("", f"Leistungszeitraum {_days(invoice.period)}", "", "", ""),
    ]
    pdf.table(Table(ITEM_COLUMNS, rows, titles=True))
    pdf.ln(1)
    pdf.rule()
    pdf.ln(1.5)
    pdf.totals(
        [("Nettobetrag", net), (f"Umsatzsteuer {invoice.vat_rate} %", format_euro(invoice.vat))],
        ("Gesamtbetrag", format_euro(invoice.gross)),
    )


def _foot_columns(issuer: Party) -> list[list[str]]:
    """Who issues the invoice, how to reach it, and its tax numbers: three columns in the foot."""
    taxes = [f"Steuernummer {issuer.tax_number}"] if issuer.tax_number else []
    taxes += [f"USt-IdNr. {issuer.vat_id}"] if issuer.vat_id else []
    return [[issuer.name, issuer.street, _city(issuer)], [f"E-Mail {issuer.email}"] if issuer.email else [], taxes]


def _address(party: Party) -> list[str]:
    """A postal address; its country (ISO 3166 code) only when it is abroad, seen from Germany."""
    return [party.name, party.street, _city(party), *([party.country] if party.country != "DE" else [])]


def _days(period: Period) -> str:
    """The first to the last day of the month billed: "01.12.2026 – 31.12.2026"."""
    return f"{german_date(period.first_day)} – {german_date(period.last_day)}"


def _city(party: Party) -> str:
    return f"{party.postal_code} {party.city}"
