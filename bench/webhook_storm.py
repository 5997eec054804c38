"""4. A webhook storm (issue 3): shuffled, duplicated deliveries from concurrent senders."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass

from tests.storm import storm

from bench.client import CLIENTS, ORDER_BODY, api_session

SANDBOX_SECRET = "whsec_sandbox_dev"
STORM_ORDERS = 100


@dataclass(frozen=True)
class Storm:
    deliveries_per_s: float
    latencies_ms: list[float]
    failures: int


def measure_storm(api_url: str, store_ids: list[str]) -> Storm:
    """STORM_ORDERS online orders, then ~5 deliveries each, shuffled and duplicated, from CLIENTS senders.

    The same storm as the storm test's (tests/storm.py)."""
    session = api_session()
    body = ORDER_BODY | {"payment": {"method": "online"}}
    orders = [
        session.post(
            f"{api_url}/v1/stores/{store_ids[i % len(store_ids)]}/orders",
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=30,
        ).json()
        for i in range(STORM_ORDERS)
    ]
    latencies: list[float] = []
    statuses: list[int] = []
    elapsed = sum(send_wave(api_url, wave, latencies, statuses) for wave in storm(orders, random.Random(7)))
    return Storm(len(latencies) / elapsed, latencies, sum(status != 200 for status in statuses))


def send_wave(api_url: str, wave: list, latencies: list[float], statuses: list[int]) -> float:
    """Deliver one wave with CLIENTS concurrent senders; returns the seconds it took."""
    pending = list(wave)
    lock = threading.Lock()

    def sender() -> None:
        session = api_session()
        while True:
            with lock:
                if not pending:
                    return
                delivery = pending.pop()
            start = time.perf_counter()
            response = session.post(
                f"{api_url}/v1/webhooks/sandbox",
                data=delivery.body,
                headers=delivery.headers(SANDBOX_SECRET),
                timeout=30,
            )
            latencies.append((time.perf_counter() - start) * 1000)
            statuses.append(response.status_code)

    threads = [threading.Thread(target=sender) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start
