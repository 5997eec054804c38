"""A merchant and its customers over HTTP against a running `tresen dev` (the e2e tests)."""

from __future__ import annotations

import uuid

import requests

from stack import wait_for_status
from support import staff_token


class Merchant:
    def __init__(self, base: str, role: str = "supervisor"):
        self.base = base
        self.auth = {"Authorization": f"Bearer {staff_token({'demo': role}, uid=f'e2e-{role}')}"}

    def post(self, path: str, body: dict | None = None, status: int = 200) -> dict:
        headers = self.auth | {"Idempotency-Key": str(uuid.uuid4())}
        response = requests.post(f"{self.base}{path}", json=body, headers=headers, timeout=30)
        assert response.status_code == status, response.text
        return response.json()

    def get(self, path: str) -> requests.Response:
        response = requests.get(f"{self.base}{path}", headers=self.auth, timeout=30)
        assert response.status_code == 200, response.text
        return response


def customer_order(base: str, items: list[dict], gift_cards: list[dict] | None = None) -> dict:
    body = {
        "items": items,
        "fulfilment": {"type": "pickup"},
        "customer": {"name": "Ben", "email": "ben@example.com"},
        "payment": {"method": "online"},
        "gift_cards": gift_cards or [],
    }
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    response = requests.post(f"{base}/v1/stores/demo/orders", json=body, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def pay_at_checkout(base: str, order: dict) -> dict:
    requests.post(order["payment"]["checkout_url"], data={"action": "pay"}, timeout=10)
    return wait_for_status(base, order, "paid")
