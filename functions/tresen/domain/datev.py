"""DATEV bookings: what the journal and the payouts mean for the books, written as an EXTF
"Buchungsstapel" (format 700, category 21, version 13) that DATEV imports.

**Bookings** name accounts by role (domain/accounting.py) and are balanced pairs: every amount
leaves one account (Soll, `Konto`) and enters another (Haben, `Gegenkonto`), always positive, always
`S`. What a journal entry books:
- a sale (`data.sale`): the money received — into provider clearing (online), card clearing (a card
  at a terminal) or the till (on site), and from the gift-card liability for what gift cards paid —
  goes to revenue per VAT rate (gross, to the automatic revenue accounts, so no BU key: DATEV takes
  the VAT out itself), to tips (passed on to staff, no revenue) and to the gift-card liability for
  cards sold (multi-purpose vouchers are no revenue when sold). Revenue is as sold, after a
  promotion's or staff's discount: a discount given with the sale lowers the consideration itself,
  so it is no booking of its own;
- a refund (`refund.created`): the reverse, per its VAT split, paid back the way the order was paid
  (`provider_amount`: from its clearing account or the till) and onto the liability
  (`giftcard_amount`); what has no VAT (a refunded tip, a gift card sold) leaves tips;
- a gift card sold at the counter (`giftcard.activate` without order): till → liability;
- a payout (its items of this store): clearing → bank for the net, clearing → fees for the fees;
  the items of card payments at a terminal out of card clearing, the others out of provider
  clearing.
Two lists of (role, amount) — where the money comes from and where it goes — are paired greedily,
so a sale paid partly by gift card and partly online books each part exactly, to the cent.

**The file**: cp1252, `;`, CRLF, text in double quotes, amounts with a decimal comma, Belegdatum
as DDMM (the header's period gives the year), Belegfeld 1 the invoice number, and a Buchungs-GUID
derived from the store, the entry and the booking's place in it, so importing the same range
twice is recognised as the same bookings. A batch may not cross a calendar (fiscal) year nor hold
more than 99 999 bookings: larger ranges are split.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .accounting import AccountingSettings
from .events import CardActivated, OrderPaid, OrderPlaced, Projection, RefundCreated, Sale

FORMAT_VERSION = (700, 21, "Buchungsstapel", 13)
MAX_ROWS = 99_999  # bookings per batch
GUIDS = uuid.UUID("6f1d8a52-3c1e-4a4e-9a53-7d0c2b1e9f10")  # the namespace of Tresen's Buchungs-GUIDs
TEXT_LIMIT, REFERENCE_LIMIT = 60, 36
REFERENCE_CHARACTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789$&%*+-/")
PROVIDER_CLEARING, CARD_CLEARING = "provider_clearing", "card_clearing"
METHOD_ACCOUNT = {"online": PROVIDER_CLEARING, "on_site": "cash", "card_present": CARD_CLEARING}

# The 125 columns of format 700, version 13, in DATEV's order and spelling.
HEADINGS = (
    "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs", "Basis-Umsatz",
    "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum", "Belegfeld 1",
    "Belegfeld 2", "Skonto", "Buchungstext", "Postensperre", "Diverse Adressnummer", "Geschäftspartnerbank",
    "Sachverhalt", "Zinssperre", "Beleglink",
    *(f"Beleginfo - {part} {n}" for n in range(1, 9) for part in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle", "KOST2 - Kostenstelle", "Kost-Menge", "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)", "Abw. Versteuerungsart", "Sachverhalt L+L", "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp", "BU 49 Hauptfunktionsnummer", "BU 49 Funktionsergänzung",
    *(heading for n in range(1, 21) for heading in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")),
    "Stück", "Gewicht", "Zahlweise", "Forderungsart", "Veranlagungsjahr", "Zugeordnete Fälligkeit", "Skontotyp",
    "Auftragsnummer", "Buchungstyp", "USt-Schlüssel (Anzahlungen)", "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)", "EU-Steuersatz (Anzahlungen)", "Erlöskonto (Anzahlungen)", "Herkunft-Kz",
    "Buchungs GUID", "KOST-Datum", "SEPA-Mandatsreferenz", "Skontosperre", "Gesellschaftername",
    "Beteiligtennummer", "Identifikationsnummer", "Zeichnernummer", "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt", "Kennzeichen SoBil-Buchung", "Festschreibung", "Leistungsdatum",
    "Datum Zuord. Steuerperiode", "Fälligkeit", "Generalumkehr (GU)", "Steuersatz", "Land", "Abrechnungsreferenz",
    "BVV-Position", "EU-Land u. UStID (Ursprung)", "EU-Steuersatz (Ursprung)", "Abw. Skontokonto",
)  # fmt: skip
COLUMN = {heading: index for index, heading in enumerate(HEADINGS)}


@dataclass(frozen=True, slots=True)
class Booking:
    amount: int  # cents, > 0
    debit: str  # the role of the account the amount is booked to (Soll)
    credit: str  # the role of the account it comes from (Haben)
    day: date  # Belegdatum, store time
    reference: str  # Belegfeld 1
    text: str  # Buchungstext
    guid: str  # Buchungs GUID


def paired(debits: list[tuple[str, int]], credits: list[tuple[str, int]]) -> Iterator[tuple[str, str, int]]:
    """(debit, credit, amount) bookings of equal sums on both sides: each debited amount paired
    with the credits in order, split where one side's amount ends inside the other's."""
    debits = [[role, amount] for role, amount in debits if amount > 0]
    credits = [[role, amount] for role, amount in credits if amount > 0]
    if sum(a for _, a in debits) != sum(a for _, a in credits):
        raise ValueError(f"unbalanced booking: {debits} against {credits}")
    d = c = 0
    while d < len(debits) and c < len(credits):
        amount = min(debits[d][1], credits[c][1])
        yield debits[d][0], credits[c][0], amount
        debits[d][1] -= amount
        credits[c][1] -= amount
        d += not debits[d][1]
        c += not credits[c][1]


def revenue_role(rate: str) -> str:
    return f"revenue_{rate}"


def sale_pairs(sale: Sale) -> Iterator[tuple[str, str, int]]:
    """The money received (gift cards first: they pay for the goods before a tip) against revenue
    per rate, tips and the gift-card liability for cards sold."""
    by_card = sale.gift_card_amount
    taken = [("giftcard_liability", by_card), (METHOD_ACCOUNT[sale.payment_method], sale.total - by_card)]
    owed = [(revenue_role(v.rate), v.gross) for v in sale.vat]
    owed += [("tips", sale.tip), ("giftcard_liability", sale.giftcards_sold)]
    return paired(taken, owed)


def refund_pairs(refund: RefundCreated) -> Iterator[tuple[str, str, int]]:
    """A sale reversed per VAT rate (what has none leaves tips), paid back the way the order was
    paid and onto gift cards."""
    taxed = [(revenue_role(v.rate), v.gross) for v in refund.vat]
    untaxed = refund.amount - sum(amount for _, amount in taxed)
    back = [(METHOD_ACCOUNT[refund.method], refund.provider_amount), ("giftcard_liability", refund.giftcard_amount)]
    return paired([*taxed, ("tips", untaxed)], back)


# What `BookingCollector.book` reads of an entry.
BOOKING_FIELDS = (
    "seq",
    "at",
    "type",
    "data.sale",
    "data.invoice_number",
    "data.order_id",
    "data.id",
    "data.amount",
    "data.vat",
    "data.method",
    "data.provider_amount",
    "data.giftcard_amount",
    "data.card_id",
)
BOOKED = Projection(BOOKING_FIELDS)
BOOKED_TYPES = frozenset({OrderPlaced.TYPE, OrderPaid.TYPE, RefundCreated.TYPE, CardActivated.TYPE})


@dataclass
class BookingCollector:
    """The bookings of journal entries, collected as they stream past (`gather`)."""

    store_id: str
    zone: ZoneInfo
    invoices: Mapping[str, str] = field(default_factory=dict)  # order id → invoice number (for refunds)
    bookings: list[Booking] = field(default_factory=list)
    refunded_orders: set[str] = field(default_factory=set)

    def gather(self, entries: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for entry in entries:
            self.book(entry)
            yield entry

    def book(self, entry: Mapping[str, Any]) -> None:
        if entry["type"] not in BOOKED_TYPES:
            return
        event = BOOKED.read(entry)
        day = datetime.fromisoformat(entry["at"]).astimezone(self.zone).date()
        key = f"{self.store_id}:{entry['seq']}"
        if isinstance(event, OrderPlaced | OrderPaid):
            if event.sale:
                reference = event.invoice_number or event.order_id
                self.add(sale_pairs(event.sale), day, reference, f"Verkauf {reference}", key)
        elif isinstance(event, RefundCreated):
            self.refunded_orders.add(event.order_id)
            # Belegfeld 1 is the order's invoice number, once the service told it (`resolve_references`)
            self.add(refund_pairs(event), day, event.order_id, "Erstattung", key)
        elif isinstance(event, CardActivated) and not event.order_id:  # a gift card sold at the counter
            pairs = paired([("cash", event.amount)], [("giftcard_liability", event.amount)])
            self.add(pairs, day, event.card_id, "Gutschein verkauft (Kasse)", key)

    def add(self, pairs: Iterable[tuple[str, str, int]], day: date, reference: str, text: str, key: str) -> None:
        for n, (debit, credit, amount) in enumerate(pairs):
            self.bookings.append(Booking(amount, debit, credit, day, reference, text, guid(f"{key}:{n}")))

    def resolve_references(self, invoices: Mapping[str, str | None]) -> None:
        """Refunds name their order; Belegfeld 1 is that order's invoice number where it has one."""
        self.bookings = [
            booking if booking.reference not in invoices else _with_reference(booking, invoices[booking.reference])
            for booking in self.bookings
        ]


