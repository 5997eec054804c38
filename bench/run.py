"""Performance benchmark: `make bench`.

Every figure is judged as a ratio against a baseline measured in the same run on the same machine,
so the verdicts hold on a laptop and on a slow CI box alike. Absolute numbers are printed for
reading, never compared with a fixed threshold.

1. latency:    order placement p50 vs one Firestore document write p50     (target <= 6)
2. throughput: 8 clients on one store vs 8 clients on 8 stores, orders/s    (target >= 0.5)
3. cold start: `import main` vs importing functions_framework + Firestore   (target <= 1.25)
4. webhook storm: ~500 shuffled, duplicated deliveries by 8 senders: deliveries/s and p95 (printed)
5. gift cards:  400 redeems by 8 clients on 1 card vs on 400 cards of one store: redeems/s, p95 and
                their ratio (printed; both take the store's one write lock, so expect similar figures),
                and the single card's balance must drop by exactly what the redeems took

The API is started the way a user starts it (`tresen dev`) and everything talks to 127.0.0.1 only.
Results go to bench/results.json.
"""

from __future__ import annotations

import json
import math
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
TRESEN = ROOT / ".venv" / "bin" / "tresen"
PROJECT = "demo-tresen"
READY_PREFIX = "tresen ready: "
STARTUP_TIMEOUT_S = 180  # the Firestore emulator is a JVM; a cold start on a small box takes a while
SHUTDOWN_TIMEOUT_S = 60

WARMUP = 20
SAMPLES = 200
CLIENTS = 8
THROUGHPUT_ORDERS = 400  # a fixed amount of work, so both runs do exactly the same
STORE_WARMUP_ORDERS = 3  # fills the server's per-store caches (journal and counter heads, PII key)
IMPORT_RUNS = 7
SANDBOX_SECRET = "whsec_sandbox_dev"
GIFTCARD_STORE = "benchcards"  # a store of its own: no orders or webhooks share its write lock
REDEEMS = 400  # one per card on distinct cards, all on one card on the single card
REDEEM_CENTS = 1
GIFTCARD_CENTS = 10_00  # each card is sold with this, enough for every redeem of the run
GIFTCARD_WARMUP_REDEEMS = 3

ORDER_BODY = {
    "items": [
        {"product_id": "croissant", "quantity": 2},
        {"product_id": "cappuccino", "quantity": 1, "options": ["oat"]},
    ],
    "fulfilment": {"type": "pickup"},
    "customer": {"name": "Bench", "email": "bench@example.com"},
    "payment": {"method": "on_site"},
}
IMPORT_MAIN = "import main"
IMPORT_BASELINE = "import functions_framework, google.cloud.firestore"


# ---------------------------------------------------------------- statistics


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile: always one of the measured values, never an interpolation."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def timed_ms(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


# ---------------------------------------------------------------- the stack under test


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Stack:
    api_url: str
    firestore_port: int


