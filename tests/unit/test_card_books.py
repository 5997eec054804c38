"""Card payments at a terminal (`card_present`) in the books, over one business day written as the use
cases journal it: a sale paid in cash, one paid online, three paid by card at a terminal (two Visa,
one girocard) and half of the girocard sale refunded to the card. Every figure below is worked out
by hand from those entries: the closing's payments per method and per card brand, the DSFinV-K
rows, the DATEV bookings and payouts, the statement's totals and both PDFs."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from test_statement_pdf import statement as example_statement
from test_zreport_pdf import STORE as PRINTED_STORE
from test_zreport_pdf import needs_pdftotext, page_text, pages, squashed

from tresen.domain import datev, dsfinvk
from tresen.domain import statements as st
from tresen.domain.accounting import AccountingSettings
from tresen.domain.closings import Closing, ClosingCheckpoint, closing_from_dict, closing_hash, closing_of
from tresen.domain.journal import GENESIS_HASH, JournalEvent, canonical_bytes, make_entry
from tresen.domain.payments import PaymentRecord
from tresen.domain.statement_pdf import render_statement
from tresen.domain.zreport_pdf import render_zreport
from tresen.services import journal_audit as audit
from tresen.services.datev_export import payout_bookings
from tresen.services.downloads import StorePeriod
from tresen.services.dsfinvk_export import closing_lines
from tresen.services.seed import DEMO_STORE

STORE = DEMO_STORE.id
STAFF = {"type": "staff", "uid": "u1", "role": "staff"}
PROVIDER = {"type": "provider"}
CLOSED_AT = "2026-11-24T05:00:03+01:00"
DAY = date(2026, 11, 23)

# a cake at 7 % and a glass of wine at 19 %, each with the VAT of one
CAKE = {"product_id": "kuchen", "name": "Kuchen", "unit_price": 535, "vat_rate": "7"}
WINE = {"product_id": "wein", "name": "Wein", "unit_price": 1190, "vat_rate": "19"}
VAT_7 = {"rate": "7", "net": 500, "tax": 35, "gross": 535}
VAT_19 = {"rate": "19", "net": 1000, "tax": 190, "gross": 1190}


def times(row: dict, n: int) -> dict:
    return {key: value * n if isinstance(value, int) else value for key, value in row.items()}


@dataclass(frozen=True)
class OrderDocument:
    """An order as the exports read it: its method, its lines and the card that paid it."""

    id: str
    payment_method: str
    lines: tuple[dict, ...]
    payment: dict | None


@dataclass(frozen=True)
class Sold:
    """An order of the day and how it was paid."""

    order_id: str
    method: str
    lines: tuple[tuple[dict, int], ...]  # (product, quantity)
    vat: tuple[dict, ...]
    tip: int = 0
    brand: str | None = None
    terminal: str | None = None

    @property
    def total(self) -> int:
        return sum(row["gross"] for row in self.vat) + self.tip

    def ordered_lines(self) -> list[dict[str, Any]]:
        return [
            {"line_id": f"L{n}", "product_id": product["product_id"], "quantity": quantity,
             "unit_price": product["unit_price"], "vat_rate": product["vat_rate"],
             "total": product["unit_price"] * quantity, "kind": "item", "options": []}
            for n, (product, quantity) in enumerate(self.lines, 1)
        ]  # fmt: skip

    def sale(self) -> dict[str, Any]:
        """As domain/closings.py `sale_record` writes it."""
        card = {"card_brand": self.brand, "terminal_id": self.terminal} if self.method == "card_present" else {}
        return {"payment_method": self.method, "total": self.total, "tip": self.tip, "gift_card_amount": 0,
                "giftcards_sold": 0, "vat": list(self.vat), **card}  # fmt: skip

    def placed(self, number: int, invoice: str | None) -> dict[str, Any]:
        """`order.placed`: with its sale when paid at placement (at the counter)."""
        goods = self.total - self.tip
        paid_now = invoice is not None
        return {
            "order_id": self.order_id, "number": number, "business_day": DAY.isoformat(),
            "status": "placed" if paid_now else "awaiting_payment", "payment_method": self.method,
            "payment_id": None if paid_now else self.payment_id, "invoice_number": invoice, "currency": "EUR",
            "lines": self.ordered_lines(),
            "totals": {"subtotal": goods, "discount": 0, "tip": self.tip, "total": self.total,
                       "vat": list(self.vat), "giftcards_sold": 0},
            "gift_card_amount": 0, "gift_cards": [], "cards_sold": [], "fulfilment_type": "pickup",
            "customer": {"name": "a" * 64, "email": "b" * 64},
            **({"sale": self.sale()} if paid_now else {}),
        }  # fmt: skip

    def paid(self, invoice: str) -> dict[str, Any]:
        """`order.paid`, as the provider's payment event and the invoice number make it."""
        return {"order_id": self.order_id, "payment_id": self.payment_id, "event_id": f"evt_{self.order_id}",
                "provider": "stripe" if self.method == "card_present" else "sandbox", "amount": self.total,
                "currency": "EUR", "invoice_number": invoice, "sale": self.sale()}  # fmt: skip

    @property
    def payment_id(self) -> str:
        return f"pi_{self.order_id.removeprefix('ord_')}"

    def document(self) -> OrderDocument:
        """The order's document, as far as the DSFinV-K export reads it."""
        named = zip(self.ordered_lines(), self.lines, strict=True)
        lines = tuple(line | {"name": product["name"]} for line, (product, _) in named)
        payment = {"id": self.payment_id, "terminal_id": self.terminal, "brand": self.brand} if self.brand else None
        return OrderDocument(self.order_id, self.method, lines, payment)


