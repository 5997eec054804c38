"""How the benchmarks talk to the API: sessions, orders, staff tokens, and concurrent clients."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import requests

from tresen.adapters.identity import unsigned_dev_token

CLIENTS = 8
ORDER_BODY = {
    "items": [
        {"product_id": "croissant", "quantity": 2},
        {"product_id": "cappuccino", "quantity": 1, "options": ["oat"]},
    ],
    "fulfilment": {"type": "pickup"},
    "customer": {"name": "Bench", "email": "bench@example.com"},
    "payment": {"method": "on_site"},
}


def api_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the bench talks to 127.0.0.1 only
    return session


def place_order(session: requests.Session, api_url: str, store_id: str) -> requests.Response:
    return session.post(
        f"{api_url}/v1/stores/{store_id}/orders",
        json=ORDER_BODY,  # also sets Content-Type: application/json
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )


def staff_headers(store_id: str) -> dict[str, str]:
    """An owner of `store_id`, with the unsigned token that dev mode accepts."""
    return {"Authorization": f"Bearer {unsigned_dev_token(uid='bench-staff', stores={store_id: 'owner'})}"}


def outcome(response: requests.Response) -> str:
    """What an unexpected answer was, for the report: status and problem code if there is one."""
    try:
        code = response.json().get("code", "")
    except ValueError:
        code = response.text[:80]
    return f"{response.status_code} {code}".rstrip()


@dataclass(frozen=True)
class Throughput:
    per_s: float
    latencies_ms: list[float]
    unexpected: list[str]  # one entry per request that did not answer as expected: see `outcome`

    @property
    def failures(self) -> int:
        return len(self.unexpected)


Request = Callable[[requests.Session, int], requests.Response]  # sends the n-th request of a run


def run_concurrently(request_of_client: list[Request], count: int, expected_status: int) -> Throughput:
    """`count` requests sent by one thread per entry of `request_of_client`, all released together.

    The threads claim the request numbers 0..count-1 in turn, so the amount of work is fixed whatever
    the speed of each client.
    """
    numbers = iter(range(count))
    claim_lock = threading.Lock()
    start_together = threading.Barrier(len(request_of_client) + 1)
    latencies: list[float] = []
    unexpected: list[str] = []

    def claim_one() -> int | None:
        with claim_lock:
            return next(numbers, None)

    def client(request: Request) -> None:
        session = api_session()
        start_together.wait()
        while (n := claim_one()) is not None:
            start = time.perf_counter()
            try:
                response = request(session, n)
                problem = None if response.status_code == expected_status else outcome(response)
            except requests.RequestException as error:
                problem = type(error).__name__  # counted as a failure like any unexpected status
            latencies.append((time.perf_counter() - start) * 1000)
            if problem:
                unexpected.append(problem)

    threads = [threading.Thread(target=client, args=(request,)) for request in request_of_client]
    for thread in threads:
        thread.start()
    start_together.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return Throughput(count / elapsed, latencies, unexpected)
