"""The jobs over every store in runs, on the in-memory backend: a run cut off (its budget spent, a
store's work failing) goes on from its cursor and handles each store once, a finished run costs one
read, and of two invocations at once only one walks the run."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace

import pytest
from test_checkpoints import CountingDocuments
from test_use_cases import order

from tresen.adapters.archive import MemoryArchive
from tresen.adapters.backend import Backend
from tresen.adapters.journal_store import journal_path
from tresen.domain.journal import PLATFORM_JOURNAL
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store
from tresen.services.store_jobs import close_due_run, sign_grown_run, verify_run
from tresen.services.store_runs import JobRun, WalkStores, day_run, hour_run, walk_stores

JOB = "test-job"


class Ticks:
    """A clock that moves only when a store is handled: one second a store."""

    def __init__(self):
        self.now, self._lock = 0.0, threading.Lock()

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        with self._lock:
            self.now += 1


class Handler:
    """Counts each store's calls; `failing` stores raise on their first call."""

    def __init__(self, ticks: Ticks | None = None, failing: frozenset[str] = frozenset()):
        self.calls: Counter[str] = Counter()
        self.ticks, self.failing = ticks, failing
        self._lock = threading.Lock()

    def __call__(self, store_id: str) -> str:
        with self._lock:
            self.calls[store_id] += 1
            first = self.calls[store_id] == 1
        if self.ticks:
            self.ticks.tick()
        if store_id in self.failing and first:
            raise RuntimeError(f"{store_id} failed")
        return store_id


def with_stores(count: int, docs=None) -> tuple[Backend, list[str]]:
    backend = Backend(None, docs, MemoryArchive()) if docs else Backend.in_memory()
    ids = [f"store-{n:03d}" for n in range(count)]
    batch = backend.docs.batch()
    for store_id in ids:
        batch.set(f"stores/{store_id}", {"name": store_id})
    batch.commit()
    return backend, ids


def test_a_run_cut_off_by_its_budget_goes_on_from_its_cursor_and_handles_each_store_once():
    backend, ids = with_stores(25)
    ticks = Ticks()
    handler = Handler(ticks)
    command = WalkStores("r1", budget=7, page_size=4, workers=3, clock=ticks)
    invocations = []
    while not (invocations and invocations[-1].done):
        invocations.append(walk_stores(JOB, command, backend, handler, lambda _: "seen"))
        assert len(invocations) < 25
    assert handler.calls == {store_id: 1 for store_id in ids}
    # a store starts only before the budget runs out: at most the budget's 7, and 2 more started with the 7th
    assert len(invocations) >= 3 and all(0 < walked.handled <= 9 for walked in invocations)
    assert sum(walked.handled for walked in invocations) == 25
    assert [r for walked in invocations for r in walked.results] == ids  # in store order
    run, _ = backend.job_runs.read(f"{JOB}:r1")
    assert (run.cursor, run.ahead, run.handled, run.counts, run.done) == (ids[-1], (), 25, {"seen": 25}, True)
    assert (run.lease_until, run.invocations) == (None, len(invocations))


def test_a_cut_off_run_keeps_its_lease_released_and_its_cursor_where_the_budget_ran_out():
    backend, ids = with_stores(10)
    ticks = Ticks()
    handler = Handler(ticks)
    walked = walk_stores(JOB, WalkStores("r1", budget=3, page_size=4, workers=1, clock=ticks), backend, handler)
    assert (walked.handled, walked.done, walked.busy) == (3, False, False)
    run, _ = backend.job_runs.read(f"{JOB}:r1")
    assert (run.cursor, run.ahead, run.handled, run.lease_until) == (ids[2], (), 3, None)


def test_a_store_that_raises_stops_the_invocation_and_is_handled_again_first_when_the_run_goes_on():
    backend, ids = with_stores(12)
    failing, mates = ids[5], ids[4:8]
    all_started = threading.Barrier(len(mates))  # the failing store's page mates are all under way
    handler, first_invocation = Handler(failing=frozenset({failing})), [True]

    def handle(store_id: str) -> str:
        if first_invocation[0] and store_id in mates:
            all_started.wait(timeout=10)
        return handler(store_id)

    command = WalkStores("r1", page_size=4, workers=4)
    with pytest.raises(RuntimeError, match=f"{failing} failed"):
        walk_stores(JOB, command, backend, handle)
    first_invocation[0] = False
    run, _ = backend.job_runs.read(f"{JOB}:r1")
    assert (run.cursor, run.ahead, run.handled, run.lease_until, run.done) == (ids[4], (ids[6], ids[7]), 7, None, False)
    resumed = walk_stores(JOB, command, backend, handle)
    assert resumed.done and not resumed.busy
    assert resumed.results == [failing, *ids[8:]]
    assert handler.calls == {store_id: 2 if store_id == failing else 1 for store_id in ids}
    run, _ = backend.job_runs.read(f"{JOB}:r1")
    assert (run.handled, run.done) == (12, True)


