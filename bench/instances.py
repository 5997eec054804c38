"""One busy store on many instances: orders/s and p95 of 16 clients on one store, all on one API process,
then spread round-robin over 2, 4 and 8 processes of the real server on the same emulators (targets: 8
instances >= 0.8 x one instance's orders/s, p95 <= 2 x one instance's).

Cloud Run spreads a store's requests over whichever instances are up; each instance has its own store
writer, cached heads and commit groups, and they meet only in Firestore (adapters/store_writer.py). The
processes are tests/api_processes.py's, on the stack's emulators and its fiskaly stand-in, so every sale
is signed as in production. The same amount of work per run; every process served a few orders before
(its caches warm, its TSE client registered).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tests.api_processes import ApiProcesses

from bench.client import Throughput, api_session, place_order, run_concurrently

STORE_ID = "busy"
CLIENTS = 16
ORDERS = 400
INSTANCES = (1, 2, 4, 8)
WARMUP_ORDERS = 2  # per process
TSE_KEYS = {"FISKALY_API_KEY": "fiskaly-key-bench", "FISKALY_API_SECRET": "fiskaly-secret-bench"}


@dataclass(frozen=True)
class InstanceFigures:
    runs: dict[int, Throughput]  # by the number of instances the clients were spread over


def measure_instances(stack, db, progress=print) -> InstanceFigures:
    from tresen.adapters.archive import MemoryArchive
    from tresen.adapters.backend import Backend
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    runs: dict[int, Throughput] = {}
    # started before this process talks to Firestore: a fork beside gRPC's threads can abort the child
    with ApiProcesses(max(INSTANCES), env=stack.cli_env) as processes:
        seed_store(SeedStore(replace(DEMO_STORE, id=STORE_ID), DEMO_PRODUCTS), Backend(db, None, MemoryArchive()))
        session = api_session()
        for url in processes.urls:
            for _ in range(WARMUP_ORDERS):
                assert place_order(session, url, STORE_ID).status_code == 201
        for count in INSTANCES:
            urls = processes.urls[:count]
            clients = [
                (lambda url: lambda client_session, _n: place_order(client_session, url, STORE_ID))(urls[n % count])
                for n in range(CLIENTS)
            ]
            runs[count] = run_concurrently(clients, ORDERS, 201)
            progress(f"   {count} instance(s): {runs[count].per_s:.1f} orders/s, {runs[count].failures} not 201")
    return InstanceFigures(runs)


def instance_ratios(figures: InstanceFigures) -> list:
    from bench.report import Ratio, percentile

    one, most = figures.runs[INSTANCES[0]], figures.runs[INSTANCES[-1]]
    return [
        Ratio(
            "instances_8_vs_1_orders_per_s",
            f"orders/s, {CLIENTS} clients on one store over {INSTANCES[-1]} instances (vs 1)",
            most.per_s,
            one.per_s,
            "/s",
            0.8,
            at_most=False,
        ),
        Ratio(
            "instances_8_vs_1_p95",
            f"order p95 over {INSTANCES[-1]} instances (vs 1)",
            percentile(most.latencies_ms, 95),
            percentile(one.latencies_ms, 95),
            "ms",
            2.0,
            at_most=True,
        ),
    ]


def record_instances(figures: InstanceFigures) -> None:
    from bench.report import add_to_results, percentile, print_table, print_unexpected

    ratios = instance_ratios(figures)
    print_table(ratios)
    print_unexpected({f"{count} instances": run for count, run in figures.runs.items()})
    results: dict[str, float | int] = {}
    for count, run in figures.runs.items():
        results[f"instances_{count}_orders_per_s"] = round(run.per_s, 3)
        results[f"instances_{count}_p95_ms"] = round(percentile(run.latencies_ms, 95), 3)
        results[f"instances_{count}_non_201"] = run.failures
    add_to_results(results, ratios)