CASH = Sold("ord_cash", "on_site", ((CAKE, 1),), (VAT_7,))
ONLINE = Sold("ord_online", "online", ((WINE, 1),), (VAT_19,), tip=100)
VISA = Sold("ord_visa", "card_present", ((CAKE, 1), (WINE, 1)), (VAT_7, VAT_19), brand="visa", terminal="term_1")
GIRO = Sold("ord_giro", "card_present", ((WINE, 2),), (times(VAT_19, 2),), brand="girocard", terminal="term_1")
VISA_TIPPED = Sold(
    "ord_visa2", "card_present", ((CAKE, 2),), (times(VAT_7, 2),), tip=50, brand="visa", terminal="term_2"
)
SOLD = (CASH, ONLINE, VISA, GIRO, VISA_TIPPED)
INVOICES = {sold.order_id: f"DEMO-2026-{n:06d}" for n, sold in enumerate(SOLD, 1)}
# half of the girocard sale back to the card: one glass of wine
CARD_REFUND = {"id": "re_giro", "order_id": "ord_giro", "payment_id": "pi_giro", "amount": 1190,
               "provider_amount": 1190, "giftcard_amount": 0, "reason": "", "vat": [VAT_19],
               "method": "card_present"}  # fmt: skip


def journal(events: list[tuple[str, dict, dict]], after: list[dict] | None = None) -> list[dict]:
    """The entries of (type, data, actor), chained after `after`, a minute apart, validated as the
    journal validates every entry it takes."""
    entries = list(after or [])
    for type_, data, actor in events:
        seq = len(entries) + 1
        entries.append(
            make_entry(
                store_id=STORE,
                seq=seq,
                event=JournalEvent(type_, data),
                at=f"2026-11-23T{10 + seq // 60:02d}:{seq % 60:02d}:00+00:00",
                actor=actor,
                prev_hash=entries[-1]["hash"] if entries else GENESIS_HASH,
            )
        )
    return entries


def sales(sold: tuple[Sold, ...]) -> list[tuple[str, dict, dict]]:
    events = []
    for number, order in enumerate(sold, 1):
        if order.method == "on_site":
            events.append(("order.placed", order.placed(number, INVOICES[order.order_id]), STAFF))
        else:
            events.append(("order.placed", order.placed(number, None), STAFF))
            events.append(("order.paid", order.paid(INVOICES[order.order_id]), PROVIDER))
    return events


def the_day() -> list[dict]:
    refund = [
        ("refund.created", CARD_REFUND, STAFF),
        ("refund.pending", {"id": "re_giro", "order_id": "ord_giro", "amount": 1190, "provider_refund_id": "re_1"},
         PROVIDER),
    ]  # fmt: skip
    return journal([*sales(SOLD), *refund])


