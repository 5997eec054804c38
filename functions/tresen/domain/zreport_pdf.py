"""A closing (Kassenabschluss) as a printable Z-report: one A4 portrait PDF, in German.

`render_zreport(closing, store)` only builds bytes: it reads nothing but the fonts shipped next to
it (`fonts/`, DejaVu subsets, see fonts/README.md — PDF's core fonts know no `€`) and writes
nothing. The figures are integer cents and print as `1.234,56 €`. The report is forgiving about
what it is given: a section, count or amount that is missing prints as 0 (a date as "—"), so an
empty or older closing still prints; only the section of failed refunds is left out when there
are none. The output is deterministic: the PDF's creation date is the
closing's own `closed_at`, not the time of rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from .closings import CARD_PRESENT, UNKNOWN_BRAND

FONTS = Path(__file__).with_name("fonts")
SANS, MONO = "DejaVuSans", "DejaVuSansMono"

PAYMENT_METHODS = {"on_site": "Bar", CARD_PRESENT: "Karte (Terminal)", "online": "Online", "giftcard": "Gutschein"}
# card brands as the journal names them (Stripe's names); another prints as it is named
CARD_BRANDS = {
    "amex": "American Express",
    "cartes_bancaires": "Cartes Bancaires",
    "diners": "Diners Club",
    "discover": "Discover",
    "eftpos_au": "eftpos",
    "girocard": "girocard",
    "interac": "Interac",
    "jcb": "JCB",
    "maestro": "Maestro",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
    UNKNOWN_BRAND: "Marke unbekannt",
}
ACTOR_TYPES = {"staff": "Mitarbeiter", "api_key": "API-Schlüssel", "system": "System"}
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
NONE = "—"
SUB = "\u2003"  # an em space before a "davon" row


# -- Formatting -------------------------------------------------------------------------------


def format_euro(cents: int) -> str:
    """Integer cents in German notation: `format_euro(123456) == "1.234,56 €"`."""
    euros, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    return f"{sign}{euros:,}".replace(",", ".") + f",{rest:02d} €"


def format_rate(rate: Any) -> str:
    """A VAT rate as the journal keeps it ("7", "19", "5.5") as a German percentage."""
    return f"{str(rate).replace('.', ',')} %"


def format_day(value: Any) -> str:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value) if value else NONE
    return f"{WEEKDAYS[day.weekday()]}, {day:%d.%m.%Y}"


def format_moment(value: Any, timezone: str | None) -> str:
    """An ISO timestamp in the store's local time; a time without offset is taken as UTC."""
    moment = parse_moment(value)
    if moment is None:
        return str(value) if value else NONE
    try:
        zone_name = timezone or "Europe/Berlin"
        local, zone = moment.astimezone(ZoneInfo(zone_name)), zone_name
    except (ZoneInfoNotFoundError, ValueError):  # an unknown zone: the time as it was written
        offset = int(moment.utcoffset().total_seconds()) // 60
        local, zone = moment, f"UTC{'-' if offset < 0 else '+'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    return f"{local:%d.%m.%Y, %H:%M:%S} Uhr ({zone})"


def format_actor(actor: Any) -> str:
    """Who closed the till: `{"type": "staff", "uid": "u1", "role": "supervisor"}` → "Mitarbeiter u1 (supervisor)"."""
    if not isinstance(actor, Mapping):
        return NONE
    kind = actor.get("type")
    who = actor.get("uid") or actor.get("key_id") or actor.get("job")
    name = " ".join(str(part) for part in (ACTOR_TYPES.get(kind, kind), who) if part)
    role = actor.get("role")
    return f"{name} ({role})" if role else (name or NONE)


# -- Reading a closing that may lack parts ----------------------------------------------------


