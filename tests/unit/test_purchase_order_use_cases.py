"""Suppliers and purchase orders on the in-memory backend: a supplier journaled with its address only
as a pseudonym; a purchase order numbered gap-free per store and year and put into the mail outbox in
its own commit with its PDF and CSV (the CSV byte for byte, the PDF read back); what arrives received
into the stock of tracked products in the receipt's commit, once, never beyond what was ordered."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from test_receipts import missing
from test_stock_use_cases import CUSTOMER, OWNER, count, entries, put, refused, request, stock_of
from test_use_cases import STAFF, STORE, instances
from test_zreport_pdf import needs_pdftotext

from tresen.adapters import clock
from tresen.adapters.mail_outbox import OUTBOX
from tresen.domain.errors import DomainError
from tresen.domain.journal import pseudonym
from tresen.domain.orders import CartItem
from tresen.domain.purchase_orders import Arrival, LineAsked, PurchaseOrder, Supplier
from tresen.services.catalog import HideProduct, hide_product
from tresen.services.mail import deliver_all_due_mail
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.purchase_orders import (
    CreatePurchaseOrder,
    CreateSupplier,
    ReceiveGoods,
    create_purchase_order,
    create_supplier,
    purchase_order,
    purchase_order_document,
    purchase_orders,
    receive_goods,
    suppliers,
)

MONDAY = datetime(2026, 11, 16, 9, tzinfo=UTC)  # 10:00 in the store
MILL = ("Mühle Schmidt GmbH", "bestellung@muehle-schmidt.de")
BREZELS = LineAsked("brezel", None, 40, "Stück")  # the tracked product, 10 in stock
FLOUR = LineAsked(None, "Weizenmehl; Type 550", 25, "kg")  # a free line: raw material not sold
CROISSANTS = LineAsked("croissant", None, 10, "Stück")  # a product whose stock is not tracked


@pytest.fixture
def mill(backend, monkeypatch) -> Supplier:
    """On Monday morning: the store's supplier, and its tracked product with 10 in stock."""
    monkeypatch.setattr(clock, "now", lambda: MONDAY)
    put(backend)
    count(backend, 10)
    return create_supplier(CreateSupplier(STORE, *MILL, "K-4711", OWNER), backend)


def send(backend, supplier: Supplier, *lines: LineAsked) -> PurchaseOrder:
    command = CreatePurchaseOrder(STORE, supplier.id, lines or (BREZELS, FLOUR), OWNER)
    return create_purchase_order(command, backend)


def receive(backend, order: PurchaseOrder, *arrivals: tuple[int, int]) -> PurchaseOrder:
    command = ReceiveGoods(STORE, order.id, tuple(Arrival(line, units) for line, units in arrivals), STAFF)
    return receive_goods(command, backend)


def fields_of(error) -> tuple[str, list[str]]:
    return error.code, [field_error.field for field_error in error.errors]


def outbox_ids(backend) -> list[str]:
    return sorted(doc.id for doc in backend.docs.query(OUTBOX))


# -- suppliers -----------------------------------------------------------------------------------


def test_suppliers_are_listed_by_name_and_journaled_with_their_address_only_as_a_pseudonym(backend, mill):
    alpha = create_supplier(CreateSupplier(STORE, "Alpha Bäckereibedarf", "info@alpha.example", None, OWNER), backend)
    assert [(s.name, s.email, s.customer_number) for s in suppliers(backend, STORE)] == [
        ("Alpha Bäckereibedarf", "info@alpha.example", None),
        ("Mühle Schmidt GmbH", "bestellung@muehle-schmidt.de", "K-4711"),
    ]
    key = backend.stores.pii_key(STORE)
    assert entries(backend, "supplier.created") == [
        (
            "supplier.created",
            {"supplier_id": mill.id, "name": MILL[0], "email": pseudonym(key, MILL[1]), "customer_number": "K-4711"},
        ),
        (
            "supplier.created",
            {
                "supplier_id": alpha.id,
                "name": alpha.name,
                "email": pseudonym(key, alpha.email),
                "customer_number": None,
            },
        ),
    ]
    journal = json.dumps(list(backend.journal.entries(STORE)))
    assert "muehle-schmidt" not in journal and "alpha.example" not in journal


