"""A customer's receipt as a PDF, in German: the invoice of an order with what §14 (4) UStG asks of
one — up to 250 € gross a Kleinbetragsrechnung (§33 UStDV), which needs less and shows the same —
and the correction of a refund (Rechnungskorrektur), which names the invoice it corrects.

A receipt shows the store's name, address and tax numbers, the invoice number, the dates of the
invoice and of the supply (the order's), each line's quantity, name, options, VAT rate and gross,
net, VAT and gross per rate, the total, how it was paid, and where the customer finds the order and
the proof that it is in the store's signed journal; above 250 € also the recipient. A correction
shows the same of what was refunded, negative.

The receipt of a sale taken on site shows its TSE's data (KassenSichV §6): the TSE's and the till's
serial numbers, the transaction number, the signature counter, start and end, the algorithm and
time format, the signature and the public key, and all of it as the DSFinV-K "V0" QR code (Anhang
I) that an auditor scans. Where the TSE could not be reached it says so instead: the sale is
signed later, and a receipt made after that shows the signature.

Built from the Z-report's blocks (`zreport_pdf`: embedded fonts, tables, euro formatting). The output
is deterministic (its dates are the document's own), so a receipt downloaded later, on any instance, is
the same bytes as the one mailed, as long as the store's name, address and tax numbers are unchanged.
That is why it is no PDF/A like the licence invoices, which are kept as issued: fpdf2 stamps a PDF/A's
metadata with the time of rendering.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import segno
from fpdf.enums import WrapMode, XPos, YPos

from .catalog import Store
from .licence_invoices import german_date
from .money import VatLine, vat_records
from .orders import Order, OrderLine
from .payments import MADE_AT_PROVIDER
from .refunds import Refund
from .tse import FAILED
from .zreport_pdf import (
    AMOUNT_COLUMNS,
    LABEL_WIDTH,
    ROW,
    SANS,
    SMALL,
    TEXT,
    Column,
    Table,
    ZReportPDF,
    format_euro,
    format_rate,
    vat_table,
)

SMALL_INVOICE_LIMIT = 25_000  # cents gross: up to this an invoice may be a Kleinbetragsrechnung
QUANTITY, ITEM = Column("Menge", 16, "L"), Column("Artikel", 92, "L")
LINE_COLUMNS = (QUANTITY, ITEM, Column("Einzelpreis", 26), Column("USt", 16), Column("Betrag", 28))
NO_VAT = "—"  # a gift card sold: a multi-purpose voucher bears no VAT when sold
PROVIDERS = {"stripe": "Stripe", "sandbox": "Sandbox (Test)"}
FULFILMENT = {"pickup": "Abholung", "table": "Tisch", "delivery": "Lieferung"}
REJECTED = "rejected"  # the reason of the refund that a paid order's rejection makes
REASONS = {REJECTED: "Bestellung abgelehnt", MADE_AT_PROVIDER: "Erstattung beim Zahlungsdienstleister"}
QR_SIZE = 36  # mm a side: a V0 code of ~90 modules, each 0.4 mm, which a printer and a scanner resolve
QR_GAP = 2  # mm of white above and below the code: its quiet zone (4 modules, 1.6 mm) free of text
TSE_FAILED = "TSE ausgefallen: Die Signatur wird nachgeholt."


def is_small_invoice(order: Order) -> bool:
    """A Kleinbetragsrechnung: no recipient needed (§33 UStDV)."""
    return order.totals.total <= SMALL_INVOICE_LIMIT


def receipt_filename(order: Order) -> str:
    return f"Beleg {order.invoice_number}.pdf"


def correction_filename(order: Order, refund: Refund) -> str:
    return f"Rechnungskorrektur {order.invoice_number} {refund.id}.pdf"


def receipt_pdf(store: Store, order: Order, order_page: str | None) -> bytes:
    """The invoice of `order` (which has its invoice number); `order_page`: where its customer
    follows it and checks its proof."""
    title = "Kleinbetragsrechnung" if is_small_invoice(order) else "Rechnung"

    def draw(pdf: ZReportPDF) -> None:
        _masthead(pdf, store, title, f"Nr. {order.invoice_number}")
        pdf.fields(
            [
                ("Rechnungsnummer", order.invoice_number),
                ("Rechnungsdatum", _invoice_date(order)),
                *_supply(order),
                *_tax_numbers(store),
                *_recipient(order),
            ]
        )
        pdf.ln(3)
        _lines(pdf, [(line, line.quantity) for line in order.lines], sign=1)
        _sums(pdf, _totals(order), ("Gesamtbetrag", "", format_euro(order.totals.total)))
        _vat(pdf, order.totals.vat, sign=1, vouchers=order.totals.giftcards_sold)
        pdf.section("Bezahlung", Table(AMOUNT_COLUMNS, _payments(order)))
        _tse(pdf, order)
        _order_page(pdf, store, order_page)

    return _render(store, f"{title} {order.invoice_number}", _invoiced(order), draw)


def correction_pdf(store: Store, order: Order, refund: Refund, order_page: str | None) -> bytes:
    """The correction of `order`'s invoice by `refund`: what was refunded, negative."""
    original = f"Rechnung {order.invoice_number}"

    def draw(pdf: ZReportPDF) -> None:
        _masthead(pdf, store, "Rechnungskorrektur", f"zu {original}")
        reason = REASONS.get(refund.reason, refund.reason)
        pdf.fields(
            [
                ("Korrektur zu", f"{original} vom {_invoice_date(order)}"),
                ("Korrekturbeleg", refund.id),
                ("Datum", german_date(_local(order, refund.created_at).date())),
                *_supply(order),
                *_tax_numbers(store),
                *_recipient(order),
                *([("Grund", reason)] if reason else []),
            ]
        )
        pdf.ln(3)
        vat = corrected_vat(order, refund)
        rows = _corrected(pdf, order, refund, sum(line.gross for line in vat))
        _sums(pdf, rows, ("Erstattungsbetrag", "", format_euro(-refund.amount)))
        _vat(pdf, vat, sign=-1)
        pdf.section("Erstattung", Table(AMOUNT_COLUMNS, _paid_back(refund)))
        _order_page(pdf, store, order_page)

    return _render(store, f"Rechnungskorrektur {refund.id}", refund.created_at, draw)


