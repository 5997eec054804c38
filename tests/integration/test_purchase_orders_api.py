"""Suppliers and purchase orders over HTTP on the emulator: a supplier added and listed; a purchase
order sent once per Idempotency-Key, its mail with the PDF and CSV in the outbox and its PDF
downloadable as mailed; goods received by staff into the stock of a tracked product, a receipt
retried with its key taking nothing twice, more than was ordered refused; who may do which, and what
each refuses, field by field."""

from __future__ import annotations

import pytest

from support import auth, idem, journal_types
from tresen.adapters.mail_outbox import mail_path
from tresen.services.stock import stock_level

pytestmark = pytest.mark.emulator

MILL = {"name": "Mühle Schmidt GmbH", "email": "bestellung@muehle-schmidt.de", "customer_number": "K-4711"}
BREZEL = {"name": "Laugenbrezel", "price": 120, "vat_rate": "7", "kind": "item", "stock_tracked": True}
ORDERED = [
    {"product_id": "brezel", "quantity": 40, "unit": "Stück"},
    {"name": "Weizenmehl Type 550", "quantity": 25, "unit": "kg"},
]


def problem(response) -> tuple[int, str, list[str]]:
    body = response.get_json()
    return response.status_code, body["code"], [error["field"] for error in body.get("errors", [])]


def add_supplier(client, store_id, body=None, role="owner"):
    return client.post(f"/v1/stores/{store_id}/suppliers", json=body or MILL, headers=auth(store_id, role))


def send(client, store_id, supplier_id, lines=None, role="supervisor", headers=None):
    return client.post(
        f"/v1/stores/{store_id}/purchase-orders",
        json={"supplier_id": supplier_id, "lines": lines or ORDERED},
        headers=auth(store_id, role) | (headers or idem()),
    )


def receive(client, store_id, order_id, lines, role="staff", headers=None):
    return client.post(
        f"/v1/stores/{store_id}/purchase-orders/{order_id}/receive",
        json={"lines": [{"line": line, "quantity": units} for line, units in lines]},
        headers=auth(store_id, role) | (headers or idem()),
    )


@pytest.fixture
def mill(client, store_id) -> str:
    """The store's supplier, and its tracked product with 5 in stock; the supplier's id."""
    assert (
        client.put(f"/v1/stores/{store_id}/products/brezel", json=BREZEL, headers=auth(store_id, "owner")).status_code
        == 201
    )
    counted = client.post(
        f"/v1/stores/{store_id}/products/brezel/stock", json={"set": 5, "reason": "count"}, headers=auth(store_id)
    )
    assert counted.status_code == 200
    return add_supplier(client, store_id).get_json()["id"]


def test_suppliers_are_added_by_owners_and_supervisors_and_listed_by_name(client, backend, store_id):
    added = add_supplier(client, store_id)
    alpha = add_supplier(client, store_id, {"name": "Alpha", "email": "info@alpha.example"}, role="supervisor")
    assert added.status_code == 201
    assert added.get_json() == {"id": added.get_json()["id"], **MILL}
    assert added.get_json()["id"].startswith("sup_")
    listed = client.get(f"/v1/stores/{store_id}/suppliers", headers=auth(store_id, "finance"))
    assert [supplier["name"] for supplier in listed.get_json()["data"]] == ["Alpha", "Mühle Schmidt GmbH"]
    assert alpha.get_json()["customer_number"] is None
    assert journal_types(backend, store_id)[-2:] == ["supplier.created"] * 2
    assert problem(add_supplier(client, store_id, MILL | {"email": "bestellung"})) == (
        422,
        "validation_failed",
        ["email"],
    )
    assert problem(add_supplier(client, store_id, MILL | {"email": "a@b..de"})) == (422, "validation_failed", ["email"])
    assert problem(add_supplier(client, store_id, role="staff")) == (403, "forbidden", [])


