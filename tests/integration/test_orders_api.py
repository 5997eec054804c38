"""Menu and orders over HTTP (in-process app against the emulators)."""

from dataclasses import replace

from support import idem, order_body, staff_token
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store


def place(client, store_id, **overrides):
    response = client.post(f"/v1/stores/{store_id}/orders", json=order_body(**overrides), headers=idem())
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_menu_lists_the_store_and_its_products(client, store_id):
    menu = client.get(f"/v1/stores/{store_id}/menu").get_json()
    assert menu["store"] == {
        "id": store_id,
        "name": "Demo Café",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "open_now": True,
        "payment_methods": ["online", "on_site", "card_present"],
        "online_providers": ["sandbox"],
        "fulfilment_types": ["pickup", "table"],
    }
    products = {p["id"]: p for p in menu["products"]}
    assert len(products) == 8
    assert products["soup"]["available"] is False
    assert products["giftcard-25"] == {
        "id": "giftcard-25",
        "name": "Geschenkkarte 25 €",
        "price": 2500,
        "vat_rate": None,
        "available": True,
        "kind": "giftcard",
        "options": [],
    }
    assert {p["vat_rate"] for p in products.values()} == {"7", "19", None}


def test_unknown_store_is_404(client, backend):
    response = client.get("/v1/stores/nowhere/menu")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "store_not_found"


def test_prices_come_from_the_catalog_only(client, store_id):
    order = place(
        client,
        store_id,
        items=[
            {"product_id": "bagel", "quantity": 2, "options": ["salmon"], "price": 1, "unit_price": 1},
            {"product_id": "cappuccino", "quantity": 1, "options": ["oat"], "total": 0},
        ],
        tip=100,
        totals={"total": 1},
    )
    assert [(line["unit_price"], line["total"]) for line in order["lines"]] == [(800, 1600), (430, 430)]
    assert order["totals"] == {
        "subtotal": 2030,
        "discount": 0,
        "tip": 100,
        "total": 2130,
        "vat": [
            {"rate": "7", "net": 1495, "tax": 105, "gross": 1600},
            {"rate": "19", "net": 361, "tax": 69, "gross": 430},
        ],
        "giftcards_sold": 0,
    }
    assert order["amount_due"] == 2130


def test_on_site_order_is_placed_with_gap_free_invoice_numbers(client, store_id):
    first, second = place(client, store_id), place(client, store_id)
    year = first["created_at"][:4]
    assert (first["status"], first["payment_status"], first["payment"]) == ("placed", "unpaid", None)
    assert [first["invoice_number"], second["invoice_number"]] == [f"DEMO-{year}-000001", f"DEMO-{year}-000002"]
    assert [first["number"], second["number"]] == [1, 2]
    assert first["created_at"].endswith(("+01:00", "+02:00"))


def test_online_order_awaits_payment_with_a_checkout_url(client, store_id):
    order = place(client, store_id, payment={"method": "online"})
    assert (order["status"], order["invoice_number"]) == ("awaiting_payment", None)
    payment = order["payment"]
    assert payment["provider"] == "sandbox" and payment["id"].startswith("pay_sbx_")
    assert payment["checkout_url"].endswith(f"/v1/sandbox/checkout/{payment['id']}")
    assert order["expires_at"] is not None


def test_customer_reads_own_order_with_token_and_nothing_else(client, store_id):
    order = place(client, store_id)
    token = order.pop("access_token")
    mine = client.get(f"/v1/orders/{order['id']}", headers={"X-Order-Token": token})
    assert mine.status_code == 200
    assert mine.get_json() == order
    wrong = client.get(f"/v1/orders/{order['id']}", headers={"X-Order-Token": "guess"})
    missing = client.get("/v1/orders/ord_doesnotexist", headers={"X-Order-Token": token})
    no_token = client.get(f"/v1/orders/{order['id']}")
    assert wrong.status_code == missing.status_code == no_token.status_code == 404
    assert wrong.get_json() == missing.get_json() == no_token.get_json()


