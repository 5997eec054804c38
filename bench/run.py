"""`make bench`: every benchmark of the package (see its docstring) against one `tresen dev`, then the report.

Run as a module from the repository root, `python -m bench.run`: that puts the root on sys.path, so the
bench imports tests/stack.py and tests/storm.py as `tests.*` (tests/ is a namespace package).
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace

from tests.stack import RunningStack

from bench.client import CLIENTS
from bench.closings import ORDERS as CLOSING_ORDERS
from bench.closings import ClosingFigures, measure_closings, record_closings
from bench.customer_import import IMPORT_ROWS, ImportFigures, measure_customer_import, record_customer_import
from bench.exports import EXPORT_ORDERS, ExportFigures, measure_exports, record_exports
from bench.giftcards import GIFTCARD_STORE, REDEEMS, measure_redeems
from bench.idle_board import idle_board_on_its_own_stack, record_idle_board
from bench.import_time import IMPORT_RUNS, median_import_seconds
from bench.instances import CLIENTS as INSTANCE_CLIENTS
from bench.instances import INSTANCES, TSE_KEYS, InstanceFigures, measure_instances, record_instances
from bench.instances import ORDERS as INSTANCE_ORDERS
from bench.journal import PROOF_STORE_SIZE, SIGN_SAMPLES, JournalFigures, measure_journal, record_journal
from bench.latency import SAMPLES, WARMUP, measure_latency
from bench.positions import DRIVERS, DURATION_S, EVERY_S, PositionFigures, measure_positions, record_positions
from bench.report import Measurements, report
from bench.statements import STATEMENT_ORDERS, StatementFigures, measure_statements, record_statements
from bench.stock import SAMPLES as STOCK_SAMPLES
from bench.stock import StockFigures, measure_stock, record_stock
from bench.throughput import THROUGHPUT_ORDERS, measure_throughput, warm_stores
from bench.verify_speed import measure_and_record
from bench.webhook_storm import STORM_ORDERS, measure_storm
from bench.webhooks import ENDPOINTS, WEBHOOK_ORDERS, WebhookFigures, measure_webhooks, record_webhooks
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

PROJECT = "demo-tresen"


def firestore_client(stack: RunningStack):
    """The admin client of the bench process itself, on the stack's emulator."""
    os.environ["FIRESTORE_EMULATOR_HOST"] = f"127.0.0.1:{stack.firestore_port}"
    os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT
    os.environ["TRESEN_ENV"] = "dev"
    from google.cloud import firestore

    return firestore.Client(project=PROJECT)


def seed_bench_stores(db, store_ids: list[str]) -> None:
    from tresen.adapters.archive import MemoryArchive
    from tresen.adapters.backend import Backend

    backend = Backend(db, None, MemoryArchive())  # writes no journal entry: nothing to archive
    for store_id in store_ids:
        seed_store(SeedStore(replace(DEMO_STORE, id=store_id), DEMO_PRODUCTS), backend)


def progress(message: str) -> None:
    print(message, flush=True)


