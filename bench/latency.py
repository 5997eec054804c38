"""1. Order placement latency against one Firestore document write, the floor any order pays."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bench.client import api_session, place_order

WARMUP = 20
SAMPLES = 200


@dataclass(frozen=True)
class Latency:
    order_ms: list[float]
    order_failures: int
    write_ms: list[float]


def timed_ms(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def write_one_document(db) -> None:
    db.collection("bench_writes").document(uuid.uuid4().hex).set({"n": 1, "note": "bench", "at": time.time()})


def measure_latency(api_url: str, db) -> Latency:
    """Orders and baseline writes alternate, so that a busy spell of a shared machine hits both alike."""
    session = api_session()
    statuses: list[int] = []

    def order() -> None:
        statuses.append(place_order(session, api_url, "demo").status_code)

    def write() -> None:
        write_one_document(db)

    for _ in range(WARMUP):
        order()
        write()
    order_ms, write_ms = [], []
    for _ in range(SAMPLES):
        order_ms.append(timed_ms(order))
        write_ms.append(timed_ms(write))
    return Latency(order_ms, sum(status != 201 for status in statuses), write_ms)
