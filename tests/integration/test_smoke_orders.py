from support import idem, order_body


def test_on_site_order_is_placed_with_invoice_number(client, store_id):
    response = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    assert response.status_code == 201, response.get_data(as_text=True)
    order = response.get_json()
    assert order["status"] == "placed"
    assert order["invoice_number"] == f"DEMO-{order['created_at'][:4]}-000001"
    assert order["totals"]["total"] == 2 * 290 + 260