def test_a_supplier_whose_address_no_mail_reaches_is_refused(backend):
    nowhere = CreateSupplier(STORE, "Mühle", "bestellung@muehle..de", None, OWNER)
    assert fields_of(refused(lambda: create_supplier(nowhere, backend))) == ("validation_failed", ["email"])
    assert suppliers(backend, STORE) == []


# -- sending -------------------------------------------------------------------------------------


def test_a_purchase_order_is_committed_with_its_mail_to_the_supplier_with_the_pdf_and_the_csv(backend, mill):
    sent = send(backend, mill)
    assert (sent.number, sent.status, sent.supplier, sent.created_at) == ("PO-2026-000001", "sent", mill, MONDAY)
    assert [
        (line.line, line.product_id, line.name, line.quantity, line.unit, line.received) for line in sent.lines
    ] == [
        (1, "brezel", "Laugenbrezel", 40, "Stück", 0),
        (2, None, "Weizenmehl; Type 550", 25, "kg", 0),
    ]
    assert outbox_ids(backend) == [f"po-{sent.id}"]  # due with the commit that made the order
    deliver_all_due_mail(backend)
    [(mail, _)] = backend.mail_sender.sent
    assert (mail.to, mail.subject) == ("bestellung@muehle-schmidt.de", "Bestellung PO-2026-000001 von Demo Café")
    assert mail.text == (
        "Guten Tag,\n\nanbei erhalten Sie unsere Bestellung PO-2026-000001 vom 16.11.2026 (Kundennummer K-4711) "
        "mit 2 Positionen, als PDF und als CSV-Datei.\n\nBitte liefern Sie an:\nDemo Café\nBahnhofstraße 1\n"
        "60311 Frankfurt am Main\n\nMit freundlichen Grüßen\nDemo Café\n"
    )
    pdf, csv = mail.attachments
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("Bestellung PO-2026-000001.pdf", "application/pdf"),
        ("Bestellung PO-2026-000001.csv", "text/csv"),
    ]
    assert csv.content == (
        b"\xef\xbb\xbfPosition;Artikelnummer;Bezeichnung;Menge;Einheit\r\n"
        b"1;brezel;Laugenbrezel;40;St\xc3\xbcck\r\n"
        b'2;;"Weizenmehl; Type 550";25;kg\r\n'
    )
    document = purchase_order_document(backend, STORE, sent.id)
    assert (document.filename, document.pdf) == ("Bestellung PO-2026-000001.pdf", pdf.content)
    [(_, created)] = entries(backend, "purchase_order.created")
    assert created == {
        "purchase_order_id": sent.id,
        "number": "PO-2026-000001",
        "supplier_id": mill.id,
        "lines": [
            {"line": 1, "product_id": "brezel", "name": "Laugenbrezel", "quantity": 40, "unit": "Stück"},
            {"line": 2, "product_id": None, "name": "Weizenmehl; Type 550", "quantity": 25, "unit": "kg"},
        ],
    }


@needs_pdftotext
def test_the_pdf_names_the_store_the_supplier_the_customer_number_the_date_the_number_and_the_lines(backend, mill):
    pdf = purchase_order_document(backend, STORE, send(backend, mill, BREZELS, FLOUR, CROISSANTS).id).pdf
    assert pdf.startswith(b"%PDF-")
    assert (
        missing(
            pdf,
            [
                "Demo Café Bestellung",
                "Bahnhofstraße 1 Nr. PO-2026-000001",
                "60311 Frankfurt am Main",
                "Bestellnummer PO-2026-000001",
                "Bestelldatum 16.11.2026",
                "Lieferant Mühle Schmidt GmbH",
                "E-Mail bestellung@muehle-schmidt.de",
                "Unsere Kundennummer K-4711",
                "Lieferanschrift Bahnhofstraße 1, 60311 Frankfurt am Main",
                "Pos. Artikelnummer Bezeichnung Menge Einheit",
                "1 brezel Laugenbrezel 40 Stück",
                "2 Weizenmehl; Type 550 25 kg",
                "3 croissant Butter-Croissant 10 Stück",
            ],
        )
        == []
    )