def close(entries: list[dict], previous: Closing | None = None) -> Closing:
    """The closing of `entries` (those after `previous`'s own entry)."""
    checkpoint = ClosingCheckpoint(f"tresen/test/{STORE}", entries[-1]["seq"], "cm9vdA==", "d999cf3b", "note")
    return closing_of(
        entries, previous=previous, store=DEMO_STORE, closed_at=CLOSED_AT, closed_by=STAFF, checkpoint=checkpoint
    )


# -- The closing ------------------------------------------------------------------------------------


def test_the_closing_counts_card_payments_as_their_own_method_and_per_brand():
    closing = close(the_day()).as_dict()
    assert closing["payments"] == {"on_site": 535, "online": 1290, "giftcard": 0, "card_present": 1725 + 2380 + 1120}
    assert closing["card_brands"] == {
        "girocard": {"count": 1, "amount": 2380},
        "visa": {"count": 2, "amount": 1725 + 1120},  # the tip went on the card
    }
    assert closing["refunds"] == {
        "count": 1,
        "amount": 1190,
        "vat": [{"rate": "19", "net": 1000, "tax": 190, "gross": 1190}],
        "by_method": {"on_site": 0, "online": 0, "giftcard": 0, "card_present": 1190},
    }
    assert closing["failed_refunds"]["by_method"] == {"on_site": 0, "online": 0, "giftcard": 0, "card_present": 0}
    assert closing["vat"] == [
        {"rate": "7", "net": 2000, "tax": 140, "gross": 2140},
        {"rate": "19", "net": 4000, "tax": 760, "gross": 4760},
    ]
    assert (closing["sales"], closing["tips"]) == ({"gross": 6900, "net": 6000, "tax": 900}, 150)
    counts = closing["counts"]
    assert (counts["orders_placed"], counts["orders_on_site"], counts["sales"], counts["refunds"]) == (5, 1, 5, 1)
    # what was taken is what was sold plus tips, and the brands are the card payments
    assert sum(closing["payments"].values()) == closing["sales"]["gross"] + closing["tips"]
    assert sum(brand["amount"] for brand in closing["card_brands"].values()) == closing["payments"]["card_present"]


def test_a_card_sale_that_names_no_brand_counts_as_unknown():
    blank = Sold("ord_blank", "card_present", ((CAKE, 1),), (VAT_7,), terminal="term_1")
    sale = {key: value for key, value in blank.sale().items() if key != "card_brand"}
    paid = blank.paid("DEMO-2026-000001") | {"sale": sale}
    closing = close(journal([("order.placed", blank.placed(1, None), STAFF), ("order.paid", paid, PROVIDER)]))
    assert closing.as_dict()["card_brands"] == {"unknown": {"count": 1, "amount": 535}}


def test_a_card_pays_what_gift_cards_left_of_a_sale():
    sale = VISA.sale() | {"gift_card_amount": 300}
    paid = VISA.paid("DEMO-2026-000001") | {"amount": VISA.total - 300, "sale": sale}
    placed = VISA.placed(1, None) | {"gift_card_amount": 300, "gift_cards": [{"card_id": "gc_1", "amount": 300}]}
    closing = close(journal([("order.placed", placed, STAFF), ("order.paid", paid, PROVIDER)])).as_dict()
    assert closing["payments"] == {"on_site": 0, "online": 0, "giftcard": 300, "card_present": 1725 - 300}
    assert closing["card_brands"] == {"visa": {"count": 1, "amount": 1725 - 300}}