def _with_reference(booking: Booking, invoice: str | None) -> Booking:
    return replace(booking, reference=invoice or booking.reference)


def payout_bookings(
    payout: Mapping[str, Any], items: Iterable[Mapping[str, Any]], store_id: str, clearing: str = PROVIDER_CLEARING
) -> list[Booking]:
    """The store's items of a payout that `clearing` holds (card payments at a terminal are in
    card clearing): their net from it to the bank, their fees to fees."""
    items = list(items)
    gross = sum(item["amount"] for item in items)
    fees = sum(item["fee"] for item in items)
    day = date.fromisoformat(payout["arrival_date"])
    key = f"{store_id}:payout:{payout['provider']}:{payout['payout_id']}"
    key += "" if clearing == PROVIDER_CLEARING else f":{clearing}"  # the provider's keep the GUIDs they had
    reference, text = payout["payout_id"], f"Auszahlung {payout['provider']} {payout['payout_id']}"
    net = gross - fees
    moves = [("bank", clearing, net), ("provider_fees", clearing, fees)]
    bookings = []
    for n, (debit, credit, amount) in enumerate(moves):
        if amount < 0:  # more refunded than paid: the bank pays the provider
            debit, credit, amount = credit, debit, -amount
        if amount:
            bookings.append(Booking(amount, debit, credit, day, reference, text, guid(f"{key}:{n}")))
    return bookings


