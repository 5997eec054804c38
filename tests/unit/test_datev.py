"""DATEV bookings and the EXTF file: each journal entry's balanced bookings to the cent, the payout's,
the accounts of each chart and a store's override, the header and the 125 headings, and the
split of a range over a year's end or over the row limit."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tresen.domain import datev
from tresen.domain.accounting import AccountingSettings

BERLIN = ZoneInfo("Europe/Berlin")
VAT = [{"rate": "7", "gross": 580, "net": 542, "tax": 38}, {"rate": "19", "gross": 260, "net": 218, "tax": 42}]


def sale(seq: int, method: str, tip: int = 0, by_card: int = 0, cards_sold: int = 0, at="2026-11-16T11:00:00+00:00"):
    total = 840 + tip + cards_sold
    figures = {"payment_method": method, "total": total, "tip": tip, "gift_card_amount": by_card}
    data = {"order_id": f"ord_{seq}", "invoice_number": f"DEMO-2026-{seq:06d}"}
    data["sale"] = figures | {"giftcards_sold": cards_sold, "vat": VAT}
    return {"seq": seq, "type": "order.paid", "at": at, "data": data}


def booked(*entries) -> list[tuple[int, str, str, str]]:
    collector = datev.BookingCollector("demo", BERLIN)
    for _ in collector.gather(entries):
        pass
    return [(b.amount, b.debit, b.credit, b.reference) for b in collector.bookings]


def test_an_online_sale_with_a_tip_and_a_card_paying_part_books_each_part_to_its_account():
    assert booked(sale(1, "online", tip=150, by_card=500)) == [
        (500, "giftcard_liability", "revenue_7", "DEMO-2026-000001"),  # the card pays first
        (80, "provider_clearing", "revenue_7", "DEMO-2026-000001"),
        (260, "provider_clearing", "revenue_19", "DEMO-2026-000001"),
        (150, "provider_clearing", "tips", "DEMO-2026-000001"),
    ]


def test_on_site_sales_and_counter_gift_cards_go_through_the_till_and_cards_sold_are_a_liability():
    counter = {"seq": 2, "type": "giftcard.activate", "at": "2026-11-16T12:00:00+00:00",
               "data": {"card_id": "gc_1", "amount": 2500}}  # fmt: skip
    assert booked(sale(1, "on_site", cards_sold=1000), counter) == [
        (580, "cash", "revenue_7", "DEMO-2026-000001"),
        (260, "cash", "revenue_19", "DEMO-2026-000001"),
        (1000, "cash", "giftcard_liability", "DEMO-2026-000001"),
        (2500, "cash", "giftcard_liability", "gc_1"),
    ]


def test_a_refund_is_the_sale_reversed_per_rate_paid_back_and_onto_a_card():
    refund = {
        "seq": 3,
        "type": "refund.created",
        "at": "2026-11-17T09:00:00+00:00",
        "data": {"id": "re_1", "order_id": "ord_1", "amount": 400, "provider_amount": 300, "giftcard_amount": 100,
                 "method": "online", "vat": [{"rate": "7", "gross": 276, "net": 258, "tax": 18},
                                             {"rate": "19", "gross": 124, "net": 104, "tax": 20}]},
    }  # fmt: skip
    collector = datev.BookingCollector("demo", BERLIN)
    for _ in collector.gather([refund]):
        pass
    collector.resolve_references({"ord_1": "DEMO-2026-000001"})
    assert [(b.amount, b.debit, b.credit, b.reference, b.day) for b in collector.bookings] == [
        (276, "revenue_7", "provider_clearing", "DEMO-2026-000001", date(2026, 11, 17)),
        (24, "revenue_19", "provider_clearing", "DEMO-2026-000001", date(2026, 11, 17)),
        (100, "revenue_19", "giftcard_liability", "DEMO-2026-000001", date(2026, 11, 17)),
    ]


def test_a_payout_moves_its_net_to_the_bank_and_its_fees_to_fees():
    payout = {"provider": "sandbox", "payout_id": "po_1", "arrival_date": "2026-11-20"}
    items = [{"amount": 1840, "fee": 53}, {"amount": 990, "fee": 29}, {"amount": -300, "fee": 0}]
    bookings = datev.payout_bookings(payout, items, "demo")
    assert [(b.amount, b.debit, b.credit, b.day) for b in bookings] == [
        (2448, "bank", "provider_clearing", date(2026, 11, 20)),
        (82, "provider_fees", "provider_clearing", date(2026, 11, 20)),
    ]
    refunds_only = datev.payout_bookings(payout, [{"amount": -300, "fee": 0}], "demo")
    assert [(b.amount, b.debit, b.credit) for b in refunds_only] == [(300, "provider_clearing", "bank")]


def test_the_file_has_the_header_the_125_headings_and_rows_in_the_charts_accounts():
    collector = datev.BookingCollector("demo", BERLIN)
    for _ in collector.gather([sale(1, "online", tip=150)]):
        pass
    settings = AccountingSettings("SKR04", 1234567, 42, {"revenue_19": "4401"})
    created = datetime(2026, 11, 23, 9, 12, 5, 123000, tzinfo=BERLIN)
    content = datev.extf_file(
        collector.bookings, settings, date(2026, 11, 16), date(2026, 11, 22), created, "Tresen demo"
    )
    header, headings, *rows = content.decode("cp1252").split("\r\n")[:-1]
    fields = header.split(";")
    assert fields[:6] == ['"EXTF"', "700", "21", '"Buchungsstapel"', "13", "20261123091205123"]
    assert fields[10:16] == ["1234567", "42", "20260101", "4", "20261116", "20261122"]
    assert (fields[21], fields[26]) == ('"EUR"', '"04"')
    assert len(headings.split(";")) == 125 and headings.split(";")[datev.COLUMN["Buchungs GUID"]] == "Buchungs GUID"
    cells = rows[1].split(";")
    assert len(cells) == 125
    assert cells[:11] == ["2,60", '"S"', '"EUR"', "", "", "", "1460", "4401", "", "1611", '"DEMO-2026-000001"']
    assert cells[datev.COLUMN["Buchungs GUID"]] == f'"{datev.guid("demo:1:1")}"'
    assert content.endswith(b"\r\n") and "ß".encode("cp1252") == b"\xdf"


def test_a_range_over_a_year_end_or_the_row_limit_splits_into_batches():
    bookings = [
        datev.Booking(100, "cash", "revenue_7", day, "R", "Verkauf", datev.guid(str(n)))
        for n, day in enumerate([date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2)] * 3)
    ]
    split = datev.batches(bookings, date(2026, 12, 28), date(2027, 1, 3), max_rows=4)
    assert [(start, end, len(chunk)) for start, end, chunk in split] == [
        (date(2026, 12, 28), date(2026, 12, 31), 4),
        (date(2026, 12, 28), date(2026, 12, 31), 2),
        (date(2027, 1, 1), date(2027, 1, 3), 4),
        (date(2027, 1, 1), date(2027, 1, 3), 2),
    ]
    assert datev.MAX_ROWS == 99_999
    assert [len(chunk) for *_, chunk in datev.batches([], date(2026, 1, 1), date(2026, 1, 31))] == [0]


def test_text_and_references_are_made_safe_for_the_format():
    assert datev.text('Café "Zur Post"; Nr. 1') == "\"Café 'Zur Post' Nr. 1\""
    assert datev.reference("DEMO_2026 000017ä") == '"DEMO-2026-000017-"'
    assert len(datev.reference("x" * 50)) == 36 + 2