def _totals(order: Order) -> list[tuple[str, str, str]]:
    rows = [("Summe der Artikel", "", format_euro(order.totals.subtotal))]
    promoted = order.promotion.discount if order.promotion else 0
    if promoted:
        label = order.promotion.code or order.promotion.name
        rows.append((f"Rabatt ({label})", "", format_euro(-promoted)))
    if order.totals.discount - promoted:  # given by staff
        rows.append(("Rabatt", "", format_euro(promoted - order.totals.discount)))
    if order.totals.tip:
        rows.append(("Trinkgeld (ohne Umsatzsteuer)", "", format_euro(order.totals.tip)))
    return rows


def _corrected(pdf: ZReportPDF, order: Order, refund: Refund, taxed: int) -> list[tuple[str, str, str]]:
    """What a refund takes back: the lines it names (a rejection: every line but the gift cards
    sold), or a part of the price; then what bears no VAT. Answers the rows beneath the lines."""
    rows = []
    if refund.lines:  # in the order's own order: the stored refund keeps its lines as a map
        _lines(pdf, [(line, refund.lines[line.id]) for line in order.lines if line.id in refund.lines], sign=-1)
    elif refund.reason == REJECTED:
        _lines(pdf, [(line, line.quantity) for line in order.lines if line.vat_rate is not None], sign=-1)
        if order.totals.discount:
            rows.append(("Rabatt", "", format_euro(order.totals.discount)))
    elif taxed:
        rows.append(("Minderung des Entgelts", "", format_euro(-taxed)))
    if refund.amount != taxed:
        rows.append(("Ohne Umsatzsteuer (Trinkgeld, Gutscheine)", "", format_euro(taxed - refund.amount)))
    return rows


def corrected_vat(order: Order, refund: Refund) -> tuple[VatLine, ...]:
    """The VAT a refund takes back, per rate: its own split; the refund of a rejected order keeps
    none, and takes back all of the order's (everything but the gift cards it sold, which bear none)."""
    if refund.vat or refund.reason != REJECTED:
        return refund.vat
    return order.totals.vat


# -- The page ------------------------------------------------------------------------------------


def _render(store: Store, title: str, dated: datetime, draw: Callable[[ZReportPDF], None]) -> bytes:
    """Drawn once, and again with the page count in each page's foot if it ran to more than one."""

    def drawn(pages: int) -> ZReportPDF:
        pdf = ZReportPDF(f"{title} · {store.name}", pages)
        pdf.set_title(title)
        pdf.set_author(store.name)
        pdf.set_creator("Tresen")
        pdf.set_lang("de-DE")
        pdf.set_creation_date(dated)
        draw(pdf)
        return pdf

    pdf = drawn(1)
    if pdf.pages_count > 1:
        pdf = drawn(pdf.pages_count)
    return bytes(pdf.output())