def test_the_closing_is_journaled_verifies_and_shows_through_the_api_model():
    from tresen.http.models import ClosingOut

    entries = the_day()
    closing = close(entries)
    entries = journal([("closing.created", closing.as_dict(), STAFF)], after=entries)
    raws = [canonical_bytes(entry) for entry in entries]
    assert audit.closing_problems([len(raws)], lambda seq: raws[seq - 1]) == []
    shown = ClosingOut.model_validate(closing).model_dump()
    assert shown["card_brands"] == {"girocard": {"count": 1, "amount": 2380}, "visa": {"count": 2, "amount": 2845}}
    assert (shown["payments"]["card_present"], shown["refunds"]["by_method"]["card_present"]) == (5225, 1190)
    # a brand taken off the card payments no longer adds up from the entries
    tampered = raws[-1].replace(b'"girocard":{"amount":2380', b'"girocard":{"amount":2381')
    assert tampered != raws[-1]
    [problem] = audit.closing_problems([len(raws)], lambda seq: [*raws[:-1], tampered][seq - 1])
    assert problem.text == f"seq {len(raws)}: Z-report 1 does not add up from entries 1-{len(raws) - 1} (card_brands)"


def test_a_closing_made_before_card_terminals_reads_and_verifies_as_it_was_stored():
    entries = journal(sales((CASH, ONLINE)))
    now = close(entries).as_dict()
    older = {key: value for key, value in now.items() if key != "card_brands"}
    older["payments"] = {"on_site": 535, "online": 1290, "giftcard": 0}
    for name in ("refunds", "failed_refunds"):
        older[name] = now[name] | {"by_method": {"on_site": 0, "online": 0, "giftcard": 0}}
    older["hash"] = closing_hash(older)
    read = closing_from_dict(older)
    assert read.payments["card_present"] == read.refunds.by_method["card_present"] == 0
    assert read.card_brands == {}
    entries = journal([("closing.created", older, STAFF)], after=entries)  # its schema still takes it
    raws = [canonical_bytes(entry) for entry in entries]
    assert audit.closing_problems([len(raws)], lambda seq: raws[seq - 1]) == []


# -- DSFinV-K -----------------------------------------------------------------------------------


def tables(entries: list[dict], closing: Closing, orders: dict[str, dict]) -> dict[str, list[dict]]:
    store = {"name": DEMO_STORE.name, "address": DEMO_STORE.address}
    return dsfinvk.closing_tables(closing.as_dict(), store, dsfinvk.receipts(entries, orders))


def documents(*sold: Sold) -> dict[str, dict]:
    return {order.order_id: asdict(order.document()) for order in sold}


def test_dsfinvk_books_a_card_as_unbar_named_by_its_brand_and_cash_as_bar_alone():
    entries = the_day()
    rows = tables(entries, close(entries), documents(*SOLD))
    paid = [(r["BON_ID"], r["ZAHLART_TYP"], r["ZAHLART_NAME"], r["BASISWAEH_BETRAG"]) for r in rows["datapayment.csv"]]
    assert paid == [
        ("ord_cash", "Bar", "Bar", 535),
        ("ord_online", "ElZahlungsdienstleister", "ElZahlungsdienstleister", 1290),
        ("ord_visa", "Unbar", "visa", 1725),
        ("ord_giro", "Unbar", "girocard", 2380),
        ("ord_visa2", "Unbar", "visa", 1120),
        ("re_giro", "Unbar", "girocard", -1190),  # back to the card that paid
    ]
    assert [(r["ZAHLART_TYP"], r["ZAHLART_NAME"], r["Z_ZAHLART_BETRAG"]) for r in rows["payment.csv"]] == [
        ("Bar", "Bar", 535),
        ("ElZahlungsdienstleister", "ElZahlungsdienstleister", 1290),
        ("Unbar", "girocard", 2380 - 1190),
        ("Unbar", "visa", 1725 + 1120),
    ]
    [cash] = rows["cash_per_currency.csv"]
    [z] = rows["cashpointclosing.csv"]
    assert (cash["ZAHLART_BETRAG_WAEH"], z["Z_SE_BARZAHLUNGEN"], z["Z_SE_ZAHLUNGEN"]) == (535, 535, 7050 - 1190)
    cases = [(r["GV_TYP"], r["UST_SCHLUESSEL"], r["Z_UMS_BRUTTO"], r["Z_UST"]) for r in rows["businesscases.csv"]]
    assert cases == [("TrinkgeldAN", 5, 150, 0), ("Umsatz", 1, 4760 - 1190, 760 - 190), ("Umsatz", 2, 2140, 140)]
    # each receipt is paid what its lines add up to, and the closing is its receipts
    gross = {r["BON_ID"]: 0 for r in rows["transactions.csv"]}
    for line in rows["lines_vat.csv"]:
        gross[line["BON_ID"]] += line["POS_BRUTTO"]
    assert gross == {bon: amount for bon, _, _, amount in paid}
    taken = sum(row["Z_ZAHLART_BETRAG"] for row in rows["payment.csv"])
    assert taken == sum(row["Z_UMS_BRUTTO"] for row in rows["businesscases.csv"]) == 5860