def guid(key: str) -> str:
    return str(uuid.uuid5(GUIDS, key))


# -- The EXTF file ------------------------------------------------------------------------------


Batch = tuple[date, date, list[Booking]]


def batches(bookings: list[Booking], first: date, last: date, max_rows: int = MAX_ROWS) -> list[Batch]:
    """(from, to, bookings) per batch: one per calendar year of the range, split further into
    chunks of at most `max_rows`, bookings by day."""
    result = []
    for year in range(first.year, last.year + 1):
        start, end = max(first, date(year, 1, 1)), min(last, date(year, 12, 31))
        of_year = sorted((b for b in bookings if start <= b.day <= end), key=lambda b: b.day)
        for offset in range(0, max(len(of_year), 1), max_rows):
            result.append((start, end, of_year[offset : offset + max_rows]))
    return result


def text(value: str, limit: int = TEXT_LIMIT) -> str:
    cleaned = " ".join(value.replace(";", " ").replace('"', "'").split())[:limit]
    return f'"{cleaned}"'


def reference(value: str) -> str:
    return text("".join(c if c in REFERENCE_CHARACTERS else "-" for c in value), REFERENCE_LIMIT)


def amount(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def header(settings: AccountingSettings, first: date, last: date, created: datetime, name: str) -> str:
    accounts = settings.effective_accounts().values()
    fields = [
        '"EXTF"', str(FORMAT_VERSION[0]), str(FORMAT_VERSION[1]), f'"{FORMAT_VERSION[2]}"', str(FORMAT_VERSION[3]),
        created.strftime("%Y%m%d%H%M%S") + f"{created.microsecond // 1000:03d}", "", '"RE"', '"Tresen"', '""',
        str(settings.consultant_number or ""), str(settings.client_number or ""),
        f"{first.year}0101", str(max(len(a) for a in accounts)), first.strftime("%Y%m%d"), last.strftime("%Y%m%d"),
        text(name, 30), '""', "1", "0", "0", '"EUR"', "", '""', "", "", f'"{settings.chart[-2:]}"', "", "", '""', '""',
    ]  # fmt: skip
    return ";".join(fields)


def row(booking: Booking, settings: AccountingSettings) -> str:
    cells = [""] * len(HEADINGS)
    cells[COLUMN["Umsatz (ohne Soll/Haben-Kz)"]] = amount(booking.amount)
    cells[COLUMN["Soll/Haben-Kennzeichen"]] = '"S"'
    cells[COLUMN["WKZ Umsatz"]] = '"EUR"'
    cells[COLUMN["Konto"]] = settings.account(booking.debit)
    cells[COLUMN["Gegenkonto (ohne BU-Schlüssel)"]] = settings.account(booking.credit)
    cells[COLUMN["Belegdatum"]] = booking.day.strftime("%d%m")
    cells[COLUMN["Belegfeld 1"]] = reference(booking.reference)
    cells[COLUMN["Buchungstext"]] = text(booking.text)
    cells[COLUMN["Buchungs GUID"]] = f'"{booking.guid}"'
    cells[COLUMN["Festschreibung"]] = "0"
    return ";".join(cells)


def extf_file(
    bookings: list[Booking], settings: AccountingSettings, first: date, last: date, created: datetime, name: str
) -> bytes:
    lines = [header(settings, first, last, created, name), ";".join(HEADINGS)]
    lines += [row(booking, settings) for booking in bookings]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252", errors="replace")
