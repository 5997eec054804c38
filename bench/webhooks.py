"""Webhooks under load: events delivered per second to 10 endpoints, against orders placed per second
in the same run.

A store of the running stack gets 10 endpoints on one receiver in this process (tests/webhook_receiver.py:
a path and a secret each); it verifies every request with the `standardwebhooks` library and counts
each event once per endpoint. CLIENTS threads then place WEBHOOK_ORDERS online orders and pay each through the
sandbox's signed webhook, as fast as the API takes them: orders/s. A paid order is two events
(`order.placed`, `order.paid`), so it makes 2 × 10 deliveries. Deliveries/s is every verified
delivery over the time from the first order to the last delivery received. The figure —
deliveries/s ÷ (orders/s × 10 × 2) — is 1.0 when every event reaches all 10 endpoints as fast as
the orders come in, and falls as deliveries lag behind them (target ≥ 0.9).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, replace

import requests
from tests.webhook_receiver import Receiver

from bench.client import CLIENTS, ORDER_BODY, api_session, run_concurrently, staff_headers

WEBHOOK_ORDERS = 300
ENDPOINTS = 10
EVENTS_PER_ORDER = 2  # order.placed, order.paid
STORE_ID = "webhooks"
SANDBOX_SECRET = "whsec_sandbox_dev"
WAIT_S = 120  # at most, for the last deliveries after the last order


@dataclass(frozen=True)
class WebhookFigures:
    orders: int
    orders_per_s: float
    deliveries: int  # verified, each event once per endpoint
    deliveries_per_s: float
    rejected: int  # requests that did not verify
    during_orders: int  # of the deliveries, those verified by the time the last order was paid
    lag_s: float  # from the last order paid to the last delivery

    @property
    def expected(self) -> int:
        return self.orders * ENDPOINTS * EVENTS_PER_ORDER

    @property
    def ratio(self) -> float:
        return self.deliveries_per_s / (self.orders_per_s * ENDPOINTS * EVENTS_PER_ORDER)


def add_endpoints(api_url: str, receiver: Receiver) -> None:
    session = api_session()
    for n in range(ENDPOINTS):
        path = f"/erp/{n}"
        created = session.post(
            f"{api_url}/v1/stores/{STORE_ID}/webhook-endpoints",
            json={"url": receiver.url(path), "events": ["*"]},
            headers=staff_headers(STORE_ID),
            timeout=30,
        )
        assert created.status_code == 201, created.text
        receiver.routes[path].secrets = [created.json()["secret"]]


def paid_order(session: requests.Session, api_url: str) -> requests.Response:
    """An online order, then the sandbox's webhook saying it was paid (signed as the sandbox signs)."""
    from tresen.domain.signatures import sign

    placed = session.post(
        f"{api_url}/v1/stores/{STORE_ID}/orders",
        json=ORDER_BODY | {"payment": {"method": "online"}},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )
    if placed.status_code != 201:
        return placed
    order = placed.json()
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "payment.succeeded",
        "created": int(time.time()),
        "data": {"payment_id": order["payment"]["id"], "amount": order["amount_due"], "currency": "EUR"},
    }
    body = json.dumps(event).encode()
    signature = sign(body, SANDBOX_SECRET, int(time.time()))
    return session.post(
        f"{api_url}/v1/webhooks/sandbox",
        data=body,
        headers={"Content-Type": "application/json", "Sandbox-Signature": signature},
        timeout=60,
    )


def measure_webhooks(stack, db, progress=print) -> WebhookFigures:
    from tresen.adapters.archive import MemoryArchive
    from tresen.adapters.backend import Backend
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    seed_store(SeedStore(replace(DEMO_STORE, id=STORE_ID), DEMO_PRODUCTS), Backend(db, None, MemoryArchive()))
    receiver = Receiver()
    add_endpoints(stack.url, receiver)
    began = time.monotonic()
    placed = run_concurrently(
        [lambda session, _n: paid_order(session, stack.url)] * CLIENTS, WEBHOOK_ORDERS, expected_status=200
    )
    assert not placed.unexpected, placed.unexpected[:5]
    ordered_at, during_orders = time.monotonic(), receiver.verified()
    expected = WEBHOOK_ORDERS * ENDPOINTS * EVENTS_PER_ORDER
    deadline = ordered_at + WAIT_S
    while receiver.verified() < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    receiver.close()
    delivered, last_at = receiver.verified(), receiver.last_taken_at
    lag_s = max(last_at - ordered_at, 0.0)
    figures = WebhookFigures(
        WEBHOOK_ORDERS, placed.per_s, delivered, delivered / (last_at - began), receiver.rejected, during_orders, lag_s
    )
    progress(
        f"   {figures.orders} paid orders at {figures.orders_per_s:.1f}/s; {figures.deliveries:,} of "
        f"{figures.expected:,} deliveries verified at {figures.deliveries_per_s:.1f}/s ({figures.rejected} rejected); "
        f"{figures.during_orders:,} of them while the orders came in, the last {figures.lag_s:.2f} s after them"
    )
    return figures


def webhook_ratios(figures: WebhookFigures) -> list:
    from bench.report import Ratio

    per_order = ENDPOINTS * EVENTS_PER_ORDER
    return [
        Ratio(
            "webhook_deliveries_vs_orders_per_s",
            f"events delivered/s to {ENDPOINTS} endpoints (vs orders/s × {ENDPOINTS} × {EVENTS_PER_ORDER} events)",
            figures.deliveries_per_s,
            figures.orders_per_s * per_order,
            "deliveries/s",
            0.9,
            at_most=False,
        )
    ]


def record_webhooks(figures: WebhookFigures) -> None:
    from bench.report import add_to_results, print_table

    ratios = webhook_ratios(figures)
    print_table(ratios)
    add_to_results(
        {
            "webhook_orders": figures.orders,
            "webhook_orders_per_s": round(figures.orders_per_s, 1),
            "webhook_deliveries": figures.deliveries,
            "webhook_deliveries_expected": figures.expected,
            "webhook_deliveries_per_s": round(figures.deliveries_per_s, 1),
            "webhook_deliveries_rejected": figures.rejected,
            "webhook_deliveries_during_orders": figures.during_orders,
            "webhook_last_delivery_after_last_order_s": round(figures.lag_s, 2),
        },
        ratios,
    )


def main() -> int:
    """`python -m bench.webhooks`: this step alone, on a stack of its own; `--record` adds it."""
    import sys

    from tests.stack import RunningStack

    from bench.run import firestore_client

    with RunningStack() as stack:
        figures = measure_webhooks(stack, firestore_client(stack))
    if "--record" in sys.argv[1:]:
        record_webhooks(figures)
    else:
        from bench.report import print_table

        print_table(webhook_ratios(figures))
    return 0 if figures.deliveries == figures.expected and not figures.rejected else 1


if __name__ == "__main__":
    raise SystemExit(main())