def test_dsfinvk_writes_the_brand_into_its_columns_as_the_index_describes_them():
    entries = the_day()
    rows = tables(entries, close(entries), documents(*SOLD))
    written = "".join(dsfinvk.csv_lines("payment.csv", rows["payment.csv"]))
    assert list(csv.reader(io.StringIO(written), delimiter=";"))[2:] == [
        [STORE, CLOSED_AT, "1", "Unbar", "girocard", "11,90"],
        [STORE, CLOSED_AT, "1", "Unbar", "visa", "28,45"],
    ]


class Books:
    """The finance port's reads over fixed records, recording which orders were asked for."""

    def __init__(self, orders=(), payments=(), closings=()):
        self._orders = {order.id: order for order in orders}
        self._payments = {payment.id: payment for payment in payments}
        self._closings = list(closings)
        self.orders_asked: list[str] = []

    def orders(self, order_ids):
        self.orders_asked += order_ids
        return [self._orders[i] for i in order_ids if i in self._orders]

    def payments(self, payment_ids):
        return {i: self._payments[i] for i in payment_ids if i in self._payments}

    def closings(self, store_id, first, last):
        return self._closings


def test_the_export_names_a_card_refund_by_the_brand_of_an_order_sold_in_an_earlier_closing():
    first = journal(sales((GIRO,)))
    z1 = close(first)
    first = journal([("closing.created", z1.as_dict(), STAFF)], after=first)
    second = journal([("refund.created", CARD_REFUND, STAFF)], after=first)
    z2 = close(second[len(first) :], previous=z1)
    books = Books(orders=[GIRO.document()], closings=[z2])
    reader = SimpleNamespace(entries_between=lambda store, a, b: second[a - 1 : b], entries_of_type=lambda *_: [])
    uow = SimpleNamespace(books=books, journal=reader, store_tses=SimpleNamespace(read=lambda store: None))
    written = {name: "".join(lines) for name, lines in closing_lines(StorePeriod(STORE, DAY, DAY), DEMO_STORE, uow)}
    assert books.orders_asked == ["ord_giro"]
    [row] = csv.DictReader(io.StringIO(dsfinvk.heading("datapayment.csv") + written["datapayment.csv"]), delimiter=";")
    assert (row["BON_ID"], row["ZAHLART_TYP"], row["ZAHLART_NAME"], row["BASISWAEH_BETRAG"]) == (
        "re_giro",
        "Unbar",
        "girocard",
        "-11,90",
    )


# -- DATEV --------------------------------------------------------------------------------------


def bookings(entries: list[dict]) -> list[datev.Booking]:
    collector = datev.BookingCollector(STORE, DEMO_STORE.zone)
    for _ in collector.gather(entries):
        pass
    collector.resolve_references({"ord_giro": INVOICES["ord_giro"]})
    return collector.bookings


def test_datev_books_card_payments_and_their_refund_against_card_clearing():
    booked = [(b.amount, b.debit, b.credit, b.reference) for b in bookings(the_day())]
    assert booked == [
        (535, "cash", "revenue_7", "DEMO-2026-000001"),
        (1190, "provider_clearing", "revenue_19", "DEMO-2026-000002"),
        (100, "provider_clearing", "tips", "DEMO-2026-000002"),
        (535, "card_clearing", "revenue_7", "DEMO-2026-000003"),
        (1190, "card_clearing", "revenue_19", "DEMO-2026-000003"),
        (2380, "card_clearing", "revenue_19", "DEMO-2026-000004"),
        (1070, "card_clearing", "revenue_7", "DEMO-2026-000005"),
        (50, "card_clearing", "tips", "DEMO-2026-000005"),
        (1190, "revenue_19", "card_clearing", "DEMO-2026-000004"),
    ]
    balance: dict[str, int] = {}
    for amount, debit, credit, _ in booked:
        balance[debit] = balance.get(debit, 0) + amount
        balance[credit] = balance.get(credit, 0) - amount
    # card clearing holds what the cards paid less what went back to them; cash only the cash sale
    assert (balance["card_clearing"], balance["cash"], balance["provider_clearing"]) == (5225 - 1190, 535, 1290)
    assert sum(balance.values()) == 0


