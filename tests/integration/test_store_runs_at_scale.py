"""The jobs over every store on the Firestore emulator with many stores: the checkpoints and the
nightly closings go on across invocations (a small page, a budget of a few stores) and handle every
store once; the time per store is printed, for the projection in docs/operations.md "Jobs over
every store". The stores live in a project of their own on the emulator, so that the other tests'
stores (some with journals broken on purpose) are not walked."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import replace

import pytest

from support import request
from tresen.adapters.backend import Backend
from tresen.adapters.firestore_client import client_class
from tresen.adapters.repository import store_to_doc
from tresen.services import store_jobs
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store
from tresen.services.store_runs import WalkStores

STORES = 600
WITH_JOURNALS = 5
BATCH = 500  # Firestore's most writes in one commit
PAGE = 50
STORES_PER_INVOCATION = 150


class Counted:
    """A store's work, counted per store; the count is also the invocations' clock (one tick a
    store), so each invocation stops after about `STORES_PER_INVOCATION` stores however fast."""

    def __init__(self, work):
        self.work, self.calls, self.ticks, self._lock = work, Counter(), 0, threading.Lock()

    def __call__(self, uow, store_id):
        with self._lock:
            self.calls[store_id] += 1
            self.ticks += 1
        return self.work(uow, store_id)

    def clock(self) -> float:
        return float(self.ticks)


@pytest.fixture(scope="module")
def scale(emulators):
    """A backend on an empty project with `STORES` bulk-written store documents, the first
    `WITH_JOURNALS` with an order each: (the backend, the store ids)."""
    backend = Backend(client_class()(project=f"demo-scale-{uuid.uuid4().hex[:8]}"))
    ids = [f"store-{n:04d}" for n in range(STORES)]
    for first in range(0, STORES, BATCH):
        batch = backend.docs.batch()
        for store_id in ids[first : first + BATCH]:
            batch.set(f"stores/{store_id}", store_to_doc(replace(DEMO_STORE, id=store_id)))
        batch.commit()
    for store_id in ids[:WITH_JOURNALS]:
        seed_store(SeedStore(replace(DEMO_STORE, id=store_id), DEMO_PRODUCTS), backend)
        place_order(PlaceOrder(store_id, request(), {"type": "customer"}), backend)
    yield backend, ids
    backend.archive.drain()


def run_to_the_end(job, work: str, backend, monkeypatch):
    """The job's run invoked until done: (the invocations, the calls per store, seconds taken)."""
    counted = Counted(getattr(store_jobs, work))
    monkeypatch.setattr(store_jobs, work, counted)
    command = WalkStores(
        f"scale-{uuid.uuid4().hex[:8]}", budget=STORES_PER_INVOCATION - 0.5, page_size=PAGE, clock=counted.clock
    )
    invocations, started = [], time.perf_counter()
    while not (invocations and invocations[-1].done):
        invocations.append(job(command, backend))
        assert len(invocations) < 100
    return invocations, counted.calls, time.perf_counter() - started


def report(job: str, invocations, calls: Counter, seconds: float) -> None:
    per_store = seconds / len(calls)
    print(
        f"\n{job}: {len(calls)} stores in {len(invocations)} invocations, {seconds:.1f} s, "
        f"{per_store * 1000:.2f} ms a store (8 threads, emulator): 10 000 stores ~{per_store * 10_000:.0f} s, "
        f"100 000 ~{per_store * 100_000 / 60:.0f} min"
    )


def test_the_checkpoint_job_signs_every_grown_store_once_across_invocations(scale, monkeypatch):
    backend, ids = scale
    invocations, calls, seconds = run_to_the_end(store_jobs.sign_grown_run, "sign_if_grown", backend, monkeypatch)
    assert calls == {store_id: 1 for store_id in ids}
    # the last page is full: only the next invocation finds nothing after it, and ends the run
    assert [walked.handled for walked in invocations] == [STORES_PER_INVOCATION] * 4 + [0]
    assert (invocations[-1].run.handled, invocations[-1].run.counts) == (STORES, {"signed": WITH_JOURNALS})
    signed = [record for walked in invocations for record in walked.results]
    assert [(r.store_id, r.size) for r in signed] == [(store_id, 1) for store_id in ids[:WITH_JOURNALS]]
    report("checkpoints", invocations, calls, seconds)


def test_the_nightly_job_closes_every_due_store_once_across_invocations(scale, monkeypatch):
    backend, ids = scale
    invocations, calls, seconds = run_to_the_end(store_jobs.close_due_run, "close_if_due", backend, monkeypatch)
    assert calls == {store_id: 1 for store_id in ids}
    closed = [closing for walked in invocations for closing in walked.results]
    assert [(c.store_id, c.z_number) for c in closed] == [(store_id, 1) for store_id in ids[:WITH_JOURNALS]]
    assert (invocations[-1].run.handled, invocations[-1].run.counts) == (STORES, {"closed": WITH_JOURNALS})
    report("close-due", invocations, calls, seconds)
