"""A webhook storm: what a flaky network does to a provider's deliveries.

Used by the storm test and by `make bench`. Each order gets a scenario; each distinct event is
delivered 1–3 times; deliveries are shuffled. Late successes (after a cancellation) form a second
wave, so the state each order must end in is well defined.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass

from tresen.domain.signatures import sign

SCENARIOS = ("paid", "failed_then_paid", "canceled", "paid_after_cancel", "mismatch", "failed_only")
EXPECTED = {  # scenario → (status, payment_status)
    "paid": ("paid", "paid"),
    "failed_then_paid": ("paid", "paid"),
    "canceled": ("canceled", "unpaid"),
    "paid_after_cancel": ("canceled", "refunded"),
    "mismatch": ("awaiting_payment", "mismatch"),
    "failed_only": ("awaiting_payment", "unpaid"),
}


@dataclass(frozen=True)
class Delivery:
    order_id: str
    body: bytes

    def headers(self, secret: str) -> dict[str, str]:
        return {"Content-Type": "application/json", "Sandbox-Signature": sign(self.body, secret, int(time.time()))}


def scenario_of(index: int) -> str:
    return SCENARIOS[index % len(SCENARIOS)]


def _event(order: dict, kind: str, amount: int | None = None) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": f"payment.{kind}",
        "created": int(time.time()),
        "data": {
            "payment_id": order["payment"]["id"],
            "amount": order["amount_due"] if amount is None else amount,
            "currency": order["currency"],
            "error": "card declined",
        },
    }


def storm(orders: list[dict], rng: random.Random) -> tuple[list[Delivery], list[Delivery]]:
    """(first wave, second wave) of deliveries for orders placed for online payment."""
    first: list[Delivery] = []
    second: list[Delivery] = []
    for index, order in enumerate(orders):
        scenario = scenario_of(index)
        events = {
            "paid": [_event(order, "succeeded")],
            "failed_then_paid": [_event(order, "failed"), _event(order, "succeeded")],
            "canceled": [_event(order, "canceled")],
            "paid_after_cancel": [_event(order, "canceled")],
            "mismatch": [_event(order, "succeeded", amount=order["amount_due"] + 1)],
            "failed_only": [_event(order, "failed"), _event(order, "failed")],
        }[scenario]
        for event in events:
            first += [Delivery(order["id"], json.dumps(event).encode())] * rng.randint(1, 3)
        late = {  # after the first wave: must not move the order backwards
            "paid": [_event(order, "failed"), _event(order, "canceled")],
            "failed_then_paid": [_event(order, "failed"), _event(order, "canceled")],
            "paid_after_cancel": [_event(order, "succeeded")],
            "mismatch": [_event(order, "canceled")],
        }.get(scenario, [])
        for event in late:
            second += [Delivery(order["id"], json.dumps(event).encode())] * rng.randint(1, 3)
    rng.shuffle(first)
    rng.shuffle(second)
    return first, second