def test_card_clearing_has_a_default_in_each_chart_and_can_be_set_apart():
    assert AccountingSettings("SKR03").account("card_clearing") == "1360"
    assert AccountingSettings("SKR04").account("card_clearing") == "1460"
    settings = AccountingSettings("SKR03", accounts={"card_clearing": "1361"})
    created = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    content = datev.extf_file(bookings(the_day()), settings, DAY, DAY, created, "Tresen demo")
    rows = [row.split(";") for row in content.decode("cp1252").split("\r\n")[2:-1]]
    konto, gegenkonto = datev.COLUMN["Konto"], datev.COLUMN["Gegenkonto (ohne BU-Schlüssel)"]
    assert [(row[0], row[konto], row[gegenkonto]) for row in rows] == [
        ("5,35", "1000", "8300"),
        ("11,90", "1360", "8400"),
        ("1,00", "1360", "1590"),
        ("5,35", "1361", "8300"),
        ("11,90", "1361", "8400"),
        ("23,80", "1361", "8400"),
        ("10,70", "1361", "8300"),
        ("0,50", "1361", "1590"),
        ("11,90", "8400", "1361"),
    ]


def test_a_payout_clears_card_payments_from_card_clearing_and_the_others_from_provider_clearing():
    payout = {"provider": "stripe", "payout_id": "po_1", "arrival_date": "2026-11-26", "amount": 4100}
    items = [
        {"payment_id": "pi_online", "amount": 1290, "fee": 40},
        {"payment_id": "pi_visa", "amount": 1725, "fee": 30},
        {"payment_id": "pi_giro", "amount": 2380, "fee": 35},
        {"payment_id": "pi_giro", "amount": -1190, "fee": 0},  # the refund back to the card
        {"payment_id": "pi_elsewhere", "amount": 999, "fee": 9},  # another store's, on the same account
    ]
    created = datetime(2026, 11, 23, tzinfo=UTC)
    records = [
        PaymentRecord(f"pi_{name}", store, f"ord_{name}", "stripe", 0, "EUR", created)
        for name, store in (("online", STORE), ("visa", STORE), ("giro", STORE), ("elsewhere", "other"))
    ]
    orders = [
        SimpleNamespace(id="ord_online", payment_method="online"),
        SimpleNamespace(id="ord_visa", payment_method="card_present"),
        SimpleNamespace(id="ord_giro", payment_method="card_present"),
        SimpleNamespace(id="ord_elsewhere", payment_method="card_present"),
    ]
    uow = SimpleNamespace(
        books=Books(orders=orders, payments=records),
        payouts=SimpleNamespace(arrived_between=lambda first, last: [payout], matches_of=lambda p, po: items),
    )
    found = payout_bookings(uow, STORE, date(2026, 11, 26), date(2026, 11, 26))
    assert [(b.amount, b.debit, b.credit, b.guid) for b in found] == [
        (1290 - 40, "bank", "provider_clearing", datev.guid(f"{STORE}:payout:stripe:po_1:0")),
        (40, "provider_fees", "provider_clearing", datev.guid(f"{STORE}:payout:stripe:po_1:1")),
        (
            1725 + 2380 - 1190 - 30 - 35,
            "bank",
            "card_clearing",
            datev.guid(f"{STORE}:payout:stripe:po_1:card_clearing:0"),
        ),
        (30 + 35, "provider_fees", "card_clearing", datev.guid(f"{STORE}:payout:stripe:po_1:card_clearing:1")),
    ]


# -- Statements ---------------------------------------------------------------------------------