def test_a_finished_run_costs_one_read_and_handles_nothing():
    docs = CountingDocuments()
    backend, _ = with_stores(3, docs)
    handler = Handler()
    assert walk_stores(JOB, WalkStores("r1"), backend, handler).done
    docs.reads = 0
    again = walk_stores(JOB, WalkStores("r1"), backend, handler)
    assert (again.done, again.busy, again.handled, again.results, docs.reads) == (True, False, 0, [], 1)
    assert set(handler.calls.values()) == {1}


def test_a_second_invocation_while_the_lease_is_held_does_nothing():
    backend, ids = with_stores(3)
    command = WalkStores("r1", workers=1)
    meanwhile = []

    def handle(store_id: str) -> str:
        if not meanwhile:
            meanwhile.append(walk_stores(JOB, command, backend, Handler()))
        return store_id

    first = walk_stores(JOB, command, backend, handle)
    [second] = meanwhile
    assert (second.busy, second.done, second.handled, second.results) == (True, False, 0, [])
    assert (first.busy, first.done, first.results) == (False, True, ids)


def test_of_two_invocations_taking_a_new_run_at_once_only_one_gets_its_lease():
    backend, _ = with_stores(1)
    run = JobRun(JOB, "r1")
    assert backend.job_runs.read(run.id) == (None, None)
    assert backend.job_runs.write(run, None) is not None
    assert backend.job_runs.write(replace(run, invocations=1), None) is None
    _, version = backend.job_runs.read(run.id)
    assert backend.job_runs.write(replace(run, handled=1), version) is not None
    assert backend.job_runs.write(replace(run, handled=2), version) is None  # read before the other's write
    assert backend.job_runs.read(run.id)[0].handled == 1


def test_store_pages_are_in_id_order_with_the_platform_journal_in_its_place():
    backend, _ = with_stores(0)
    batch = backend.docs.batch()
    for store_id in ("alpha", "omega", "pluto", "zeta"):
        batch.set(f"stores/{store_id}", {"name": store_id})
    batch.commit()
    pages = backend.journal.store_ids_after
    assert [pages(None, 2), pages("omega", 2), pages("zeta", 2)] == [["alpha", "omega"], ["pluto", "zeta"], []]
    batch = backend.docs.batch()
    batch.set(journal_path(PLATFORM_JOURNAL, 1), {"seq": 1})
    batch.commit()
    assert [pages(None, 2), pages("omega", 2), pages("pluto", 2)] == [
        ["alpha", "omega"],
        ["platform", "pluto"],
        ["zeta"],
    ]
    assert pages(None, 10) == ["alpha", "omega", "platform", "pluto", "zeta"]


def test_runs_are_named_by_their_hour_or_day_in_utc():
    from datetime import datetime

    berlin_morning = datetime.fromisoformat("2026-03-01T01:30:00+02:00")
    assert (hour_run(berlin_morning), day_run(berlin_morning)) == ("2026-02-28T23", "2026-02-28")


def test_the_checkpoint_run_signs_each_grown_journal_once_and_a_new_run_signs_nothing_again(backend):
    seed_store(SeedStore(replace(DEMO_STORE, id="quiet"), DEMO_PRODUCTS), backend)  # no entries: nothing to sign
    order(backend)
    walked = sign_grown_run(WalkStores("h1"), backend)
    assert [(c.store_id, c.size) for c in walked.results] == [(DEMO_STORE.id, 1)]
    assert (walked.handled, walked.done, walked.run.counts) == (2, True, {"signed": 1})
    assert sign_grown_run(WalkStores("h2"), backend).results == []
    order(backend)
    assert [(c.store_id, c.size) for c in sign_grown_run(WalkStores("h3"), backend).results] == [(DEMO_STORE.id, 2)]


def test_the_nightly_run_closes_a_store_once_however_often_it_comes_by(backend):
    order(backend)
    walked = close_due_run(WalkStores("d1"), backend)
    assert [(c.store_id, c.z_number) for c in walked.results] == [(DEMO_STORE.id, 1)]
    assert walked.run.counts == {"closed": 1}
    assert close_due_run(WalkStores("d2"), backend).results == []
    assert [c.z_number for c in backend.closings.page(DEMO_STORE.id, 10, 0)[0]] == [1]


def test_the_verify_run_counts_each_store_ok_or_failed(backend):
    order(backend)
    sign_grown_run(WalkStores("h1"), backend)
    backend.archive.drain()
    walked = verify_run(WalkStores("d1"), backend)
    assert [(v.store_id, v.ok) for v in walked.results] == [(DEMO_STORE.id, True)]
    assert (walked.done, walked.run.counts) == (True, {"ok": 1})