def _masthead(pdf: ZReportPDF, store: Store, title: str, subtitle: str) -> None:
    pdf.masthead(
        [(store.name, 16, "B"), *((line, TEXT, "") for line in store.address)],
        [(title, 16, "B"), (subtitle, TEXT, "")],
    )
    pdf.ln(2)
    pdf.rule(0.4)
    pdf.ln(3)


def _local(order: Order, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(order.timezone))


def _invoiced(order: Order) -> datetime:
    """When the order got its invoice number; for one invoiced before that was kept, when it was placed."""
    return order.invoiced_at or order.created_at


def _invoice_date(order: Order) -> str:
    return german_date(_local(order, _invoiced(order)).date())


def _supply(order: Order) -> list[tuple[str, str]]:
    """When the supply was (the order's placement), and which order it was."""
    placed = _local(order, order.created_at)
    how = FULFILMENT.get(order.fulfilment.type, order.fulfilment.type)
    if order.fulfilment.table:
        how = f"{how} {order.fulfilment.table}"
    return [
        ("Leistungsdatum", german_date(placed.date())),
        ("Bestellung", f"Nr. {order.number} vom {german_date(placed.date())}, {placed:%H:%M} Uhr ({how})"),
    ]


def _tax_numbers(store: Store) -> list[tuple[str, str]]:
    numbers = [("Steuernummer", store.tax_number)] if store.tax_number else []
    return numbers + ([("USt-IdNr.", store.vat_id)] if store.vat_id else [])


def _recipient(order: Order) -> list[tuple[str, str]]:
    """Above 250 € the invoice names its recipient: the customer as they gave their name (and the
    address delivered to)."""
    if is_small_invoice(order):
        return []
    return [("Rechnungsempfänger", ", ".join(filter(None, (order.customer.name, order.fulfilment.address))))]


def _lines(pdf: ZReportPDF, lines: Sequence[tuple[OrderLine, int]], sign: int) -> None:
    """Quantity, name, unit price, VAT rate and gross of each line; its options on a row beneath."""
    rows: list[tuple[str, ...]] = []
    name_width = ITEM.width - 2
    pdf.set_font(SANS, "", TEXT)
    for line, quantity in lines:
        rate = format_rate(line.vat_rate) if line.vat_rate is not None else NO_VAT
        amount = format_euro(sign * line.unit_price * quantity)
        rows.append((str(sign * quantity), pdf.fit(line.name, name_width), format_euro(line.unit_price), rate, amount))
        if line.options:
            options = ", ".join(option.name for option in line.options)
            rows.append(("", pdf.fit(f"+ {options}", name_width), "", "", ""))
    pdf.table(Table(LINE_COLUMNS, rows, titles=True))


def _sums(pdf: ZReportPDF, rows: Sequence[tuple[str, str, str]], total: tuple[str, str, str]) -> None:
    """The amounts under the lines, the total in bold under a rule."""
    if rows:
        pdf.ln(1)
        pdf.rule()
        pdf.ln(1)
    pdf.table(Table(AMOUNT_COLUMNS, rows, total))


def _vat(pdf: ZReportPDF, vat: Sequence[VatLine], sign: int, vouchers: int = 0) -> None:
    records = [row | {part: sign * row[part] for part in ("net", "tax", "gross")} for row in vat_records(vat)]
    pdf.section("Umsatzsteuer", vat_table(records, "Summe"))
    if vouchers:
        pdf.ln(1)
        pdf.paragraph("Gutscheine (Mehrzweckgutscheine) unterliegen beim Verkauf nicht der Umsatzsteuer.", SMALL)


def _payments(order: Order) -> list[tuple[str, str, str]]:
    """How the order was paid: the gift cards that paid part, the rest online or at the counter."""
    rows = [(f"Gutschein …{use.last4}", "", format_euro(use.amount)) for use in order.gift_cards]
    if order.amount_due:
        rows.append((_method(order), "", format_euro(order.amount_due)))
    return rows