def parse_moment(value: Any) -> datetime | None:
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _section(data: Any, key: str) -> Mapping[str, Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _rows(value: Any) -> list[Mapping[str, Any]]:
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return NONE if value is None or value == "" else str(value)


def _title(closing: Mapping[str, Any]) -> str:
    return f"Z-Bericht Nr. {_text(closing.get('z_number'))}"


def _store_name(closing: Mapping[str, Any], store: Mapping[str, Any]) -> str:
    return _text(store.get("name") or store.get("id") or closing.get("store_id"))


# -- Layout -------------------------------------------------------------------------------------

MARGIN = 16  # mm, left and right; A4 leaves 178 mm for the text
MARGIN_Y = 14  # mm, top and bottom; the page numbers, if any, go into the bottom one
ROW = 4.6  # mm, height of a table row
TEXT = 9  # pt, the body text
SMALL = 7.5  # pt, column titles and the page footer
HEADING_SIZE = 11  # pt, section titles
HEADING = 6  # mm, height of a section title's line
TITLES_ROW = 4  # mm, height of a row of column titles
SECTION_GAP = 2.5  # mm
TABLE_GAP = 1.5  # mm, between two tables of a section
KEEP_TOGETHER = 80  # mm: a section up to this height is not split across pages
FIELD_GAP = 0.5  # mm
LABEL_WIDTH = 42  # mm, the label column of the header fields and of the verification data


@dataclass(frozen=True)
class Column:
    title: str
    width: float  # mm
    align: str = "R"


@dataclass(frozen=True)
class Table:
    """Rows under columns, with the column titles above them if `titles`, and a bold total under a
    rule if there is one."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]
    total: Sequence[str] | None = None
    titles: bool = False

    @property
    def height(self) -> float:
        return len(self.rows) * ROW + (TITLES_ROW if self.titles else 0) + (ROW + 1 if self.total else 0)


# Label, count, amount: the columns of most sections, so that their counts and amounts line up.
ITEM_COLUMNS = (Column("", 98, "L"), Column("Anzahl", 30), Column("Betrag", 50))
AMOUNT_COLUMNS = (ITEM_COLUMNS[0], Column("", 30), ITEM_COLUMNS[2])  # the same, without counts
COUNT_COLUMNS = ITEM_COLUMNS[:2]  # the same, without amounts
VAT_COLUMNS = (Column("Steuersatz", 58, "L"), Column("Netto", 40), Column("USt", 40), Column("Brutto", 40))


class ZReportPDF(FPDF):
    """FPDF with the few building blocks a Z-report is made of. `pages` is how many pages the report
    runs to (known after a first rendering): if more than one, each page says which it is.
    `compliance` names a PDF/A level the document keeps to ("PDF/A-3B"), if any."""

    def __init__(self, footer_text: str, pages: int, compliance: str | None = None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4", enforce_compliance=compliance)
        self.footer_text, self.page_total = footer_text, pages
        self.set_margins(MARGIN, MARGIN_Y, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN_Y)
        self.add_font(SANS, "", FONTS / "DejaVuSans.ttf")
        self.add_font(SANS, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.add_font(MONO, "", FONTS / "DejaVuSansMono.ttf")
        self.set_draw_color(90)
        self.c_margin = 0  # text flush with the margins and the rules
        self.add_page()

    def footer(self) -> None:
        if self.page_total < 2:
            return
        self.set_y(-MARGIN_Y + 5)
        self.set_font(SANS, "", SMALL)
        self.set_text_color(110)
        self.cell(self.epw * 0.75, 4, self.fit(self.footer_text, self.epw * 0.75 - 4))
        self.cell(0, 4, f"Seite {self.page_no()} von {self.page_total}", align="R")
        self.set_text_color(0)

    def fit(self, text: str, width: float) -> str:
        """`text`, shortened with "…" to fit `width` in the current font."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "…") > width:
            text = text[:-1]
        return text.rstrip() + "…"

    def string_width(self, text: str, size: float, style: str = "") -> float:
        self.set_font(SANS, style, size)
        return self.get_string_width(text)

    def rule(self, width: float = 0.2) -> None:
        self.set_line_width(width)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())

    def paragraph(self, text: str, size: float, style: str = "", width: float = 0, align: str = "L") -> None:
        self.set_font(SANS, style, size)
        self.multi_cell(width, size * 0.45, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def masthead(self, left: Sequence[tuple[str, float, str]], right: Sequence[tuple[str, float, str]]) -> None:
        """Lines of (text, size, style) on the left, and others beside them flush right."""
        top = self.get_y()
        right_width = max((self.string_width(text, size, style) for text, size, style in right), default=0)
        for text, size, style in left:
            self.paragraph(text, size, style, width=self.epw - right_width - 8)
        bottom = self.get_y()
        self.set_y(top)
        for text, size, style in right:
            self.paragraph(text, size, style, align="R")
        self.set_y(max(bottom, self.get_y()))

    def heading(self, title: str, columns: Sequence[Column] = (), keep: float = 2 * ROW) -> None:
        """A section title over a rule, with the titles of its table's columns (but the first) on
        its line, kept on one page with what follows up to a height of `keep`."""
        if self.will_page_break(SECTION_GAP + HEADING + 1 + keep):
            self.add_page()
        else:
            self.ln(SECTION_GAP)
        top = self.get_y()
        if columns:
            # on the title's baseline: a cell puts the baseline 0.3 font sizes below its middle
            self.set_y(top + 0.3 * (HEADING_SIZE - SMALL) / self.k)
            self.set_text_color(110)
            self._row(columns, ["", *(column.title for column in columns[1:])], size=SMALL, height=HEADING)
            self.set_text_color(0)
            self.set_y(top)
        self.set_font(SANS, "B", HEADING_SIZE)
        self.cell(0, HEADING, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.rule(0.4)
        self.ln(0.8)

    def section(self, title: str, *tables: Table) -> None:
        """A section: its title with the column titles of its first table, and its tables, all on one
        page unless that is more than KEEP_TOGETHER."""
        height = sum(table.height for table in tables) + TABLE_GAP * (len(tables) - 1)
        self.heading(title, tables[0].columns, keep=min(height, KEEP_TOGETHER))
        for number, table in enumerate(tables):
            if number:
                self.ln(TABLE_GAP)
            self.table(table)

    def table(self, table: Table) -> None:
        if table.titles:
            self.set_text_color(110)
            self._row(table.columns, [column.title for column in table.columns], size=SMALL, height=TITLES_ROW)
            self.set_text_color(0)
        for row in table.rows:
            self._row(table.columns, row)
        if table.total is not None:
            self.ln(0.5)
            self.rule()
            self.ln(0.5)
            self._row(table.columns, table.total, style="B")

    def _row(
        self, columns: Sequence[Column], cells: Sequence[str], style: str = "", size: float = TEXT, height: float = ROW
    ) -> None:
        if self.will_page_break(height):
            self.add_page()
        self.set_font(SANS, style, size)
        for column, text in zip(columns, cells, strict=True):
            self.cell(column.width, height, text, align=column.align)
        self.ln(height)

    def fields(self, pairs: Iterable[tuple[str, str]], size: float = TEXT, mono: bool = False) -> None:
        """Label and value lines; a value too long for its line wraps under itself, anywhere if `mono`
        (hashes and base64 have no spaces to break at)."""
        for label, value in pairs:
            height = self._field(value, size, mono, dry_run=True)
            if self.will_page_break(height):
                self.add_page()
            self.set_font(SANS, "", size)
            self.set_text_color(90)
            self.cell(LABEL_WIDTH, size * 0.46, label)
            self.set_text_color(0)
            self._field(value, size, mono)

    def fields_height(self, pairs: Iterable[tuple[str, str]], size: float = TEXT, mono: bool = False) -> float:
        return sum(self._field(value, size, mono, dry_run=True) for _, value in pairs)

    def _field(self, value: str, size: float, mono: bool, dry_run: bool = False) -> float:
        """Writes a field's value at the cursor (or, if `dry_run`, only measures it): its height."""
        self.set_font(MONO if mono else SANS, "", size - 0.5 if mono else size)
        wrap = WrapMode.CHAR if mono else WrapMode.WORD
        lines = self.multi_cell(
            self.epw - LABEL_WIDTH,
            size * 0.46,
            value,
            wrapmode=wrap,
            dry_run=dry_run,
            output="HEIGHT",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        if not dry_run:
            self.ln(FIELD_GAP)
        return lines + FIELD_GAP


# -- The report ---------------------------------------------------------------------------------


def render_zreport(closing: Mapping[str, Any], store: Mapping[str, Any]) -> bytes:
    """The Z-report of `closing` for `store` (name, optional address, timezone) as PDF bytes."""
    pdf = _report(closing, store, pages=1)
    if pdf.pages_count > 1:  # again, now that the page count is known for the page footers
        pdf = _report(closing, store, pages=pdf.pages_count)
    return bytes(pdf.output())


def _report(closing: Mapping[str, Any], store: Mapping[str, Any], pages: int) -> ZReportPDF:
    title, store_name = _title(closing), _store_name(closing, store)
    pdf = ZReportPDF(f"{title} · {format_day(closing.get('business_day'))} · {store_name}", pages)
    pdf.set_title(f"{title} – {store_name}")
    pdf.set_author(store_name)
    pdf.set_creator("Tresen")
    pdf.set_creation_date(parse_moment(closing.get("closed_at")) or datetime(2000, 1, 1, tzinfo=UTC))
    sections = (
        _header,
        _sales,
        _payments,
        _tips,
        _refunds,
        _failed_refunds,
        _reductions,
        _giftcards,
        _counts,
        _verification,
    )
    for section in sections:
        section(pdf, closing, store)
    return pdf


def _header(pdf: ZReportPDF, closing: Mapping, store: Mapping) -> None:
    address = [(line, TEXT, "") for line in store.get("address") or ()]
    pdf.masthead(
        [(_store_name(closing, store), 16, "B"), *address],
        [
            (_title(closing), 16, "B"),
            (f"Kassenabschluss · Filiale {_text(closing.get('store_id') or store.get('id'))}", TEXT, ""),
        ],
    )
    pdf.ln(4)
    first, last = closing.get("first_seq"), closing.get("last_seq")
    pdf.fields(
        [
            ("Geschäftstag", format_day(closing.get("business_day"))),
            ("Abgeschlossen am", format_moment(closing.get("closed_at"), store.get("timezone"))),
            ("Zeitraum", f"Journal-Einträge {first} bis {last}" if None not in (first, last) else NONE),
            ("Abgeschlossen von", format_actor(closing.get("closed_by"))),
        ]
    )


def _amounts(figures: Mapping) -> tuple[int, int, int]:
    """Net, tax and gross of a VAT row or of their total (documents made before the tax was called
    `tax` call it `vat`)."""
    return _int(figures.get("net")), _int(figures.get("tax", figures.get("vat"))), _int(figures.get("gross"))


def vat_table(rates: Any, total_label: str, total: Mapping | None = None, titles: bool = False) -> Table:
    """Net, VAT and gross per rate, and their total (given, or else the sum of the rows)."""
    rows = _rows(rates)
    amounts = [_amounts(row) for row in rows]
    sums = _amounts(total) if total is not None else tuple(sum(row[part] for row in amounts) for part in range(3))
    rate_rows = [
        (format_rate(row.get("rate")), *map(format_euro, row_amounts))
        for row, row_amounts in zip(rows, amounts, strict=True)
    ]
    return Table(VAT_COLUMNS, rate_rows, (total_label, *map(format_euro, sums)), titles=titles)


def _sales(pdf: ZReportPDF, closing: Mapping, store: Mapping) -> None:
    pdf.section("Umsatz", vat_table(closing.get("vat"), "Summe Umsatz", _section(closing, "sales")))


def by_method(
    amounts: Mapping[str, Any], prefix: str = "", card_brands: Mapping[str, Any] | None = None
) -> list[tuple[str, str, str]]:
    """One row per payment method: the four known ones always and in their order, then any other;
    under the card payments at a terminal, a row per brand of `card_brands` with its count."""
    methods = [*PAYMENT_METHODS, *(method for method in amounts if method not in PAYMENT_METHODS)]
    rows = []
    for method in methods:
        rows.append((prefix + PAYMENT_METHODS.get(method, method), "", format_euro(_int(amounts.get(method)))))
        if method == CARD_PRESENT:
            brands = sorted((card_brands or {}).items(), key=lambda item: item[0] == UNKNOWN_BRAND)  # unknown last
            rows += [_brand_row(brand, paid) for brand, paid in brands]
    return rows


def _brand_row(brand: str, paid: Any) -> tuple[str, str, str]:
    paid = paid if isinstance(paid, Mapping) else {}
    label = f"{SUB}davon {CARD_BRANDS.get(brand, brand)}"
    return label, str(_int(paid.get("count"))), format_euro(_int(paid.get("amount")))


def _payments(pdf: ZReportPDF, closing: Mapping, store: Mapping) -> None:
    payments, brands = _section(closing, "payments"), _section(closing, "card_brands")
    total = ("Summe Zahlungen", "", format_euro(sum(_int(amount) for amount in payments.values())))
    columns = ITEM_COLUMNS if brands else AMOUNT_COLUMNS  # the brands' counts under their title
    pdf.section("Zahlungsarten", Table(columns, by_method(payments, card_brands=brands), total))


def _tips(pdf: ZReportPDF, closing: Mapping, store: Mapping) -> None:
    tips = ("Trinkgeld (für das Personal, kein Umsatz)", "", format_euro(_int(closing.get("tips"))))
    pdf.section("Trinkgeld", Table(AMOUNT_COLUMNS, [tips]))


def _counted(closing: Mapping, name: str, label: str) -> tuple[str, str, str]:
    """Count and amount of `closing[name]`, the count falling back to `closing["counts"][name]`."""
    section = _section(closing, name)
    count = section.get("count", _section(closing, "counts").get(name))
    return label, str(_int(count)), format_euro(_int(section.get("amount")))


def _refund_section(
    name: str, title: str, label: str, total_label: str, optional: bool = False
) -> Callable[[ZReportPDF, Mapping, Mapping], None]:
    """The section of `closing[name]`: count and amount, by each method that moved money, and per
    VAT rate; if `optional`, only when its count is not 0."""

    def section(pdf: ZReportPDF, closing: Mapping, store: Mapping) -> None:
        figures = _section(closing, name)
        if optional and not _int(figures.get("count")):
            return
        # the ways the money went, not the ways it did not: a day's report keeps to one page
        paid = by_method(_section(figures, "by_method"), SUB + "davon ")
        by_methods = [row for row in paid if row[2] != format_euro(0)]
        pdf.section(
            title,
            Table(ITEM_COLUMNS, [_counted(closing, name, label), *by_methods]),
            vat_table(figures.get("vat"), total_label, titles=True),
        )

    return section


_refunds = _refund_section("refunds", "Stornos/Rückerstattungen", "Rückerstattungen", "Summe Rückerstattungen")
# refunds the payment provider did not pay out after all, their money added back: rare, so the
# section is left out of the report of a day without any (which then fits one page)
_failed_refunds = _refund_section(
    "failed_refunds",
    "Fehlgeschlagene Rückerstattungen (zurückgebucht)",
    "Vom Zahlungsdienstleister nicht ausgezahlt",
    "Summe zurückgebucht",
    optional=True,
)


def _reductions(pdf: ZReportPDF, closing: Mapping, store: Mapping) -> None:
    rows = [_counted(closing, "voids", "Entwertungen (Voids)"), _counted(closing, "discounts", "Rabatte")]
    pdf.section("Entwertungen und Rabatte", Table(ITEM_COLUMNS, rows))


GIFTCARDS = (
    ("Verkauft (Mehrzweckgutscheine, kein Umsatz)", "giftcards_sold", "sold"),
    ("Eingelöst", "giftcards_redeemed", "redeemed"),
)


def _giftcards(pdf: ZReportPDF, closing: Mapping, store: Mapping) -> None:
    amounts, counts = _section(closing, "giftcards"), _section(closing, "counts")
    rows = [
        (label, str(_int(counts.get(count))), format_euro(_int(amounts.get(amount))))
        for label, count, amount in GIFTCARDS
    ]
    pdf.section("Gutscheine", Table(ITEM_COLUMNS, rows))


COUNTS = (
    ("orders_placed", "Bestellungen aufgegeben"),
    ("orders_on_site", SUB + "davon vor Ort"),
    ("sales", "Verkäufe"),
    ("canceled", "Storniert"),
    ("rejected", "Abgelehnt"),
)


def _counts(pdf: ZReportPDF, closing: Mapping, store: Mapping) -> None:
    counts = _section(closing, "counts")
    pdf.section("Bestellungen", Table(COUNT_COLUMNS, [(label, str(_int(counts.get(name)))) for name, label in COUNTS]))


def _verification(pdf: ZReportPDF, closing: Mapping, store: Mapping) -> None:
    """The signed checkpoint of the journal up to this closing, and the chain of closings."""
    checkpoint = _section(closing, "checkpoint")
    note = str(checkpoint.get("note") or "")
    signatures = [line for line in note.splitlines() if line.startswith("\u2014 ")]
    fields = [
        ("Origin", _text(checkpoint.get("origin"))),
        ("Größe (Einträge)", _text(checkpoint.get("size"))),
        ("Root (Base64)", _text(checkpoint.get("root"))),
        ("Key-ID", _text(checkpoint.get("key_id"))),
        *(("Signatur", signature) for signature in signatures),
        ("Hash voriger Abschluss", _text(closing.get("previous_hash"))),
        ("Hash dieses Abschlusses", _text(closing.get("hash"))),
    ]
    note_column = Column("Signierter Checkpoint des Journals bis zu diesem Abschluss; Hash-Kette der Abschlüsse", 148)
    pdf.heading("Prüfdaten", (Column("", 30), note_column), keep=pdf.fields_height(fields, size=7.5, mono=True))
    pdf.fields(fields, size=7.5, mono=True)
