"""The catalog and its stock over HTTP on the emulator: a product put (201, then 200) and hidden,
its stock adjusted and counted, who may do which; an order beyond the stock answered with what is
left; a sale at the counter; a refund that restocks; what each refuses, field by field."""

from __future__ import annotations

import pytest

from support import auth, idem, journal_types, order_body, refund

pytestmark = pytest.mark.emulator

BREZEL = {
    "name": "Laugenbrezel",
    "price": 120,
    "vat_rate": "7",
    "kind": "item",
    "category": "Gebäck",
    "options": [{"id": "butter", "name": "mit Butter", "price": 60}],
    "stock_tracked": True,
    "low_stock_at": 3,
}
ONE_BREZEL = [{"product_id": "brezel", "quantity": 1}]


def put(client, store_id, body=None, role="owner", product_id="brezel"):
    return client.put(f"/v1/stores/{store_id}/products/{product_id}", json=body or BREZEL, headers=auth(store_id, role))


def stock(client, store_id, body, role="staff"):
    return client.post(f"/v1/stores/{store_id}/products/brezel/stock", json=body, headers=auth(store_id, role))


def problem(response) -> tuple[int, str, list[str]]:
    body = response.get_json()
    return response.status_code, body["code"], [error["field"] for error in body.get("errors", [])]


@pytest.fixture
def brezel(client, store_id) -> str:
    """The store with the tracked product, 5 in stock."""
    assert put(client, store_id).status_code == 201
    assert stock(client, store_id, {"set": 5, "reason": "count"}).status_code == 200
    return store_id


def test_a_product_is_created_then_changed_and_shown_with_its_stock(client, backend, store_id):
    created = put(client, store_id)
    again = put(client, store_id, BREZEL | {"price": 130, "description": "frisch aus dem Ofen"}, role="supervisor")
    assert (created.status_code, again.status_code) == (201, 200)
    assert created.get_json() == {
        "id": "brezel",
        "name": "Laugenbrezel",
        "price": 120,
        "vat_rate": "7",
        "available": False,  # tracked and never counted: 0 in stock
        "kind": "item",
        "options": [{"id": "butter", "name": "mit Butter", "price": 60}],
        "stock": 0,
        "stock_tracked": True,
        "low_stock_at": 3,
        "category": "Gebäck",
        "description": None,
    }
    assert (again.get_json()["price"], again.get_json()["description"]) == (130, "frisch aus dem Ofen")
    assert journal_types(backend, store_id)[-2:] == ["catalog.changed"] * 2


def test_a_product_is_refused_field_by_field_and_only_owners_and_supervisors_change_it(client, store_id):
    wrong = put(client, store_id, BREZEL | {"price": "1.20", "kind": "giftcard", "low_stock_at": -1})
    gift_card_with_vat = put(client, store_id, BREZEL | {"kind": "giftcard", "options": []}, product_id="gutschein")
    bad_id = put(client, store_id, product_id="Brezel_Gross")
    as_staff = put(client, store_id, role="staff")
    assert problem(wrong) == (422, "validation_failed", ["price", "low_stock_at"])
    assert problem(gift_card_with_vat) == (422, "validation_failed", ["vat_rate"])
    assert problem(bad_id) == (422, "validation_failed", ["id"])
    assert problem(as_staff) == (403, "forbidden", [])


def test_a_hidden_product_leaves_the_menu_and_its_orders_keep_it(client, store_id):
    placed = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    hidden = client.delete(f"/v1/stores/{store_id}/products/croissant", headers=auth(store_id, "supervisor"))
    unknown = client.delete(f"/v1/stores/{store_id}/products/pretzel", headers=auth(store_id, "owner"))
    assert (hidden.status_code, problem(unknown)) == (204, (404, "product_not_found", []))
    menu = client.get(f"/v1/stores/{store_id}/menu").get_json()
    assert "croissant" not in [product["id"] for product in menu["products"]]
    shown = client.get(f"/v1/stores/{store_id}/orders/{placed['id']}", headers=auth(store_id)).get_json()
    assert [(line["product_id"], line["name"]) for line in shown["lines"]] == [
        ("croissant", "Butter-Croissant"),
        ("espresso", "Espresso"),
    ]
    again = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    assert problem(again) == (422, "validation_failed", ["items[0].product_id"])