def test_a_statement_splits_card_payments_out_and_ties_out_with_the_closing():
    entries = the_day()
    closing = close(entries)
    entries = journal([("closing.created", closing.as_dict(), STAFF)], after=entries)
    items = st.ProviderItems()
    figures = st.statement_figures(items.gather(entries))
    built = st.build_statement({"id": "stm_1"}, items, figures, ({}, {}), [], [closing.as_dict()])
    totals = built["totals"]
    assert totals["payments"] == {"on_site": 535, "online": 1290, "giftcard": 0, "card_present": 5225}
    assert totals["refunds"] == {
        "amount": 1190,
        "by_method": {"on_site": 0, "online": 0, "giftcard": 0, "card_present": 1190},
    }
    # the provider pays the cards out as it pays online payments: each is a provider payment
    assert [(line["payment_id"], line["amount"]) for line in built["payments"]] == [
        ("pi_online", 1290),
        ("pi_visa", 1725),
        ("pi_giro", 2380),
        ("pi_visa2", 1120),
    ]
    assert (totals["provider"]["payments"], totals["provider"]["refunds"]) == (1290 + 1725 + 2380 + 1120, 1190)
    assert built["closings"]["payments"] == totals["payments"] and built["closings"]["ties_out"] is True
    off = closing.as_dict() | {"payments": closing.as_dict()["payments"] | {"card_present": 5224}}
    assert st.build_statement({}, items, figures, ({}, {}), [], [off])["closings"]["ties_out"] is False


def test_a_closing_stored_before_card_terminals_still_ties_out():
    entries = journal(sales((CASH, ONLINE)))
    stored = close(entries).as_dict()
    stored["payments"] = {"on_site": 535, "online": 1290, "giftcard": 0}
    stored["refunds"] = stored["refunds"] | {"by_method": {"on_site": 0, "online": 0, "giftcard": 0}}
    items = st.ProviderItems()
    figures = st.statement_figures(items.gather(entries))
    summary = st.closings_summary([stored], items.seqs, st.book_totals(figures))
    assert summary["ties_out"] is True
    assert summary["payments"] == {"on_site": 535, "online": 1290, "giftcard": 0, "card_present": 0}


# -- The PDFs -----------------------------------------------------------------------------------


@needs_pdftotext
def test_the_z_report_prints_card_payments_with_their_brands_under_them():
    pdf = render_zreport(close(the_day()).as_dict(), PRINTED_STORE)
    text = page_text(pdf)
    for expected in (
        "Zahlungsarten Anzahl Betrag",
        "Bar 5,35 €",
        "Karte (Terminal) 52,25 €",
        "davon girocard 1 23,80 €",
        "davon Visa 2 28,45 €",
        "Online 12,90 €",
        "Gutschein 0,00 €",
        "Summe Zahlungen 70,50 €",
        "Rückerstattungen 1 11,90 €",
        "davon Karte (Terminal) 11,90 €",
    ):
        assert squashed(expected) in text, expected
    assert "davonBar" not in text  # a refund lists the ways money went back, not the others
    assert pages(pdf) == 1


@needs_pdftotext
def test_a_card_of_unknown_brand_is_printed_last():
    closing = close(the_day()).as_dict()
    closing["card_brands"] = {
        "amex": {"count": 1, "amount": 100},
        "unknown": {"count": 1, "amount": 200},
        "visa": {"count": 1, "amount": 300},
    }
    text = page_text(render_zreport(closing, PRINTED_STORE))
    printed = [text.index(squashed(row)) for row in ("davon American Express 1 1,00 €", "davon Visa 1 3,00 €")]
    assert printed[0] < printed[1] < text.index(squashed("davon Marke unbekannt 1 2,00 €")) < text.index("Online")


@needs_pdftotext
def test_the_statement_prints_card_payments_as_a_method_of_their_own():
    statement = example_statement(3)
    statement["totals"]["payments"] = {"on_site": 2460, "online": 730000, "giftcard": 500, "card_present": 5225}
    text = page_text(render_statement(statement))
    for expected in ("Bar 24,60 €", "Karte (Terminal) 52,25 €", "Summe Zahlungen 7.381,85 €"):
        assert squashed(expected) in text, expected