def _method(order: Order) -> str:
    if order.payment_method == "on_site":
        return "Zahlung vor Ort an der Kasse"
    if order.payment and order.payment.terminal_id:
        brand = (order.payment.brand or "unknown").replace("_", " ").title()
        return f"Kartenzahlung am Terminal ({brand})"
    provider = order.payment.provider if order.payment else ""
    return f"Online bezahlt über {PROVIDERS.get(provider, provider)}"


def _paid_back(refund: Refund) -> list[tuple[str, str, str]]:
    """Where the money went back: through the provider or at the counter, and onto gift cards."""
    rows = []
    if refund.provider_amount:
        provider = PROVIDERS.get(refund.provider, refund.provider)
        label = "An der Kasse ausgezahlt" if refund.payment_id is None else f"Zurück über {provider}"
        rows.append((label, "", format_euro(refund.provider_amount)))
    if refund.giftcard_amount:
        rows.append(("Auf Gutschein gutgeschrieben", "", format_euro(refund.giftcard_amount)))
    return rows


def _tse(pdf: ZReportPDF, order: Order) -> None:
    """The TSE's data of a sale taken on site, and its QR code; or that its TSE failed."""
    if order.tse:
        plain, wrapped = _tse_fields(order, order.tse)
        code = _qr_code(str(order.tse["qr_code"]))
        height = pdf.fields_height(plain) + pdf.fields_height(wrapped, size=SMALL, mono=True) + QR_SIZE + 2 * QR_GAP
        pdf.heading("TSE", keep=height)
        pdf.fields(plain)
        pdf.fields(wrapped, size=SMALL, mono=True)
        pdf.ln(QR_GAP)
        if pdf.will_page_break(QR_SIZE + QR_GAP):
            pdf.add_page()
        top = pdf.get_y()
        pdf.set_font(SANS, "", TEXT)
        pdf.set_text_color(90)
        pdf.cell(LABEL_WIDTH, TEXT * 0.46, "QR-Code (DSFinV-K)")
        pdf.set_text_color(0)
        pdf.image(code, x=pdf.l_margin + LABEL_WIDTH, y=top, w=QR_SIZE, h=QR_SIZE)
        pdf.set_y(top + QR_SIZE + QR_GAP)
    elif order.tse_status == FAILED:
        pdf.heading("TSE", keep=ROW)
        pdf.paragraph(TSE_FAILED, TEXT)


def _tse_fields(order: Order, tse: Mapping[str, object]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The TSE's data as label and value: those that fit a line, and those wrapped in small type
    (base64 has no spaces to break at). Start and end in the store's time, to the second."""
    plain = [
        ("TSE-Seriennummer", str(tse["tss_serial"])),
        ("Kassen-Seriennummer", str(tse["client_id"])),
        ("Transaktionsnummer", str(tse["transaction_number"])),
        ("Signaturzähler", str(tse["signature_counter"])),
        ("Start", _moment(order, str(tse["start"]))),
        ("Ende", _moment(order, str(tse["end"]))),
        ("Signaturalgorithmus", str(tse["signature_algorithm"])),
        ("Zeitformat", str(tse["log_time_format"])),
    ]
    wrapped = [("Signatur", str(tse["signature"])), ("Öffentlicher Schlüssel", str(tse["public_key"]))]
    return plain, wrapped


def _moment(order: Order, rfc3339: str) -> str:
    local = _local(order, datetime.fromisoformat(rfc3339))
    return f"{german_date(local.date())}, {local:%H:%M:%S} Uhr"


def _qr_code(text: str) -> io.BytesIO:
    """`text` as a QR code in SVG, which the PDF keeps as vector paths: sharp at any zoom or print
    resolution. Error correction M: read even with some 15 % of it creased or smudged."""
    svg = io.BytesIO()
    segno.make(text, error="m", micro=False).save(svg, kind="svg", border=0, omitsize=True, xmldecl=False)
    svg.seek(0)
    return svg


def _order_page(pdf: ZReportPDF, store: Store, url: str | None) -> None:
    """Where the customer follows the order and checks that it is in the store's signed journal."""
    if not url:
        return
    pdf.heading("Ihre Bestellung online", keep=3 * ROW)
    pdf.paragraph(
        f"Ihre Bestellung und den Nachweis, dass dieser Beleg im signierten Journal von {store.name} steht "
        "(„Diesen Beleg prüfen“), finden Sie auf der Bestellseite:",
        TEXT,
    )
    pdf.ln(1)
    pdf.set_text_color(0, 70, 160)
    pdf.multi_cell(0, TEXT * 0.45, url, link=url, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)