def test_a_purchase_order_is_sent_once_per_key_with_its_pdf_and_csv_in_the_outbox(client, backend, store_id, mill):
    key = idem()
    sent = send(client, store_id, mill, headers=key)
    again = send(client, store_id, mill, headers=key)
    order = sent.get_json()
    assert (sent.status_code, again.status_code, again.headers["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.get_json() == order
    assert order == {
        "id": order["id"],
        "number": order["number"],
        "supplier_id": mill,
        "lines": [
            {"line": 1, "product_id": "brezel", "name": "Laugenbrezel", "quantity": 40, "unit": "Stück", "received": 0},
            {"line": 2, "product_id": None, "name": "Weizenmehl Type 550", "quantity": 25, "unit": "kg", "received": 0},
        ],
        "status": "sent",
        "created_at": order["created_at"],
        "receipts": [],
    }
    assert order["number"].startswith("PO-20") and order["number"].endswith("-000001")
    assert order["created_at"][-6:] in ("+01:00", "+02:00")  # the store's time
    assert journal_types(backend, store_id).count("purchase_order.created") == 1
    mail = backend.docs.get(mail_path(f"po-{order['id']}")).data
    assert (mail["to"], mail["subject"]) == (MILL["email"], f"Bestellung {order['number']} von Demo Café")
    pdf, csv = mail["attachments"]
    assert [(pdf["filename"], pdf["content_type"]), (csv["filename"], csv["content_type"])] == [
        (f"Bestellung {order['number']}.pdf", "application/pdf"),
        (f"Bestellung {order['number']}.csv", "text/csv"),
    ]
    assert (
        bytes(csv["content"])
        == (
            "\ufeffPosition;Artikelnummer;Bezeichnung;Menge;Einheit\r\n"
            "1;brezel;Laugenbrezel;40;Stück\r\n2;;Weizenmehl Type 550;25;kg\r\n"
        ).encode()
    )
    document = client.get(f"/v1/stores/{store_id}/purchase-orders/{order['id']}.pdf", headers=auth(store_id))
    assert (document.status_code, document.content_type, document.data) == (
        200,
        "application/pdf",
        bytes(pdf["content"]),
    )
    listed = client.get(f"/v1/stores/{store_id}/purchase-orders", headers=auth(store_id)).get_json()["data"]
    assert [listed_order["id"] for listed_order in listed] == [order["id"]]


def test_a_purchase_order_is_refused_field_by_field(client, store_id, mill):
    both = {"product_id": "brezel", "name": "Brezel", "quantity": 1, "unit": "Stück"}
    assert problem(send(client, store_id, mill, [both, {"quantity": 1, "unit": "kg"}])) == (
        422,
        "validation_failed",
        ["lines[0]", "lines[1]"],
    )
    bad_units = [{"name": "Mehl", "quantity": 0, "unit": "kg"}, {"name": "Milch", "quantity": 2.5, "unit": ""}]
    assert problem(send(client, store_id, mill, bad_units)) == (
        422,
        "validation_failed",
        ["lines[0].quantity", "lines[1].quantity", "lines[1].unit"],
    )
    unknown = [{"name": "Mehl", "quantity": 1, "unit": "kg"}, {"product_id": "pretzel", "quantity": 1, "unit": "Stück"}]
    assert problem(send(client, store_id, mill, unknown)) == (422, "validation_failed", ["lines[1].product_id"])
    assert problem(send(client, store_id, "sup_nobody")) == (422, "validation_failed", ["supplier_id"])
    assert problem(send(client, store_id, mill, role="staff")) == (403, "forbidden", [])
    listed = client.get(f"/v1/stores/{store_id}/purchase-orders", headers=auth(store_id)).get_json()
    assert listed == {"data": []}
    unkeyed = client.post(
        f"/v1/stores/{store_id}/purchase-orders",
        json={"supplier_id": mill, "lines": ORDERED},
        headers=auth(store_id, "owner"),
    )
    assert (unkeyed.status_code, "Idempotent-Replayed" in unkeyed.headers) == (201, False)  # a key is not demanded
    malformed = client.post(
        f"/v1/stores/{store_id}/purchase-orders",
        json={"supplier_id": mill, "lines": ORDERED},
        headers=auth(store_id, "owner") | {"Idempotency-Key": ""},
    )
    assert problem(malformed) == (400, "idempotency_key_required", [])


def test_goods_received_by_staff_raise_the_stock_once_and_never_beyond_what_was_ordered(
    client, backend, store_id, mill
):
    order = send(client, store_id, mill).get_json()
    key = idem()
    first = receive(client, store_id, order["id"], [(1, 15), (2, 25)], headers=key)
    retried = receive(client, store_id, order["id"], [(1, 15), (2, 25)], headers=key)
    assert (first.status_code, retried.status_code, retried.get_json()) == (200, 200, first.get_json())
    body = first.get_json()
    assert (body["status"], [line["received"] for line in body["lines"]]) == ("partially_received", [15, 25])
    assert [receipt["lines"] for receipt in body["receipts"]] == [
        [{"line": 1, "quantity": 15}, {"line": 2, "quantity": 25}]
    ]
    assert stock_level(backend, store_id, "brezel").stock == 20  # 5 counted, 15 delivered: once
    over = receive(client, store_id, order["id"], [(1, 26)])
    assert problem(over) == (409, "over_delivery", [])
    assert over.get_json()["lines"] == [{"line": 1, "open": 25}]
    assert problem(receive(client, store_id, order["id"], [(3, 1)])) == (422, "validation_failed", ["lines[0].line"])
    assert problem(receive(client, store_id, order["id"], [(1, 1)], role="finance")) == (403, "forbidden", [])
    rest = receive(client, store_id, order["id"], [(1, 25)])
    assert (rest.get_json()["status"], stock_level(backend, store_id, "brezel").stock) == ("received", 45)
    assert journal_types(backend, store_id)[-4:] == [
        "purchase_order.received",
        "stock.adjusted",
        "purchase_order.received",
        "stock.adjusted",
    ]
    read = client.get(f"/v1/stores/{store_id}/purchase-orders/{order['id']}", headers=auth(store_id, "finance"))
    assert read.get_json() == rest.get_json()


def test_a_purchase_order_of_another_store_is_not_found(client, store_id, mill):
    order = send(client, store_id, mill).get_json()
    elsewhere = "demo" if store_id != "demo" else "other"
    for path in (f"{order['id']}", f"{order['id']}.pdf", "po_unknown", "not%20an%20id"):
        found = client.get(f"/v1/stores/{elsewhere}/purchase-orders/{path}", headers=auth(elsewhere))
        assert problem(found) == (404, "purchase_order_not_found", []), path
    missing = receive(client, elsewhere, order["id"], [(1, 1)])
    assert problem(missing) == (404, "purchase_order_not_found", [])