def test_sold_out_product_and_closed_store_are_409(client, store_id, backend):
    sold_out = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(items=[{"product_id": "soup", "quantity": 1}]), headers=idem()
    )
    assert (sold_out.status_code, sold_out.get_json()["code"]) == (409, "product_unavailable")
    closed_id = store_id + "c"
    seed_store(SeedStore(replace(DEMO_STORE, id=closed_id, opening_hours={}), DEMO_PRODUCTS), backend)
    closed = client.post(f"/v1/stores/{closed_id}/orders", json=order_body(), headers=idem())
    assert (closed.status_code, closed.get_json()["code"]) == (409, "store_closed")
    assert client.get(f"/v1/stores/{closed_id}/menu").get_json()["store"]["open_now"] is False


def test_validation_failures_name_each_field(client, store_id):
    response = client.post(
        f"/v1/stores/{store_id}/orders",
        headers=idem(),
        json=order_body(
            items=[{"product_id": "croissant", "quantity": 0}, {"product_id": "espresso", "quantity": 1.0}],
            tip=-1,
            customer={"name": "", "email": "not-an-email"},
            fulfilment={"type": "table"},
        ),
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "validation_failed"
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {
        "items[0].quantity",
        "items[1].quantity",
        "tip",
        "customer.name",
        "customer.email",
        "fulfilment.table",
    }


def test_money_as_string_or_float_is_422(client, store_id):
    for tip in ("100", 1.5, True, 100.0):
        response = client.post(f"/v1/stores/{store_id}/orders", json=order_body(tip=tip), headers=idem())
        assert response.status_code == 422, tip
        assert response.get_json()["errors"][0]["field"] == "tip"


def test_staff_list_and_read_orders_of_their_store(client, store_id):
    placed = [place(client, store_id, payment={"method": m}) for m in ("on_site", "online", "on_site")]
    auth = {"Authorization": f"Bearer {staff_token({store_id: 'staff'})}"}
    page = client.get(f"/v1/stores/{store_id}/orders?limit=2", headers=auth).get_json()
    assert [o["id"] for o in page["data"]] == [placed[2]["id"], placed[1]["id"]]
    assert page["has_more"] is True
    rest = client.get(f"/v1/stores/{store_id}/orders?limit=2&cursor={page['next_cursor']}", headers=auth).get_json()
    assert ([o["id"] for o in rest["data"]], rest["has_more"], rest["next_cursor"]) == ([placed[0]["id"]], False, None)
    awaiting = client.get(f"/v1/stores/{store_id}/orders?status=awaiting_payment", headers=auth).get_json()
    assert [o["id"] for o in awaiting["data"]] == [placed[1]["id"]]
    since = client.get(
        f"/v1/stores/{store_id}/orders", headers=auth, query_string={"since": "2999-01-01T00:00:00+00:00"}
    ).get_json()
    assert since["data"] == []
    one = client.get(f"/v1/stores/{store_id}/orders/{placed[0]['id']}", headers=auth).get_json()
    assert "access_token" not in one and one["id"] == placed[0]["id"]


def test_staff_endpoints_check_token_and_store(client, store_id):
    path = f"/v1/stores/{store_id}/orders"
    cases = [
        ({}, 401, "unauthenticated"),
        ({"Authorization": "Bearer not-a-jwt"}, 401, "unauthenticated"),
        ({"Authorization": f"Bearer {staff_token({store_id: 'staff'}, expires_in=-60)}"}, 401, "unauthenticated"),
        ({"Authorization": f"Bearer {staff_token({'other': 'owner'})}"}, 403, "forbidden"),
        ({"Authorization": f"Bearer {staff_token({store_id: 'finance'})}"}, 200, None),
    ]
    for headers, status, code in cases:
        response = client.get(path, headers=headers)
        assert response.status_code == status, (headers, response.get_data(as_text=True))
        if code:
            assert response.get_json()["code"] == code


def test_bad_list_parameters_are_422(client, store_id):
    auth = {"Authorization": f"Bearer {staff_token({store_id: 'owner'})}"}
    for query in ("limit=0", "limit=1001", "status=lost", "since=yesterday", "cursor=%%%", "bogus=1"):
        response = client.get(f"/v1/stores/{store_id}/orders?{query}", headers=auth)
        assert response.status_code == 422, query


def test_health_and_openapi(client, backend):
    assert client.get("/v1/health").get_json() == {"status": "ok"}
    document = client.get("/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    create = document["paths"]["/v1/stores/{store}/orders"]["post"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CreatedOrderOut"
    }
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    assert "CreateOrder" in document["components"]["schemas"]