def test_staff_adjust_and_count_the_stock_never_below_zero(client, brezel):
    delivered = stock(client, brezel, {"adjust": 7, "reason": "delivery"})
    too_much = stock(client, brezel, {"adjust": -13, "reason": "waste"})
    assert (delivered.status_code, delivered.get_json()) == (
        200,
        {"product_id": "brezel", "stock": 12, "low_stock_at": 3},
    )
    assert problem(too_much) == (409, "insufficient_stock", [])
    assert too_much.get_json()["stock"] == 12
    assert problem(stock(client, brezel, {"adjust": 1, "set": 4, "reason": "count"})) == (
        422,
        "validation_failed",
        ["body"],
    )
    assert problem(stock(client, brezel, {"adjust": 0, "reason": "count"}))[:2] == (422, "validation_failed")
    assert problem(stock(client, brezel, {"set": 4, "reason": "theft"})) == (422, "validation_failed", ["reason"])
    assert problem(stock(client, brezel, {"set": 4, "reason": "count"}, role="finance")) == (403, "forbidden", [])


def test_an_order_beyond_the_stock_is_answered_with_what_is_left(client, brezel):
    body = order_body(items=[{"product_id": "brezel", "quantity": 4}, {"product_id": "brezel", "quantity": 2}])
    refused = client.post(f"/v1/stores/{brezel}/orders", json=body, headers=idem())
    online = client.post(f"/v1/stores/{brezel}/orders", json=body | {"payment": {"method": "online"}}, headers=idem())
    assert refused.get_json() | {"detail": None} == {
        "type": "https://tresen.dev/problems/out_of_stock",
        "title": "Not enough in stock",
        "status": 409,
        "detail": None,
        "code": "out_of_stock",
        "available": {"brezel": 5},
    }
    assert (online.status_code, online.get_json()["available"]) == (409, {"brezel": 5})
    placed = client.post(f"/v1/stores/{brezel}/orders", json=order_body(items=ONE_BREZEL), headers=idem())
    assert (placed.status_code, placed.get_json()["channel"]) == (201, "online")


def test_a_sale_at_the_counter_takes_the_same_stock_and_needs_an_idempotency_key(client, brezel):
    body = order_body(items=[{"product_id": "brezel", "quantity": 2}])
    del body["customer"]
    url = f"/v1/stores/{brezel}/counter-orders"
    sold = client.post(url, json=body, headers=auth(brezel) | idem())
    assert sold.status_code == 201, sold.get_json()
    assert (sold.get_json()["channel"], sold.get_json()["customer"]) == (
        "counter",
        {"name": "Gast an der Kasse", "email": "kasse@tresen.invalid", "phone": None},
    )
    assert stock(client, brezel, {"adjust": 1, "reason": "correction"}).get_json()["stock"] == 4
    assert problem(client.post(url, json=body, headers=auth(brezel))) == (400, "idempotency_key_required", [])
    online = body | {"payment": {"method": "online"}}
    assert problem(client.post(url, json=online, headers=auth(brezel) | idem())) == (
        422,
        "validation_failed",
        ["payment.method"],
    )
    mailed = body | {"receipt": "email"}
    assert problem(client.post(url, json=mailed, headers=auth(brezel) | idem())) == (
        422,
        "validation_failed",
        ["customer.email"],
    )
    assert problem(client.post(url, json=body, headers=auth(brezel, "finance") | idem())) == (403, "forbidden", [])


def test_a_refund_by_lines_with_restock_gives_the_units_back(client, brezel):
    placed = client.post(f"/v1/stores/{brezel}/orders", json=order_body(items=ONE_BREZEL * 2), headers=idem())
    order_id = placed.get_json()["id"]  # paid at the counter: 2 taken, 3 left
    by_amount = refund(client, brezel, order_id, {"amount": 120, "restock": True})
    by_lines = refund(client, brezel, order_id, {"lines": [{"line_id": "L2", "quantity": 1}], "restock": True})
    assert problem(by_amount)[:2] == (422, "validation_failed")
    assert by_lines.status_code == 201, by_lines.get_json()
    assert stock(client, brezel, {"adjust": 1, "reason": "correction"}).get_json()["stock"] == 5