@contextmanager
def running_stack() -> Iterator[Stack]:
    """`tresen dev` on free ports; stopped with SIGINT (as Ctrl-C would) whatever happens."""
    ports = {name: free_port() for name in ("TRESEN_PORT", "FIRESTORE_PORT", "STORAGE_PORT")}
    env = {**os.environ, "TRESEN_ENV": "dev", **{name: str(port) for name, port in ports.items()}}
    env.pop("TRESEN_DATA_DIR", None)  # a throwaway database: no import of old data, no export at exit
    with tempfile.TemporaryFile() as server_log:
        # The server logs to stderr; a file rather than a pipe, so that it can never fill up and block it.
        server = subprocess.Popen(
            [str(TRESEN), "dev"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=server_log,
            text=True,
        )
        try:
            api_url = wait_for_ready_line(server, server_log)
            yield Stack(api_url=api_url, firestore_port=ports["FIRESTORE_PORT"])
        finally:
            stop_server(server)


def wait_for_ready_line(server: subprocess.Popen, server_log) -> str:
    lines = stdout_lines(server)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            raise RuntimeError(f"`tresen dev` exited with status {server.wait()}:\n{log_tail(server_log)}")
        if line.startswith(READY_PREFIX):
            return line.removeprefix(READY_PREFIX).strip()
    raise RuntimeError(f"`tresen dev` was not ready within {STARTUP_TIMEOUT_S} s:\n{log_tail(server_log)}")


def stdout_lines(server: subprocess.Popen) -> queue.Queue[str | None]:
    """The server's stdout line by line (None at its end), read by a thread that keeps draining it."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in server.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, name="server-stdout", daemon=True).start()
    return lines


def log_tail(server_log, chars: int = 4000) -> str:
    server_log.seek(0)
    return server_log.read().decode(errors="replace")[-chars:]


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"warning: `tresen dev` ignored SIGINT for {SHUTDOWN_TIMEOUT_S} s; killing it", file=sys.stderr)
        server.kill()
        server.wait()


def firestore_client(stack: Stack):
    """The admin client of the bench process itself, on the stack's emulator."""
    os.environ["FIRESTORE_EMULATOR_HOST"] = f"127.0.0.1:{stack.firestore_port}"
    os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT
    os.environ["TRESEN_ENV"] = "dev"
    from google.cloud import firestore

    return firestore.Client(project=PROJECT)


def project_code_on_path() -> None:
    """The bench imports a few helpers of the project itself (seeding, dev tokens)."""
    functions = str(ROOT / "functions")
    if functions not in sys.path:
        sys.path.insert(0, functions)


def seed_bench_stores(db, store_ids: list[str]) -> None:
    project_code_on_path()
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, seed_store

    for store_id in store_ids:
        seed_store(db, replace(DEMO_STORE, id=store_id), DEMO_PRODUCTS)


# ---------------------------------------------------------------- clients


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
    project_code_on_path()
    from tresen.adapters.identity import unsigned_dev_token

    return {"Authorization": f"Bearer {unsigned_dev_token(uid='bench-staff', stores={store_id: 'owner'})}"}


def sell_giftcard(session: requests.Session, api_url: str, store_id: str, staff: dict[str, str]) -> str:
    """A new card of GIFTCARD_CENTS; returns its code."""
    response = session.post(
        f"{api_url}/v1/stores/{store_id}/giftcards",
        json={"amount": GIFTCARD_CENTS},
        headers=staff | {"Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()["code"]


def redeem_giftcard(session: requests.Session, api_url: str, code: str, staff: dict[str, str]) -> requests.Response:
    return session.post(
        f"{api_url}/v1/giftcards/{code}/redeem",
        json={"amount": REDEEM_CENTS},
        headers=staff | {"Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )


def giftcard_balance(session: requests.Session, api_url: str, code: str, staff: dict[str, str]) -> int:
    response = session.get(f"{api_url}/v1/giftcards/{code}", headers=staff, timeout=60)
    response.raise_for_status()
    return response.json()["balance"]


def outcome(response: requests.Response) -> str:
    """What an unexpected answer was, for the report: status and problem code if there is one."""
    try:
        code = response.json().get("code", "")
    except ValueError:
        code = response.text[:80]
    return f"{response.status_code} {code}".rstrip()


def write_one_document(db) -> None:
    db.collection("bench_writes").document(uuid.uuid4().hex).set({"n": 1, "note": "bench", "at": time.time()})


# ---------------------------------------------------------------- 1. latency


@dataclass(frozen=True)
class Latency:
    order_ms: list[float]
    order_failures: int
    write_ms: list[float]


def measure_latency(stack: Stack, db) -> Latency:
    """Orders and baseline writes alternate, so that a busy spell of a shared machine hits both alike."""
    session = api_session()
    statuses: list[int] = []

    def order() -> None:
        statuses.append(place_order(session, stack.api_url, "demo").status_code)

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


# ---------------------------------------------------------------- 2. throughput


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


# ---------------------------------------------------------------- 4. webhook storm (issue 3)


@dataclass(frozen=True)
class Storm:
    deliveries_per_s: float
    latencies_ms: list[float]
    failures: int


def measure_storm(api_url: str, store_ids: list[str]) -> Storm:
    """100 online orders, then ~500 shuffled, duplicated deliveries from 8 senders (tests/storm.py)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import random

    from storm import storm

    session = api_session()
    body = ORDER_BODY | {"payment": {"method": "online"}}
    orders = [
        session.post(
            f"{api_url}/v1/stores/{store_ids[i % len(store_ids)]}/orders",
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=30,
        ).json()
        for i in range(100)
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


# ---------------------------------------------------------------- 5. gift-card redeems


@dataclass(frozen=True)
class Redeems:
    distinct_cards: Throughput
    single_card: Throughput
    single_card_drop_cents: int  # how much the single card's balance fell during its run

    @property
    def single_card_taken_cents(self) -> int:
        """What the single card's successful redeems took: its balance must have fallen by exactly this."""
        return (REDEEMS - self.single_card.failures) * REDEEM_CENTS

    @property
    def single_card_balance_adds_up(self) -> bool:
        return self.single_card_drop_cents == self.single_card_taken_cents


def measure_redeems(api_url: str, store_id: str) -> Redeems:
    """REDEEMS redeems by CLIENTS clients on as many cards of one store, then as many on a single card."""
    session, staff = api_session(), staff_headers(store_id)
    distinct_codes = [sell_giftcard(session, api_url, store_id, staff) for _ in range(REDEEMS)]
    single_code = sell_giftcard(session, api_url, store_id, staff)
    warm_up_code = sell_giftcard(session, api_url, store_id, staff)
    for _ in range(GIFTCARD_WARMUP_REDEEMS):
        redeem_giftcard(session, api_url, warm_up_code, staff)

    def redeem_on(codes: list[str]) -> Request:
        return lambda client_session, n: redeem_giftcard(client_session, api_url, codes[n % len(codes)], staff)

    distinct_cards = run_concurrently([redeem_on(distinct_codes)] * CLIENTS, REDEEMS, 200)
    single_card = run_concurrently([redeem_on([single_code])] * CLIENTS, REDEEMS, 200)
    drop = GIFTCARD_CENTS - giftcard_balance(session, api_url, single_code, staff)
    return Redeems(distinct_cards, single_card, drop)


# ---------------------------------------------------------------- 3. import time


def import_seconds(statement: str) -> float:
    """How long `statement` takes in a fresh interpreter, timed inside it (interpreter start excluded)."""
    program = (
        "import time, sys; sys.path.insert(0, 'functions'); "
        f"t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    )
    env = {**os.environ, "TRESEN_ENV": "dev"}
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def median_import_seconds() -> tuple[float, float]:
    """(main, baseline); the runs alternate so that a slow spell of the machine hits both alike."""
    main_runs, baseline_runs = [], []
    for _ in range(IMPORT_RUNS):
        main_runs.append(import_seconds(IMPORT_MAIN))
        baseline_runs.append(import_seconds(IMPORT_BASELINE))
    return statistics.median(main_runs), statistics.median(baseline_runs)


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class Ratio:
    name: str
    label: str
    value: float
    baseline: float
    unit: str
    target: float
    at_most: bool  # the ratio must be <= target (else >= target)

    @property
    def ratio(self) -> float:
        return self.value / self.baseline

    @property
    def meets_target(self) -> bool:
        return self.ratio <= self.target if self.at_most else self.ratio >= self.target

    @property
    def target_text(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.target:g}"


@dataclass(frozen=True)
class Info:
    """A figure printed for context, without a target of its own."""

    label: str
    value: float
    baseline: float
    unit: str


def print_table(rows: list[Ratio | Info]) -> None:
    header = ("figure", "value", "baseline", "ratio", "target", "met")
    lines = [header]
    for row in rows:
        baseline = f"{row.baseline:.2f} {row.unit}"
        if isinstance(row, Ratio):
            verdict = (f"{row.ratio:.2f}", row.target_text, "yes" if row.meets_target else "NO")
        else:
            verdict = (f"{row.value / row.baseline:.2f}", "", "")
        lines.append((row.label, f"{row.value:.2f} {row.unit}", baseline, *verdict))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))


def results_json(figures: dict[str, float | int], ratios: list[Ratio]) -> dict:
    return {
        "figures": figures,
        "ratios": {
            r.name: {
                "value": round(r.ratio, 4),
                "numerator": round(r.value, 4),
                "denominator": round(r.baseline, 4),
                "unit": r.unit,
                "target": r.target,
                "comparison": "<=" if r.at_most else ">=",
                "meets_target": r.meets_target,
            }
            for r in ratios
        },
        "meets_all_targets": all(r.meets_target for r in ratios),
    }


# ---------------------------------------------------------------- main


@dataclass(frozen=True)
class Measurements:
    latency: Latency
    one_store: Throughput
    many_stores: Throughput
    import_main_s: float
    import_baseline_s: float
    storm: Storm
    redeems: Redeems


def progress(message: str) -> None:
    print(message, flush=True)


def measure() -> Measurements:
    with running_stack() as stack:
        progress(f"stack up at {stack.api_url}")
        db = firestore_client(stack)
        bench_stores = [f"bench{i}" for i in range(CLIENTS)]
        seed_bench_stores(db, [*bench_stores, GIFTCARD_STORE])

        progress(f"1/5 latency: {WARMUP}+{SAMPLES} orders, alternating with as many document writes")
        latency = measure_latency(stack, db)

        progress(f"2/5 throughput: {THROUGHPUT_ORDERS} orders by {CLIENTS} clients, 1 store then {CLIENTS}")
        warm_stores(stack.api_url, bench_stores)
        one_store = measure_throughput(stack.api_url, ["demo"] * CLIENTS, THROUGHPUT_ORDERS)
        many_stores = measure_throughput(stack.api_url, bench_stores, THROUGHPUT_ORDERS)

        progress(f"3/5 webhook storm: 100 orders, ~500 deliveries by {CLIENTS} senders")
        storm_result = measure_storm(stack.api_url, bench_stores[:2])

        progress(f"4/5 gift cards: {REDEEMS} redeems by {CLIENTS} clients on {REDEEMS} cards, then on 1 card")
        redeems = measure_redeems(stack.api_url, GIFTCARD_STORE)

    progress(f"5/5 import time: {IMPORT_RUNS} fresh interpreters each")
    import_main_s, import_baseline_s = median_import_seconds()
    return Measurements(latency, one_store, many_stores, import_main_s, import_baseline_s, storm_result, redeems)


def report(m: Measurements) -> None:
    order_ms, write_ms = m.latency.order_ms, m.latency.write_ms
    one, many = m.one_store, m.many_stores
    distinct_cards, single_card = m.redeems.distinct_cards, m.redeems.single_card
    latency_ratio = Ratio(
        "order_p50_vs_write_p50",
        "order latency p50 (vs doc write)",
        percentile(order_ms, 50),
        percentile(write_ms, 50),
        "ms",
        6,
        at_most=True,
    )
    throughput_ratio = Ratio(
        "one_store_vs_many_stores_throughput",
        f"throughput 1 store (vs {CLIENTS} stores)",
        one.per_s,
        many.per_s,
        "orders/s",
        0.5,
        at_most=False,
    )
    import_ratio = Ratio(
        "import_main_vs_baseline",
        "import main (vs ff + firestore)",
        m.import_main_s * 1000,
        m.import_baseline_s * 1000,
        "ms",
        1.25,
        at_most=True,
    )
    ratios = [latency_ratio, throughput_ratio, import_ratio]
    print()
    print_table(
        [
            latency_ratio,
            Info("order latency p95 (vs doc write)", percentile(order_ms, 95), percentile(write_ms, 95), "ms"),
            throughput_ratio,
            Info(
                f"p95 under load, 1 store (vs {CLIENTS} stores)",
                percentile(one.latencies_ms, 95),
                percentile(many.latencies_ms, 95),
                "ms",
            ),
            import_ratio,
            Info(
                f"webhook storm deliveries/s (vs orders/s, {CLIENTS} stores)",
                m.storm.deliveries_per_s,
                many.per_s,
                "/s",
            ),
            Info(
                "webhook storm p95 (vs order p95 under load)",
                percentile(m.storm.latencies_ms, 95),
                percentile(many.latencies_ms, 95),
                "ms",
            ),
            Info(
                f"redeems/s, 1 card (vs {REDEEMS} cards)",
                single_card.per_s,
                distinct_cards.per_s,
                "/s",
            ),
            Info(
                f"redeem p95, 1 card (vs {REDEEMS} cards)",
                percentile(single_card.latencies_ms, 95),
                percentile(distinct_cards.latencies_ms, 95),
                "ms",
            ),
        ]
    )

    failures = {
        "latency_non_201": m.latency.order_failures,
        "one_store_non_201": one.failures,
        "many_stores_non_201": many.failures,
        "storm_non_200": m.storm.failures,
        "distinct_cards_non_200": distinct_cards.failures,
        "single_card_non_200": single_card.failures,
    }
    for name, count in failures.items():
        if count:
            print(f"warning: {count} requests did not answer as expected ({name})")
    print_unexpected(
        {"one_store": one, "many_stores": many, "distinct_cards": distinct_cards, "single_card": single_card}
    )
    if not m.redeems.single_card_balance_adds_up:
        print(
            f"ERROR: the single card lost {m.redeems.single_card_drop_cents} cents, "
            f"but its successful redeems took {m.redeems.single_card_taken_cents}"
        )

    timings = {
        "order_p50_ms": percentile(order_ms, 50),
        "order_p95_ms": percentile(order_ms, 95),
        "write_p50_ms": percentile(write_ms, 50),
        "write_p95_ms": percentile(write_ms, 95),
        "one_store_orders_per_s": one.per_s,
        "one_store_p95_ms": percentile(one.latencies_ms, 95),
        "many_stores_orders_per_s": many.per_s,
        "many_stores_p95_ms": percentile(many.latencies_ms, 95),
        "import_main_median_ms": m.import_main_s * 1000,
        "import_baseline_median_ms": m.import_baseline_s * 1000,
        "storm_deliveries": len(m.storm.latencies_ms),
        "storm_deliveries_per_s": m.storm.deliveries_per_s,
        "storm_p95_ms": percentile(m.storm.latencies_ms, 95),
        "distinct_cards_redeems_per_s": distinct_cards.per_s,
        "distinct_cards_redeem_p95_ms": percentile(distinct_cards.latencies_ms, 95),
        "single_card_redeems_per_s": single_card.per_s,
        "single_card_redeem_p95_ms": percentile(single_card.latencies_ms, 95),
        "single_vs_distinct_cards_redeems_per_s": single_card.per_s / distinct_cards.per_s,
    }
    balance_check = {
        "single_card_balance_drop_cents": m.redeems.single_card_drop_cents,
        "single_card_redeemed_cents": m.redeems.single_card_taken_cents,
        "single_card_balance_adds_up": m.redeems.single_card_balance_adds_up,
    }
    figures = {name: round(value, 3) for name, value in timings.items()} | failures | balance_check
    RESULTS.write_text(json.dumps(results_json(figures, ratios), indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


def print_unexpected(runs: dict[str, Throughput]) -> None:
    for name, run in runs.items():
        for answer, count in Counter(run.unexpected).most_common():
            print(f"  {name}: {count} x {answer}")


def main() -> int:
    measurements = measure()
    report(measurements)
    return 0 if measurements.redeems.single_card_balance_adds_up else 1  # a lost or doubled redeem is a bug


if __name__ == "__main__":
    sys.exit(main())
