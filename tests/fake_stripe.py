"""Stripe's side, played through the `stripe` library's own pluggable HTTP client: no network.

Each request is recorded (method, path, form fields, idempotency key) and answered with the
object Stripe would return. Signatures for webhooks are made exactly as Stripe makes them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import parse_qsl, urlparse

from stripe._http_client import HTTPClient


class FakeStripe(HTTPClient):
    name = "fake"

    def __init__(self):
        super().__init__()
        self.calls: list[dict] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        fields = dict(parse_qsl(post_data or ""))
        path = urlparse(url).path
        self.calls.append(
            {"method": method, "path": path, "fields": fields, "idempotency_key": headers.get("Idempotency-Key")}
        )
        n = f"{len(self.calls)}_{uuid.uuid4().hex[:10]}"  # unique across tests, like Stripe's ids
        if path == "/v1/payment_intents":
            body = {
                "id": f"pi_{n}",
                "object": "payment_intent",
                "status": "requires_payment_method",
                "amount": int(fields["amount"]),
                "currency": fields["currency"],
                "client_secret": f"pi_{n}_secret",
            }
        elif path.startswith("/v1/payment_intents/"):
            intent_id = path.rsplit("/", 1)[1]
            body = {
                "id": intent_id,
                "object": "payment_intent",
                "status": "requires_payment_method",
                "amount": int(fields["amount"]),
                "currency": "eur",
                "client_secret": f"{intent_id}_secret",
            }
        elif path == "/v1/refunds":
            body = {"id": f"re_{n}", "object": "refund", "status": "succeeded", "amount": int(fields["amount"])}
        else:
            return json.dumps({"error": {"message": "not faked"}}), 404, {}
        self.calls[-1]["response_id"] = body["id"]
        return json.dumps(body), 200, {"Request-Id": f"req_{n}"}

    def close(self):
        pass


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def intent_event(kind: str, intent_id: str, amount: int, currency: str = "eur") -> bytes:
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": currency,
        "amount_received": amount if kind == "succeeded" else 0,
        "last_payment_error": {"message": "Your card was declined."} if kind == "payment_failed" else None,
    }
    return json.dumps(
        {
            "id": f"evt_{intent_id}_{kind}_{time.time_ns()}",
            "object": "event",
            "type": f"payment_intent.{kind}",
            "data": {"object": intent},
        }
    ).encode()
