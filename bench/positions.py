"""Drivers' positions under load: 200 drivers, each on a started tour of its own, sending one position
every 5 s for a minute against the running stack — positions accepted per second and their p95
latency, against one plain document write's p95 measured alongside, in the same run.

The tours are written straight into the emulator as started (`tours/{id}`, as adapters/tour_store.py
writes them): a call reads only its tour, so how the tour got there does not matter, and 200 tours
through the API would be a benchmark of their own. Each driver is a thread with its own session and
its own token (role `driver`), starting at its own moment within the first 5 s so the calls spread
as real devices' do: 40 calls a second offered. Meanwhile a thread of this process writes one plain
document (bench/latency.py's `write_one_document`) every BASELINE_EVERY_S, so a busy spell of the
machine hits both alike.

Firestore writes per driver-hour are counted, not assumed: the history records found in the emulator
after the run plus the calls whose answer says the latest moved, per call, times the calls a driver
makes in an hour (3600 / 5).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import requests

from bench.client import api_session, outcome
from bench.latency import timed_ms, write_one_document
from tresen.adapters.identity import unsigned_dev_token

DRIVERS = 200
EVERY_S = 5.0
DURATION_S = 60.0
STORE_ID = "positions"
BASELINE_EVERY_S = 0.25
CALLS_PER_DRIVER_HOUR = 3600 / EVERY_S


@dataclass(frozen=True)
class PositionFigures:
    drivers: int
    calls: int
    accepted: int  # 202
    unexpected: list[str]  # one entry per other answer: status and problem code
    elapsed_s: float
    latencies_ms: list[float]
    write_ms: list[float]  # the baseline: one plain document write each
    history_records: int  # found in the emulator after the run
    latest_moves: int  # calls whose answer says the tour's latest moved to what they sent

    @property
    def accepted_per_s(self) -> float:
        return self.accepted / self.elapsed_s

    @property
    def offered_per_s(self) -> float:
        return self.drivers / EVERY_S

    @property
    def writes_per_call(self) -> float:
        return (self.history_records + self.latest_moves) / self.calls

    @property
    def writes_per_driver_hour(self) -> float:
        return self.writes_per_call * CALLS_PER_DRIVER_HOUR


def started_tours(db, count: int) -> list[tuple[str, str]]:
    """(tour id, driver uid) of `count` started tours of the store, written straight into the emulator."""
    from tresen.adapters.tour_store import tour_path, tour_to_doc
    from tresen.domain.tours import STARTED, Tour

    now = datetime.now(UTC)
    tours = [
        Tour(f"tour_bench{n:05d}", STORE_ID, f"driver-{n:03d}", "Fahrer", (f"ord_bench{n:05d}",), STARTED, now)
        for n in range(count)
    ]
    batch = db.batch()
    for tour in tours:
        batch.set(db.document(tour_path(tour.id)), tour_to_doc(replace(tour, started_at=now)))
    batch.commit()
    return [(tour.id, tour.driver_uid) for tour in tours]


class Drive:
    """One driver's calls: a position every EVERY_S from `offset_s` after the start, for DURATION_S."""

    def __init__(self, api_url: str, tour_id: str, uid: str, offset_s: float):
        self.tour_id = tour_id
        self.path = f"{api_url}/v1/stores/{STORE_ID}/tours/{tour_id}/positions"
        self.headers = {"Authorization": f"Bearer {unsigned_dev_token(uid=uid, stores={STORE_ID: 'driver'})}"}
        self.offset_s = offset_s
        self.latencies_ms: list[float] = []  # of every call answered
        self.unexpected: list[str] = []
        self.calls = self.accepted = self.latest_moves = 0

    def run(self, started: float) -> None:
        session = api_session()
        for seq in range(int(DURATION_S / EVERY_S)):
            due = started + self.offset_s + seq * EVERY_S
            time.sleep(max(0.0, due - time.monotonic()))
            position = {"lat": 50.11 + seq / 10_000, "lng": 8.68, "accuracy": 9.5, "seq": seq}
            body = {"positions": [position | {"at": datetime.now(UTC).isoformat()}]}
            begun = time.perf_counter()
            self.calls += 1
            try:
                answer = session.post(self.path, json=body, headers=self.headers, timeout=60)
            except requests.RequestException as error:
                self.unexpected.append(type(error).__name__)
                continue
            self.latencies_ms.append((time.perf_counter() - begun) * 1000)
            if answer.status_code != 202:
                self.unexpected.append(outcome(answer))
                continue
            self.accepted += 1
            self.latest_moves += (answer.json()["latest_position"] or {}).get("seq") == seq


def baseline_writes(db, until: float) -> list[float]:
    samples = []
    while time.monotonic() < until:
        samples.append(timed_ms(lambda: write_one_document(db)))
        time.sleep(BASELINE_EVERY_S)
    return samples