def test_a_supplier_without_a_customer_number_gets_orders_that_name_none(backend, mill):
    plain = create_supplier(CreateSupplier(STORE, "Molkerei Berg", "bestellung@berg.example", None, OWNER), backend)
    sent = send(backend, plain, LineAsked(None, "Vollmilch 3,5 %", 12, "l"))
    deliver_all_due_mail(backend)
    [(mail, _)] = backend.mail_sender.sent
    assert mail.text.startswith(f"Guten Tag,\n\nanbei erhalten Sie unsere Bestellung {sent.number} vom 16.11.2026 mit")
    assert "Kundennummer" not in mail.text and "1 Position," in mail.text
    assert mail.attachments[1].content.endswith(b"1;;Vollmilch 3,5 %;12;l\r\n")


def test_numbers_are_gap_free_per_store_and_the_stores_year_and_a_refused_order_takes_none(backend, mill, monkeypatch):
    first = send(backend, mill)
    unknown = refused(lambda: send(backend, mill, FLOUR, LineAsked("pretzel", None, 1, "Stück")))
    second = send(backend, mill)
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # 00:30 on New Year's Day
    new_year = send(backend, mill)
    assert fields_of(unknown) == ("validation_failed", ["lines[1].product_id"])
    assert [first.number, second.number, new_year.number] == ["PO-2026-000001", "PO-2026-000002", "PO-2027-000001"]
    assert [data["number"] for _, data in entries(backend, "purchase_order.created")] == [
        "PO-2026-000001",
        "PO-2026-000002",
        "PO-2027-000001",
    ]
    assert [order.number for order in purchase_orders(backend, STORE, limit=2)] == ["PO-2027-000001", "PO-2026-000002"]


def test_a_line_names_a_product_even_one_off_the_menu_or_a_free_name_and_nothing_else(backend, mill):
    hide_product(HideProduct(STORE, "cheesecake", OWNER), backend)
    sent = send(backend, mill, LineAsked("cheesecake", None, 2, "Stück"))
    neither_nor_both = refused(
        lambda: send(backend, mill, LineAsked(None, None, 1, "kg"), LineAsked("brezel", "Brezel", 1, "Stück"))
    )
    unknown_supplier = refused(
        lambda: create_purchase_order(CreatePurchaseOrder(STORE, "sup_nobody", (FLOUR,), OWNER), backend)
    )
    assert [(line.product_id, line.name) for line in sent.lines] == [("cheesecake", "Käsekuchen")]
    assert fields_of(neither_nor_both) == ("validation_failed", ["lines[0]", "lines[1]"])
    assert fields_of(unknown_supplier) == ("validation_failed", ["supplier_id"])
    assert outbox_ids(backend) == [f"po-{sent.id}"]  # a refused order mails nothing


# -- receiving -----------------------------------------------------------------------------------


def test_goods_received_in_parts_raise_the_stock_of_tracked_products_in_the_receipts_commit(backend, mill):
    sent = send(backend, mill, BREZELS, FLOUR, CROISSANTS)
    first = receive(backend, sent, (1, 15), (2, 25))
    assert (first.status, [line.received for line in first.lines], stock_of(backend)) == (
        "partially_received",
        [15, 25, 0],
        25,
    )
    assert entries(backend, "purchase_order.received", "stock.adjusted")[-2:] == [
        (
            "purchase_order.received",
            {
                "purchase_order_id": sent.id,
                "number": "PO-2026-000001",
                "lines": [{"line": 1, "quantity": 15, "received": 15}, {"line": 2, "quantity": 25, "received": 25}],
                "status": "partially_received",
            },
        ),
        ("stock.adjusted", {"product_id": "brezel", "reason": "delivery", "before": 10, "after": 25}),
    ]
    rest = receive(backend, first, (3, 10), (1, 25))
    assert (rest.status, [line.received for line in rest.lines], stock_of(backend)) == ("received", [40, 25, 10], 50)
    assert stock_of(backend, "croissant") == 0  # not tracked: its stock is not kept from deliveries
    assert [(r.received_at, r.arrivals) for r in rest.receipts] == [
        (MONDAY, (Arrival(1, 15), Arrival(2, 25))),
        (MONDAY, (Arrival(3, 10), Arrival(1, 25))),
    ]
    assert [data["product_id"] for _, data in entries(backend, "stock.adjusted")] == ["brezel"] * 3  # count + 2
    assert purchase_order(backend, STORE, sent.id) == rest


