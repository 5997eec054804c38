"""2. Orders per second of concurrent clients on one store against as many on a store each."""

from __future__ import annotations

from bench.client import Request, Throughput, api_session, place_order, run_concurrently

THROUGHPUT_ORDERS = 400  # a fixed amount of work, so both runs do exactly the same
STORE_WARMUP_ORDERS = 3  # fills the server's per-store caches (journal and counter heads, PII key)


def measure_throughput(api_url: str, store_of_client: list[str], orders: int) -> Throughput:
    """`orders` orders placed by one thread per entry of `store_of_client`, each on its own store."""

    def orders_to(store_id: str) -> Request:
        return lambda session, _n: place_order(session, api_url, store_id)

    return run_concurrently([orders_to(store_id) for store_id in store_of_client], orders, 201)


def warm_stores(api_url: str, store_ids: list[str]) -> None:
    """A first order fills the server's per-store caches; the timed runs should not pay for that."""
    session = api_session()
    for store_id in store_ids:
        for _ in range(STORE_WARMUP_ORDERS):
            place_order(session, api_url, store_id)
