"""A statement (Abrechnung) as a PDF an accountant accepts: A4, German, the store's name and address,
the period, totals per VAT rate and payment method, the provider's side, the tie-out with the
closings, the payouts, what is not paid out or differs, and every payment and refund — the list's
column titles repeated on each page, "Seite n von N" at the foot of every page.

Built from the Z-report's blocks (`zreport_pdf`: fonts, tables, euro formatting). A statement of
tens of thousands of payments lists the first MAX_LISTED in the PDF and says where the rest are
(the CSV and JSON files beside it hold every line): nobody reads a thousand pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from .statements import CLAIMED_TWICE, NOT_PAID_OUT, OTHER_AMOUNT, REFUND_FAILED
from .zreport_pdf import (
    AMOUNT_COLUMNS,
    ROW,
    SANS,
    SMALL,
    TEXT,
    TITLES_ROW,
    Column,
    Table,
    ZReportPDF,
    by_method,
    format_euro,
    format_moment,
    parse_moment,
    vat_table,
)

LINE = 3.8  # mm, a row of the long lists (in small print)
MAX_LISTED = 2000  # payments (and as many refunds) listed in the PDF; the files hold all
GAP = Column("", 3)  # between an amount flush right and a text flush left
LINE_COLUMNS = (
    Column("Datum", 18, "L"),
    Column("Rechnung", 30, "L"),
    Column("Referenz des Anbieters", 50, "L"),
    Column("Betrag", 18),
    Column("Gebühr", 14),
    Column("Netto", 18),
    GAP,
    Column("Auszahlung", 27, "L"),
)
PAYOUT_COLUMNS = (
    Column("Auszahlung", 52, "L"),
    Column("Anbieter", 24, "L"),
    Column("Eingang", 24, "L"),
    Column("Posten", 16),
    Column("Gebühren", 26),
    Column("Betrag", 36),
)
ISSUE_COLUMNS = (
    Column("Art", 18, "L"),
    Column("Posten", 50, "L"),
    Column("Erwartet", 22),
    Column("Gemeldet", 22),
    GAP,
    Column("Grund", 63, "L"),
)
KINDS = {"payment": "Zahlung", "refund": "Erstattung"}
REASONS = {
    NOT_PAID_OUT: "noch nicht ausgezahlt",
    OTHER_AMOUNT: "Auszahlung meldet einen anderen Betrag",
    REFUND_FAILED: "Erstattung vom Anbieter rückgängig gemacht",
}


def format_date(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d.%m.%Y")
    except ValueError:
        return "—"


def money(value: Any) -> str:
    return "—" if value is None else format_euro(int(value))


class StatementPDF(ZReportPDF):
    """The Z-report's page with a footer that always numbers its pages (fpdf2 fills in `{nb}`)."""

    def footer(self) -> None:
        self.set_y(-self.b_margin + 5)
        self.set_font(SANS, "", SMALL)
        self.set_text_color(110)
        self.cell(self.epw * 0.75, 4, self.fit(self.footer_text, self.epw * 0.75 - 4))
        self.cell(0, 4, f"Seite {self.page_no()} von {{nb}}", align="R")
        self.set_text_color(0)

    def long_table(self, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
        """Rows (small print) under column titles that are repeated on every page they run onto."""
        self.titles(columns)
        self.set_font(SANS, "", SMALL)
        for row in rows:
            if self.will_page_break(LINE):
                self.add_page()
                self.titles(columns)
                self.set_font(SANS, "", SMALL)
            self._listed_row(columns, row)

    def _listed_row(self, columns: Sequence[Column], cells: Sequence[str]) -> None:
        """One row of a long list, each text placed where `cell` places it (a margin in from its
        column's edge, centred on the row), as plain text: thousands of rows cost a fifth."""
        baseline = self.y + 0.5 * LINE + 0.3 * self.font_size
        x = self.l_margin
        for column, text in zip(columns, cells, strict=True):
            if text:
                inset = (
                    column.width - self.c_margin - self.get_string_width(text) if column.align == "R" else self.c_margin
                )
                self.text(x + inset, baseline, text)
            x += column.width
        self.ln(LINE)

    def titles(self, columns: Sequence[Column]) -> None:
        self.set_text_color(110)
        self._row(columns, [column.title for column in columns], size=SMALL, height=TITLES_ROW)
        self.set_text_color(0)


def render_statement(statement: Mapping[str, Any]) -> bytes:
    store = statement.get("store") or {}
    period = f"{format_date(statement['from'])} – {format_date(statement['to'])}"
    name = str(store.get("name") or statement["store_id"])
    pdf = StatementPDF(f"Abrechnung {period} · {name}", pages=2)
    pdf.set_title(f"Abrechnung {period} – {name}")
    pdf.set_author(name)
    pdf.set_creator("Tresen")
    pdf.set_creation_date(parse_moment(statement.get("created_at")) or datetime(2000, 1, 1, tzinfo=UTC))
    _header(pdf, statement, store, name, period)
    _totals(pdf, statement)
    _closings(pdf, statement)
    _payouts(pdf, statement)
    _issues(pdf, "Nicht ausgezahlt", statement["unmatched"], expected="amount")
    _issues(pdf, "Abweichungen", statement["mismatched"], expected="expected")
    _lines(pdf, "Zahlungen", statement["payments"], "paid_at", "payment_id")
    _lines(pdf, "Erstattungen", statement["refunds"], "created_at", "provider_refund_id", sign=-1)
    return bytes(pdf.output())


def _header(pdf: StatementPDF, statement: Mapping, store: Mapping, name: str, period: str) -> None:
    address = [(line, TEXT, "") for line in store.get("address") or ()]
    pdf.masthead([(name, 16, "B"), *address], [("Abrechnung", 16, "B"), (f"Geschäftstage {period}", TEXT, "")])
    pdf.ln(4)
    pdf.fields(
        [
            ("Erstellt am", format_moment(statement.get("created_at"), store.get("timezone"))),
            ("Abrechnung", str(statement["id"])),
            ("Filiale", str(statement["store_id"])),
            ("Währung", str(statement.get("currency", "EUR"))),
        ]
    )


def _totals(pdf: StatementPDF, statement: Mapping) -> None:
    totals = statement["totals"]
    pdf.section("Umsatz nach Steuersatz", vat_table(totals["vat"], "Summe Umsatz"))
    payments = totals["payments"]
    total = ("Summe Zahlungen", "", format_euro(sum(int(amount) for amount in payments.values())))
    others = [
        ("Trinkgeld (für das Personal, kein Umsatz)", "", format_euro(totals["tips"])),
        ("Gutscheine verkauft (kein Umsatz)", "", format_euro(totals["giftcards_sold"])),
        ("Rückerstattungen", "", format_euro(totals["refunds"]["amount"])),
    ]
    pdf.section("Zahlungsarten", Table(AMOUNT_COLUMNS, by_method(payments), total), Table(AMOUNT_COLUMNS, others))
    provider = totals["provider"]
    rows = [
        ("Zahlungen über Zahlungsdienstleister", "", format_euro(provider["payments"])),
        ("Erstattungen", "", format_euro(-provider["refunds"])),
        ("Gebühren", "", format_euro(-provider["fees"])),
    ]
    after = [
        ("davon ausgezahlt", "", format_euro(provider["paid_out"])),
        ("davon noch nicht ausgezahlt", "", format_euro(provider["not_paid_out"])),
    ]
    pdf.section(
        "Zahlungsdienstleister",
        Table(AMOUNT_COLUMNS, rows, ("Netto", "", format_euro(provider["net"]))),
        Table(AMOUNT_COLUMNS, after),
    )


def _closings(pdf: StatementPDF, statement: Mapping) -> None:
    closings = statement["closings"]
    numbers = ", ".join(f"Z {z}" for z in closings["z_numbers"]) or "keine"
    if not closings["z_numbers"]:
        verdict = "Für diesen Zeitraum gibt es noch keinen Kassenabschluss."
    elif not closings["covered"]:
        verdict = "Die Abschlüsse decken den Zeitraum nicht vollständig ab (noch nicht abgeschlossene Einträge)."
    elif closings["ties_out"]:
        verdict = "Die Summen stimmen auf den Cent mit den Kassenabschlüssen überein."
    else:
        verdict = "Die Summen weichen von den Kassenabschlüssen ab."
    fields = [
        ("Kassenabschlüsse", numbers),
        ("Journal-Einträge", f"{closings['first_seq']} bis {closings['last_seq']}" if closings["z_numbers"] else "—"),
        ("Ergebnis", verdict),
    ]
    pdf.heading("Abgleich mit den Kassenabschlüssen", keep=pdf.fields_height(fields))
    pdf.fields(fields)


def _payouts(pdf: StatementPDF, statement: Mapping) -> None:
    rows = [
        (
            payout["payout_id"],
            payout["provider"],
            format_date(payout["arrival_date"]),
            str(payout["items"]),
            money(payout["fee"]),
            money(payout["amount"]),
        )
        for payout in statement["payouts"]
    ]
    pdf.heading("Auszahlungen", keep=TITLES_ROW + LINE * min(len(rows), 5))
    pdf.long_table(PAYOUT_COLUMNS, rows or [("keine", "", "", "", "", "")])


def _issues(pdf: StatementPDF, title: str, issues: Sequence[Mapping], expected: str) -> None:
    pdf.set_font(SANS, "", SMALL)  # what `fit` measures in
    rows = [
        (
            KINDS.get(issue["kind"], issue["kind"]),
            pdf.fit(str(issue["id"]), 44),
            money(issue.get(expected)),
            money(issue.get("reported")),
            "",
            pdf.fit(reason(issue["reason"]), 62),
        )
        for issue in issues[:MAX_LISTED]
    ]
    pdf.heading(f"{title} ({len(issues)})", keep=TITLES_ROW + LINE * min(len(rows), 5))
    pdf.long_table(ISSUE_COLUMNS, rows or [("keine", "", "", "", "", "")])


def reason(text: str) -> str:
    if text.startswith(CLAIMED_TWICE):
        return "von zwei Auszahlungen beansprucht" + text.removeprefix(CLAIMED_TWICE)
    return REASONS.get(text, text)


def _lines(pdf: StatementPDF, title: str, lines: Sequence[Mapping], at: str, reference: str, sign: int = 1) -> None:
    pdf.set_font(SANS, "", SMALL)  # what `fit` measures in
    rows = [
        (
            format_date(line[at]),
            pdf.fit(str(line.get("invoice_number") or "—"), 29),
            pdf.fit(str(line.get(reference) or "—"), 49),
            money(sign * line["amount"]),
            money(line.get("fee")),
            money(line.get("net")),
            "",
            pdf.fit(str(line.get("payout_id") or "noch offen"), 27),
        )
        for line in lines[:MAX_LISTED]
    ]
    pdf.heading(f"{title} ({len(lines)})", keep=TITLES_ROW + LINE * min(len(rows), 5))
    pdf.long_table(LINE_COLUMNS, rows or [("keine", "", "", "", "", "", "", "")])
    if len(lines) > MAX_LISTED:
        pdf.set_font(SANS, "", TEXT)
        pdf.cell(0, ROW, f"… und {len(lines) - MAX_LISTED} weitere: vollständig in der CSV- und JSON-Datei.")
        pdf.ln(ROW)
