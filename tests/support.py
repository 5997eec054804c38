"""Helpers for building requests in tests."""

from __future__ import annotations

import base64
import json
import time
import uuid


def staff_token(stores: dict[str, str], uid: str = "staff-1", expires_in: int = 3600) -> str:
    """An unsigned Firebase ID token, as the Auth emulator issues them."""

    def b64(part: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "aud": "demo-tresen", "iss": "https://securetoken.google.com/demo-tresen", "sub": uid, "user_id": uid,
        "iat": now - 10, "auth_time": now - 10, "exp": now + expires_in, "stores": stores,
    }
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


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