def measure_positions(stack, db, progress=print) -> PositionFigures:
    from bench.report import percentile
    from tresen.adapters.archive import MemoryArchive
    from tresen.adapters.backend import Backend
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    store = replace(DEMO_STORE, id=STORE_ID, fulfilment_types=("pickup", "delivery"))
    seed_store(SeedStore(store, DEMO_PRODUCTS), Backend(db, None, MemoryArchive()))
    tours = started_tours(db, DRIVERS)
    drives = [Drive(stack.url, tour_id, uid, EVERY_S * n / DRIVERS) for n, (tour_id, uid) in enumerate(tours)]
    warm = api_session().post(drives[0].path, json={"positions": []}, headers=drives[0].headers, timeout=60)
    assert warm.status_code == 422, warm.text  # routes loaded, token taken: nothing recorded
    started = time.monotonic() + 0.5
    threads = [threading.Thread(target=drive.run, args=(started,), name=drive.tour_id) for drive in drives]
    for thread in threads:
        thread.start()
    write_ms = baseline_writes(db, started + DURATION_S)
    for thread in threads:
        thread.join()
    elapsed_s = time.monotonic() - started
    recorded = sum(len(db.collection(f"tours/{drive.tour_id}/positions").select([]).get()) for drive in drives)
    figures = PositionFigures(
        DRIVERS,
        sum(drive.calls for drive in drives),
        sum(drive.accepted for drive in drives),
        [problem for drive in drives for problem in drive.unexpected],
        elapsed_s,
        [ms for drive in drives for ms in drive.latencies_ms],
        write_ms,
        recorded,
        sum(drive.latest_moves for drive in drives),
    )
    progress(
        f"   {figures.accepted:,} of {figures.calls:,} calls accepted at {figures.accepted_per_s:.1f}/s "
        f"(p50 {percentile(figures.latencies_ms, 50):.1f} ms, p95 {percentile(figures.latencies_ms, 95):.1f} ms) "
        f"(offered {figures.offered_per_s:.0f}/s), {len(figures.unexpected)} unexpected; "
        f"{figures.writes_per_call:.2f} Firestore writes a call, {figures.writes_per_driver_hour:,.0f} a driver-hour"
    )
    return figures


def positions_ratios(figures: PositionFigures) -> list:
    from bench.report import Info, Ratio, percentile

    return [
        Ratio(
            "positions_p95_vs_document_write_p95",
            f"positions call p95, {DRIVERS} drivers every {EVERY_S:g} s (vs one document write p95)",
            percentile(figures.latencies_ms, 95),
            percentile(figures.write_ms, 95),
            "ms",
            3,  # a read and a commit behind HTTP and a token check, against one write
            at_most=True,
        ),
        Ratio(
            "positions_accepted_vs_offered_per_s",
            f"positions accepted/s (vs {DRIVERS} drivers / {EVERY_S:g} s offered)",
            figures.accepted_per_s,
            figures.offered_per_s,
            "/s",
            0.95,
            at_most=False,
        ),
        Info(
            "Firestore writes per driver-hour (vs calls per driver-hour)",
            figures.writes_per_driver_hour,
            CALLS_PER_DRIVER_HOUR,
            "writes",
        ),
    ]


def record_positions(figures: PositionFigures) -> None:
    from bench.report import Ratio, add_to_results, percentile, print_table

    ratios = positions_ratios(figures)
    print_table(ratios)
    add_to_results(
        {
            "positions_drivers": figures.drivers,
            "positions_calls": figures.calls,
            "positions_accepted": figures.accepted,
            "positions_unexpected": len(figures.unexpected),
            "positions_accepted_per_s": round(figures.accepted_per_s, 1),
            "positions_p50_ms": round(percentile(figures.latencies_ms, 50), 1),
            "positions_p95_ms": round(percentile(figures.latencies_ms, 95), 1),
            "positions_document_write_p95_ms": round(percentile(figures.write_ms, 95), 1),
            "positions_firestore_writes_per_call": round(figures.writes_per_call, 2),
            "positions_firestore_writes_per_driver_hour": round(figures.writes_per_driver_hour),
        },
        [ratio for ratio in ratios if isinstance(ratio, Ratio)],
    )


def main() -> int:
    """`python -m bench.positions`: this step alone, on a stack of its own; `--record` adds it."""
    import sys

    from tests.stack import RunningStack

    from bench.run import firestore_client

    with RunningStack() as stack:
        figures = measure_positions(stack, firestore_client(stack))
    if "--record" in sys.argv[1:]:
        record_positions(figures)
    else:
        from bench.report import print_table

        print_table(positions_ratios(figures))
    return 0 if not figures.unexpected else 1


if __name__ == "__main__":
    raise SystemExit(main())
