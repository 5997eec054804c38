"""The catalog as staff list it over HTTP on the emulator: every product on the menu in its order, as
put, with its stock; a hidden one left out; sold out by hand told apart from sold out by its stock;
every role reads it, nobody without a token."""

from __future__ import annotations

import pytest

from support import auth

pytestmark = pytest.mark.emulator

BREZEL = {
    "name": "Laugenbrezel",
    "price": 120,
    "vat_rate": "7",
    "kind": "item",
    "category": "Gebäck",
    "description": "frisch aus dem Ofen",
    "stock_tracked": True,
    "low_stock_at": 3,
}


def listed(client, store_id, role="staff") -> list[dict]:
    answer = client.get(f"/v1/stores/{store_id}/products", headers=auth(store_id, role))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["data"]


def test_the_products_are_listed_in_the_menus_order_with_their_stock(client, store_id):
    path = f"/v1/stores/{store_id}/products"
    assert client.put(f"{path}/brezel", json=BREZEL, headers=auth(store_id, "owner")).status_code == 201
    counted = client.post(f"{path}/brezel/stock", json={"set": 2, "reason": "count"}, headers=auth(store_id))
    assert counted.status_code == 200
    assert client.delete(f"{path}/cheesecake", headers=auth(store_id, "owner")).status_code == 204

    products = listed(client, store_id)
    assert [product["id"] for product in products] == [
        "croissant",
        "bagel",
        "soup",
        "espresso",
        "cappuccino",
        "lemonade",
        "giftcard-25",
        "brezel",
    ]
    assert products[-1] == {
        "id": "brezel",
        "name": "Laugenbrezel",
        "price": 120,
        "vat_rate": "7",
        "available": True,
        "kind": "item",
        "options": [],
        "stock": 2,
        "stock_tracked": True,
        "low_stock_at": 3,
        "category": "Gebäck",
        "description": "frisch aus dem Ofen",
        "sold_out_by_hand": False,
    }
    assert products[0] | {"options": None} == {
        "id": "croissant",
        "name": "Butter-Croissant",
        "price": 290,
        "vat_rate": "7",
        "available": True,
        "kind": "item",
        "options": None,
        "stock": 0,
        "stock_tracked": False,
        "low_stock_at": None,
        "category": None,
        "description": None,
        "sold_out_by_hand": False,
    }
    assert [option["id"] for option in products[1]["options"]] == ["salmon", "avocado"]


def test_sold_out_by_hand_is_told_apart_from_sold_out_by_the_stock(client, store_id):
    path = f"/v1/stores/{store_id}/products"
    assert client.put(f"{path}/brezel", json=BREZEL, headers=auth(store_id, "supervisor")).status_code == 201
    by_hand = {product["id"]: product for product in listed(client, store_id)}
    assert (by_hand["soup"]["available"], by_hand["soup"]["sold_out_by_hand"]) == (False, True)
    assert (by_hand["brezel"]["available"], by_hand["brezel"]["sold_out_by_hand"], by_hand["brezel"]["stock"]) == (
        False,
        False,
        0,
    )


@pytest.mark.parametrize("role", ["owner", "supervisor", "staff", "finance"])
def test_every_role_reads_the_catalog(client, store_id, role):
    assert len(listed(client, store_id, role)) == 8


def test_no_token_and_no_store_are_refused(client, store_id):
    anonymous = client.get(f"/v1/stores/{store_id}/products")
    unknown = client.get("/v1/stores/nowhere/products", headers=auth("nowhere", "owner"))
    assert (anonymous.status_code, anonymous.get_json()["code"]) == (401, "unauthenticated")
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "store_not_found")