def test_more_than_a_line_has_open_is_refused_and_nothing_of_that_receipt_is_taken(backend, mill):
    sent = receive(backend, send(backend, mill), (1, 30))
    journal_before = len(backend.journal.entries(STORE))
    over = refused(lambda: receive(backend, sent, (1, 11), (2, 26)))
    unknown_line = refused(lambda: receive(backend, sent, (7, 1)))
    twice = refused(lambda: receive(backend, sent, (2, 1), (2, 1)))
    gone = refused(lambda: receive_goods(ReceiveGoods(STORE, "po_nothing", (Arrival(1, 1),), STAFF), backend))
    assert (over.code, over.extra) == ("over_delivery", {"lines": [{"line": 1, "open": 10}, {"line": 2, "open": 25}]})
    assert fields_of(unknown_line) == ("validation_failed", ["lines[0].line"])
    assert fields_of(twice) == ("validation_failed", ["lines[1].line"])
    assert gone.code == "purchase_order_not_found"
    assert (purchase_order(backend, STORE, sent.id), stock_of(backend)) == (sent, 40)
    assert len(backend.journal.entries(STORE)) == journal_before


def test_a_receipt_adds_its_units_once_when_a_sale_on_another_instance_moved_the_stock_meanwhile(monkeypatch):
    first, second = instances(2)
    for server in (first, second):
        server.mail_after_commit = False  # the test sends no mail
    put(first)
    count(first, 10)
    sent = send(first, create_supplier(CreateSupplier(STORE, *MILL, None, OWNER), first))
    reads, read = [], first.stock.read

    def read_while_a_sale_comes_in(store_id, product_ids):
        counted = read(store_id, product_ids)
        reads.append(counted["brezel"].stock)
        if len(reads) == 1:
            place_order(PlaceOrder(STORE, request(CartItem("brezel", 2)), CUSTOMER), second)
        return counted

    monkeypatch.setattr(first.stock, "read", read_while_a_sale_comes_in)
    received = receive(first, sent, (1, 15))
    # built again on the count the sale left (as often as the store's writers needed to learn what it wrote)
    assert (reads[0], set(reads[1:]), stock_of(second), [line.received for line in received.lines]) == (
        10,
        {8},
        23,
        [15, 0],
    )
    assert entries(second, "purchase_order.received", "stock.adjusted")[-2:] == [
        (
            "purchase_order.received",
            {
                "purchase_order_id": sent.id,
                "number": sent.number,
                "lines": [{"line": 1, "quantity": 15, "received": 15}],
                "status": "partially_received",
            },
        ),
        ("stock.adjusted", {"product_id": "brezel", "reason": "delivery", "before": 8, "after": 23}),
    ]


def test_two_receipts_at_once_on_two_instances_never_receive_more_than_was_ordered():
    servers = instances(2)
    for server in servers:
        server.mail_after_commit = False
    put(servers[0])
    count(servers[0], 10)
    sent = send(servers[0], create_supplier(CreateSupplier(STORE, *MILL, None, OWNER), servers[0]))
    outcomes: list[str] = []

    def receive_thirty(server) -> None:
        try:
            receive(server, sent, (1, 30))
            outcomes.append("received")
        except DomainError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=receive_thirty, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["over_delivery", "received"]
    assert ([line.received for line in purchase_order(servers[1], STORE, sent.id).lines], stock_of(servers[1])) == (
        [30, 0],
        40,
    )
