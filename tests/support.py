"""Helpers the tests share: requests and tokens, orders paid through the sandbox, gift cards, the CLI,
and an order of the domain alone. Fixtures live in conftest.py."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from datetime import UTC, datetime

from stack import ROOT, TRESEN
from tresen.adapters.giftcard_store import keyed_hash
from tresen.adapters.identity import unsigned_dev_token
from tresen.domain.giftcards import normalize_code
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest, PaymentRef, new_order, price_cart
from tresen.domain.signatures import sign
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE

SANDBOX_SECRET = "whsec_sandbox_dev"

# ---------------------------------------------------------------- requests and tokens


def staff_token(stores: dict[str, str], uid: str = "staff-1", expires_in: int = 3600) -> str:
    """An unsigned Firebase ID token, as the Auth emulator issues them."""
    return unsigned_dev_token(uid=uid, stores=stores, lifetime=expires_in)


def auth(store_id, role="staff", uid="staff-1"):
    return {"Authorization": f"Bearer {staff_token({store_id: role}, uid=uid)}"}


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


# ---------------------------------------------------------------- orders, paid through the sandbox provider


def online_order(client, store_id):
    response = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
    )
    assert response.status_code == 201
    return response.get_json()


def deliver(client, event, secret=SANDBOX_SECRET, timestamp=None, body=None):
    """A sandbox webhook, signed over `event`; `body` sends other bytes under that signature."""
    raw = body if body is not None else json.dumps(event).encode()
    header = sign(json.dumps(event).encode(), secret, timestamp or int(time.time()))
    return client.post(
        "/v1/webhooks/sandbox", data=raw, content_type="application/json", headers={"Sandbox-Signature": header}
    )


def payment_event(order, kind, amount=None, event_id=None):
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": f"payment.{kind}",
        "created": int(time.time()),
        "data": {
            "payment_id": order["payment"]["id"],
            "amount": order["amount_due"] if amount is None else amount,
            "currency": "EUR",
        },
    }


def paid_order(client, store_id, **body):
    response = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}, **body), headers=idem()
    )
    order = response.get_json()
    deliver(client, payment_event(order, "succeeded"))
    return order


def read(client, order):
    return client.get(f"/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}).get_json()


def refund(client, store_id, order_id, body, role="supervisor", headers=None):
    return client.post(
        f"/v1/stores/{store_id}/orders/{order_id}/refunds",
        json=body,
        headers={"Authorization": f"Bearer {staff_token({store_id: role})}"} | (idem() if headers is None else headers),
    )


def set_passkey(client, store_id, pin="246810", protect=("refund",), role="owner"):
    return client.put(
        f"/v1/stores/{store_id}/passkey",
        json={"pin": pin, "protect": list(protect)},
        headers={"Authorization": f"Bearer {staff_token({store_id: role})}"},
    )


def journal_types(backend, store_id):
    return [e["type"] for e in backend.journal.entries(store_id)]


# ---------------------------------------------------------------- gift cards


def sell(client, store_id, amount, role="staff"):
    response = client.post(
        f"/v1/stores/{store_id}/giftcards", json={"amount": amount}, headers=auth(store_id, role) | idem()
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, store_id, code, action, body=None, role="staff", key=True):
    headers = auth(store_id, role) | (idem() if key else {})
    return client.post(f"/v1/giftcards/{code}/{action}", json=body, headers=headers)


def inquire(client, store_id, code, role="staff"):
    return client.get(f"/v1/giftcards/{code}", headers=auth(store_id, role))


def ledger_of(backend, code):
    """(sum of the ledger's balance changes, number of activities) of a card."""
    activities = backend.db.collection(f"giftcards/{keyed_hash(normalize_code(code))}/activities").get()
    return sum(a.get("balance_change") for a in activities), len(activities)


# ---------------------------------------------------------------- the CLI, as an operator runs it


def tresen(*args: str, stdout=subprocess.PIPE) -> subprocess.Popen:
    """The CLI in a child process against the test session's emulators (their hosts are in os.environ)."""
    assert os.environ.get("FIRESTORE_EMULATOR_HOST"), "the emulators fixture must run first"
    return subprocess.Popen(
        [str(TRESEN), *args],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_tresen(*args: str, timeout: float = 120) -> tuple[int, str]:
    process = tresen(*args)
    try:
        output, _ = process.communicate(timeout=timeout)
    finally:
        process.kill()
    return process.returncode, output


# ---------------------------------------------------------------- orders of the domain alone


NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
LATER = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)


def request() -> OrderRequest:
    return OrderRequest(
        items=(CartItem("croissant", 1),),
        fulfilment=Fulfilment("pickup"),
        customer=Customer("Anna Beispiel", "anna@example.com"),
        payment_method="on_site",
    )


def awaiting_order():
    online = OrderRequest(
        items=(CartItem("croissant", 2),),
        fulfilment=Fulfilment("pickup"),
        customer=Customer("A", "a@b.de"),
        payment_method="online",
    )
    cart = price_cart({p.id: p for p in DEMO_PRODUCTS}, online.items, tip=0)
    return new_order(
        order_id="ord_1",
        store=DEMO_STORE,
        request=online,
        cart=cart,
        number=1,
        now=NOW,
        payment=PaymentRef("pay_1", "sandbox", "requires_payment"),
    )


# ---------------------------------------------------------------- a merchant's store file (`tresen store FILE`)

CAFE = {
    "store": {
        "id": "cafe-lindner",
        "name": "Café Lindner",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "invoice_series": "CL",
        "payment_methods": ["online", "on_site"],
        "online_providers": ["stripe"],
        "fulfilment_types": ["pickup", "table"],
        "opening_hours": {"mon": [{"from": "08:00", "to": "18:00"}]},
        "address": ["Bahnhofstraße 1", "60311 Frankfurt am Main"],
        "tax_number": "045 234 56789",
        "vat_id": "DE298765432",
    },
    "products": [
        {"id": "espresso", "name": "Espresso", "price": 260, "vat_rate": "19", "available": True},
        {"id": "croissant", "name": "Croissant", "price": 290, "vat_rate": "7", "available": True,
         "options": [{"id": "jam", "name": "Konfitüre", "price": 50}], "position": 2},
    ],
}  # fmt: skip
