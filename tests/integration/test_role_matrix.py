"""Every staff endpoint × every role, plus no token, another store's token and an expired token."""

import pytest

from support import idem, order_body, paid_order, staff_token

ROLES = ("owner", "supervisor", "staff", "finance")
# endpoint → (method, path template, body, roles allowed, success status)
ENDPOINTS = {
    "list orders": ("GET", "/v1/stores/{store}/orders", None, ROLES, 200),
    "read order": ("GET", "/v1/stores/{store}/orders/{order}", None, ROLES, 200),
    "list checkpoints": ("GET", "/v1/stores/{store}/journal/checkpoints", None, ROLES, 200),
    "change status": (
        "POST",
        "/v1/stores/{store}/orders/{order}/status",
        {"status": "accepted"},
        ("owner", "supervisor", "staff"),
        200,
    ),
    "refund": ("POST", "/v1/stores/{store}/orders/{order}/refunds", {"amount": 10}, ("owner", "supervisor"), 201),
    # the matrix uses a paid order, so an allowed void or discount is refused for what it is: paid
    "void": (
        "POST",
        "/v1/stores/{store}/orders/{order}/void",
        {"lines": [{"line_id": "L1", "quantity": 1}]},
        ("owner", "supervisor", "staff"),
        409,
    ),
    "discount": (
        "POST",
        "/v1/stores/{store}/orders/{order}/discount",
        {"amount": 10},
        ("owner", "supervisor", "staff"),
        409,
    ),
    "set passkey": (
        "PUT",
        "/v1/stores/{store}/passkey",
        {"pin": "123456", "protect": []},
        ("owner", "supervisor"),
        204,
    ),
}
# a staff member may refund with the passkey only: without it the answer names what is missing
SPECIAL = {("refund", "staff"): (403, "passkey_required"), ("discount", "staff"): (403, "passkey_required")}


def call(client, endpoint, store_id, order_id, token):
    method, template, body, _, _ = ENDPOINTS[endpoint]
    headers = idem() | ({"Authorization": f"Bearer {token}"} if token else {})
    return client.open(template.format(store=store_id, order=order_id), method=method, json=body, headers=headers)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_role_gets_its_expected_answer(client, store_id, endpoint):
    order = paid_order(client, store_id)
    _, _, _, allowed, success = ENDPOINTS[endpoint]
    for role in ROLES:
        response = call(client, endpoint, store_id, order["id"], staff_token({store_id: role}, uid=f"u-{role}"))
        expected = SPECIAL.get((endpoint, role)) or ((success, None) if role in allowed else (403, "forbidden"))
        assert response.status_code == expected[0], (endpoint, role, response.get_data(as_text=True))
        if expected[1]:
            assert response.get_json()["code"] == expected[1], (endpoint, role)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_token_another_store_or_expired_token_is_refused(client, store_id, endpoint):
    order = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    cases = [
        (None, 401, "unauthenticated"),
        ("garbage", 401, "unauthenticated"),
        (staff_token({store_id: "owner"}, expires_in=-60), 401, "unauthenticated"),
        (staff_token({"another-store": "owner"}), 403, "forbidden"),
    ]
    for token, status, code in cases:
        response = call(client, endpoint, store_id, order["id"], token)
        assert (response.status_code, response.get_json()["code"]) == (status, code), (endpoint, token)
