"""Order placement with stock: an order of three stock-tracked lines against the same order of three
lines whose stock is not tracked, p50 latency in one run (target <= 1.3).

A store of the running stack gets six products through the API, three of them tracked and counted
high enough never to run out, three alike but untracked. The two kinds of order alternate, one after
the other (as bench/latency.py alternates orders and writes), so that a busy spell of the machine
hits both alike; both are paid at the counter (their idempotency record is created with their
commit). What the tracked lines add: one read of their three counts inside the commit, three writes
guarded by the versions read and the `stock.taken` entry, in the same batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

import requests

from bench.client import api_session, outcome, staff_headers
from bench.latency import timed_ms

STORE_ID = "stock"
WARMUP = 20
SAMPLES = 200
TRACKED = ("brezel", "laugenstange", "seele")
UNTRACKED = ("croissant-bench", "franzbroetchen", "schnecke")
PLENTY = 1_000_000  # never runs out within the run


@dataclass(frozen=True)
class StockFigures:
    tracked_ms: list[float]
    untracked_ms: list[float]
    unexpected: list[str]  # one entry per order that was not 201: status and problem code


def set_up_catalog(session: requests.Session, api_url: str) -> None:
    staff = staff_headers(STORE_ID)
    for product_id in TRACKED + UNTRACKED:
        product = {"name": product_id, "price": 150, "vat_rate": "7", "kind": "item"}
        put = session.put(
            f"{api_url}/v1/stores/{STORE_ID}/products/{product_id}",
            json=product | {"stock_tracked": product_id in TRACKED},
            headers=staff,
            timeout=30,
        )
        assert put.status_code == 201, put.text
    for product_id in TRACKED:
        counted = session.post(
            f"{api_url}/v1/stores/{STORE_ID}/products/{product_id}/stock",
            json={"set": PLENTY, "reason": "count"},
            headers=staff,
            timeout=30,
        )
        assert counted.status_code == 200, counted.text


def place(session: requests.Session, api_url: str, product_ids: tuple[str, ...]) -> requests.Response:
    body = {
        "items": [{"product_id": product_id, "quantity": 1} for product_id in product_ids],
        "fulfilment": {"type": "pickup"},
        "customer": {"name": "Bench", "email": "bench@example.com"},
        "payment": {"method": "on_site"},
    }
    return session.post(
        f"{api_url}/v1/stores/{STORE_ID}/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=60
    )


def measure_stock(stack, db, progress=print) -> StockFigures:
    from tresen.adapters.archive import MemoryArchive
    from tresen.adapters.backend import Backend
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    seed_store(SeedStore(replace(DEMO_STORE, id=STORE_ID), DEMO_PRODUCTS), Backend(db, None, MemoryArchive()))
    session = api_session()
    set_up_catalog(session, stack.url)
    unexpected: list[str] = []

    def order(product_ids: tuple[str, ...]) -> None:
        answer = place(session, stack.url, product_ids)
        if answer.status_code != 201:
            unexpected.append(outcome(answer))

    for _ in range(WARMUP):
        order(TRACKED)
        order(UNTRACKED)
    tracked_ms, untracked_ms = [], []
    for _ in range(SAMPLES):
        tracked_ms.append(timed_ms(lambda: order(TRACKED)))
        untracked_ms.append(timed_ms(lambda: order(UNTRACKED)))
    figures = StockFigures(tracked_ms, untracked_ms, unexpected)
    progress(f"   {SAMPLES} orders of each kind, {len(unexpected)} not placed")
    return figures


def stock_ratios(figures: StockFigures) -> list:
    from bench.report import Ratio, percentile

    return [
        Ratio(
            "stock_order_p50_vs_untracked_p50",
            "order latency p50, 3 stock-tracked lines (vs 3 untracked)",
            percentile(figures.tracked_ms, 50),
            percentile(figures.untracked_ms, 50),
            "ms",
            1.3,  # one read and three guarded writes more, in the same commit
            at_most=True,
        )
    ]


def record_stock(figures: StockFigures) -> None:
    from bench.report import add_to_results, percentile, print_table

    ratios = stock_ratios(figures)
    print_table(ratios)
    add_to_results(
        {
            "stock_tracked_order_p50_ms": round(percentile(figures.tracked_ms, 50), 3),
            "stock_tracked_order_p95_ms": round(percentile(figures.tracked_ms, 95), 3),
            "stock_untracked_order_p50_ms": round(percentile(figures.untracked_ms, 50), 3),
            "stock_untracked_order_p95_ms": round(percentile(figures.untracked_ms, 95), 3),
            "stock_orders_non_201": len(figures.unexpected),
        },
        ratios,
    )


def main() -> int:
    """`python -m bench.stock`: this step alone, on a stack of its own; `--record` adds it."""
    import sys

    from tests.stack import RunningStack

    from bench.run import firestore_client

    with RunningStack() as stack:
        figures = measure_stock(stack, firestore_client(stack))
    if "--record" in sys.argv[1:]:
        record_stock(figures)
    else:
        from bench.report import print_table

        print_table(stock_ratios(figures))
    return 0 if not figures.unexpected else 1


if __name__ == "__main__":
    raise SystemExit(main())
