"""Helpers for building requests in tests."""

from __future__ import annotations

import uuid

from tresen.adapters.identity import unsigned_dev_token


def staff_token(stores: dict[str, str], uid: str = "staff-1", expires_in: int = 3600) -> str:
    """An unsigned Firebase ID token, as the Auth emulator issues them."""
    return unsigned_dev_token(uid=uid, stores=stores, lifetime=expires_in)


def order_body(**overrides) -> dict:
    body = {
        "items": [{"product_id": "croissant", "quantity": 2}, {"product_id": "espresso", "quantity": 1}],
        "fulfilment": {"type": "pickup"},
        "customer": {"name": "Anna Beispiel", "email": "anna@example.com"},
        "payment": {"method": "on_site"},
    }
    body.update(overrides)
    return body


def idem() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}