def measure() -> tuple[
    Measurements,
    JournalFigures,
    ClosingFigures,
    StatementFigures,
    ExportFigures,
    ImportFigures,
    WebhookFigures,
    PositionFigures,
    StockFigures,
    InstanceFigures,
]:
    with RunningStack() as stack:
        progress(f"stack up at {stack.url}")
        db = firestore_client(stack)
        bench_stores = [f"bench{i}" for i in range(CLIENTS)]
        seed_bench_stores(db, [*bench_stores, GIFTCARD_STORE])

        progress(f"1/5 latency: {WARMUP}+{SAMPLES} orders, alternating with as many document writes")
        latency = measure_latency(stack.url, db)

        progress(f"2/5 throughput: {THROUGHPUT_ORDERS} orders by {CLIENTS} clients, 1 store then {CLIENTS}")
        warm_stores(stack.url, bench_stores)
        one_store = measure_throughput(stack.url, ["demo"] * CLIENTS, THROUGHPUT_ORDERS)
        many_stores = measure_throughput(stack.url, bench_stores, THROUGHPUT_ORDERS)

        progress(f"3/5 webhook storm: {STORM_ORDERS} orders, ~5 deliveries each by {CLIENTS} senders")
        storm_result = measure_storm(stack.url, bench_stores[:2])

        progress(f"4/5 gift cards: {REDEEMS} redeems by {CLIENTS} clients on {REDEEMS} cards, then on 1 card")
        redeems = measure_redeems(stack.url, GIFTCARD_STORE)

        progress(f"journal: proofs in a store of {PROOF_STORE_SIZE:,} entries, {SIGN_SAMPLES} checkpoints signed")
        journal = measure_journal(stack.url, db)

        progress(f"closings: a day of {CLOSING_ORDERS:,} orders closed, against reading its entries bare")
        closing = measure_closings(db)

        progress(f"statements: a week of {STATEMENT_ORDERS:,} bulk-loaded orders, against reading them bare")
        statement = measure_statements(stack, db, progress)

        # last: its 100 000 orders would slow every later query of the emulator over `orders`
        progress(f"exports: CSV of {EXPORT_ORDERS:,} bulk-loaded orders through the API, against a bare stream")
        exports = measure_exports(stack, db, progress)

    # on a stack of its own: its server's memory is the import's, not what the exports left behind
    with RunningStack() as stack:
        progress(f"customers: a list of {IMPORT_ROWS:,} rows imported through the API, against writing it bare")
        customer_import = measure_customer_import(stack, firestore_client(stack), progress)

    # on a stack of its own too: its sending shares the server with its orders, and nothing else
    with RunningStack() as stack:
        progress(f"webhooks: {WEBHOOK_ORDERS} paid orders by {CLIENTS} clients, every event to {ENDPOINTS} endpoints")
        webhooks = measure_webhooks(stack, firestore_client(stack), progress)

    # on a stack of its own too: its drivers are the only load, beside the baseline's writes
    with RunningStack() as stack:
        progress(f"positions: {DRIVERS} drivers sending a position every {EVERY_S:g} s for {DURATION_S:g} s")
        positions = measure_positions(stack, firestore_client(stack), progress)

    # on a stack of its own too: its two kinds of order alternate, with nothing else beside them
    with RunningStack() as stack:
        progress(f"stock: {STOCK_SAMPLES} orders of 3 stock-tracked lines, alternating with as many untracked")
        stock = measure_stock(stack, firestore_client(stack), progress)

    # on a stack of its own too: its API processes are the only load on its emulators
    with RunningStack(env=TSE_KEYS) as stack:
        progress(f"instances: {INSTANCE_ORDERS} orders by {INSTANCE_CLIENTS} clients on one store over {INSTANCES}")
        instances = measure_instances(stack, firestore_client(stack), progress)

    progress(f"5/5 import time: {IMPORT_RUNS} fresh interpreters each")
    import_main_s, import_baseline_s = median_import_seconds()
    measurements = Measurements(
        latency, one_store, many_stores, import_main_s, import_baseline_s, storm_result, redeems
    )
    return measurements, journal, closing, statement, exports, customer_import, webhooks, positions, stock, instances


def main() -> int:
    measurements, journal, closing, statement, exports, customer_import, webhooks, positions, stock, instances = (
        measure()
    )
    report(measurements)
    record_journal(journal)  # after the report, which writes results.json afresh
    record_closings(closing)
    record_statements(statement)
    record_exports(exports)
    record_customer_import(customer_import)
    record_webhooks(webhooks)
    record_positions(positions)
    record_stock(stock)
    record_instances(instances)
    record_idle_board(idle_board_on_its_own_stack(progress))  # a stack of its own: its reads are the board's alone
    verified = measure_and_record(progress)  # after the report: it adds its figures to results.json
    # a lost or doubled redeem is a bug, and so is a generated archive that does not verify
    return 0 if measurements.redeems.single_card_balance_adds_up and verified else 1


if __name__ == "__main__":
    sys.exit(main())
