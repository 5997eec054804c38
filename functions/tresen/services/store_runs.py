"""The jobs over every store, each done in runs that go on across invocations.

With 100 000 stores no single invocation of the hourly checkpoints, the nightly closings or the
daily verification can reach them all before the scheduler's deadline. So each job works in runs,
one per job and period (`checkpoints:2026-03-01T10`, the hour; `close-due:2026-03-01`, the day),
kept in one document (adapters/job_run_store.py): the cursor (the last store id in order up to
which every store is handled), the few stores past it handled already, the counts, whether the run
is done, and a lease.

An invocation takes the lease with a write guarded by the version it read, so of two invocations at
once only one walks the run. It reads the store ids after the cursor a page at a time, in id order,
handles a page's stores on a few threads, and moves the cursor past those finished before it reads
the next page. It stops before its time budget and gives the lease back; the next invocation (the
scheduler calls each job more often than its period) goes on from the cursor. Once the run is done,
an invocation costs one read.

The work on a store must be idempotent. An invocation that dies leaves the page it was on to be
handled again (the stores of a page are in flight together), and a store whose work raised is
handled again first when the run goes on: both are harmless only because a store handled twice
changes nothing the second time (each job says why it does not).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from .journal_ports import JournalReader
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")
Version = Any
LEASE_GRACE = timedelta(minutes=2)  # past the budget: the store in hand when the budget ran out may finish
_NOT_STARTED = object()  # a store left for the next invocation: the budget ran out, or another store raised


@dataclass(frozen=True)
class JobRun:
    """One job's run over every store in a period, as far as it got."""

    job: str
    name: str  # the period: `2026-03-01T10` for an hour, `2026-03-01` for a day (UTC)
    cursor: str | None = None  # every store up to this id is handled; None: none yet
    ahead: tuple[str, ...] = ()  # stores after the cursor handled already (threads finish out of order)
    handled: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)  # what the job counts, e.g. {"signed": 12}
    done: bool = False
    lease_until: datetime | None = None  # held by an invocation until then
    started_at: datetime | None = None
    updated_at: datetime | None = None
    invocations: int = 0

    @property
    def id(self) -> str:
        return run_id(self.job, self.name)


def run_id(job: str, name: str) -> str:
    return f"{job}:{name}"


class JobRuns(Protocol):
    def read(self, run_id: str) -> tuple[JobRun | None, Version]:
        """The run and its version; (None, None) before its first invocation."""

    def write(self, run: JobRun, version: Version) -> Version | None:
        """Created if `version` is None (create-only), else changed only if still `version`: the new
        version; None if another invocation wrote it first."""


class StoreRunUnitOfWork(UnitOfWork, Protocol):
    journal: JournalReader
    job_runs: JobRuns


def hour_run(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H")


def day_run(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class WalkStores:
    """One invocation of a run: `budget` seconds at most (by `clock`), `page_size` store ids read at
    once, `workers` stores handled at once."""

    run: str
    budget: float = 240.0
    page_size: int = 100
    workers: int = 8
    clock: Callable[[], float] = time.monotonic


@dataclass
class Walked(Generic[T]):
    run: JobRun  # as this invocation left it
    handled: int  # stores this invocation handled
    results: list[T]  # what the handler answered for them, in store order, None left out
    busy: bool = False  # another invocation holds the run: this one did nothing

    @property
    def done(self) -> bool:
        return self.run.done


def walk_stores(
    job: str,
    command: WalkStores,
    uow: StoreRunUnitOfWork,
    handle: Callable[[str], T | None],
    tally: Callable[[T], str | None] | None = None,
    ids_after: Callable[[str | None, int], list[str]] | None = None,
) -> Walked[T]:
    """Go on with the run of `job` named `command.run`, calling `handle(store id)` for each store
    not handled yet until the stores or the budget run out; `tally(result)` names the count a result
    adds one to. The stores are those `ids_after(after, limit)` pages in id order, by default every
    store (`journal.store_ids_after`: the platform's journal among them). A handler's exception stops
    the invocation after the cursor is saved, and is raised again."""
    ids_after = ids_after or uow.journal.store_ids_after
    run, version = uow.job_runs.read(run_id(job, command.run))
    now = uow.now()
    if run is not None and (run.done or (run.lease_until is not None and run.lease_until > now)):
        return Walked(run, 0, [], busy=not run.done)
    started = run or JobRun(job, command.run, started_at=now)
    lease = timedelta(seconds=command.budget) + LEASE_GRACE
    run = replace(started, lease_until=now + lease, updated_at=now, invocations=started.invocations + 1)
    version = uow.job_runs.write(run, version)
    if version is None:
        return Walked(run, 0, [], busy=True)
    deadline = command.clock() + command.budget
    walked: Walked[T] = Walked(run, 0, [])
    with ThreadPoolExecutor(command.workers, thread_name_prefix=job) as pool:
        while not walked.run.done and command.clock() < deadline:
            page = ids_after(walked.run.cursor, command.page_size)
            todo = [store_id for store_id in page if store_id not in walked.run.ahead]
            attempts = handle_page(pool, todo, handle, lambda: command.clock() >= deadline)
            failure = next((a.exception() for a in attempts.values() if a.exception() is not None), None)
            finished = {store_id: a.result() for store_id, a in attempts.items() if finished_ok(a)}
            run = moved_on(walked.run, page, finished, len(page) < command.page_size, tally, uow.now())
            if failure is not None:
                run = replace(run, lease_until=None)  # the next invocation need not wait to try again
            walked.handled += len(finished)
            walked.results += [result for result in finished.values() if result is not None]
            version = uow.job_runs.write(run, version)
            if version is not None:
                walked.run = run
            if failure is not None:
                log.error("job run %s: stopped at a store that failed; the next invocation tries it again", run.id)
                raise failure
            if version is None:
                log.warning("job run %s: taken over by another invocation; stopping", run.id)
                return walked
    if not walked.run.done:
        released = replace(walked.run, lease_until=None, updated_at=uow.now())
        if uow.job_runs.write(released, version) is not None:
            walked.run = released
    return walked


def handle_page(
    pool: ThreadPoolExecutor, store_ids: Sequence[str], handle: Callable[[str], Any], out_of_time: Callable[[], bool]
) -> dict[str, Future]:
    """Each store's attempt, in store order; one started after the budget ran out or another store
    raised answers `_NOT_STARTED`."""
    stop = threading.Event()

    def attempt(store_id: str) -> Any:
        if stop.is_set() or out_of_time():
            return _NOT_STARTED
        try:
            return handle(store_id)
        except BaseException:
            stop.set()
            raise

    attempts = {store_id: pool.submit(attempt, store_id) for store_id in store_ids}
    wait(attempts.values())
    return attempts


def finished_ok(attempt: Future) -> bool:
    return attempt.exception() is None and attempt.result() is not _NOT_STARTED


def moved_on(
    run: JobRun,
    page: Sequence[str],
    finished: Mapping[str, Any],
    last_page: bool,
    tally: Callable[[Any], str | None] | None,
    now: datetime,
) -> JobRun:
    """The run with the page's finished stores counted and its cursor past every store handled in
    an unbroken row; done when that row reaches the end of the last page."""
    handled = set(finished) | set(run.ahead)
    cursor, complete = run.cursor, True
    for store_id in page:
        if store_id not in handled:
            complete = False
            break
        cursor = store_id
    counts = dict(run.counts)
    for result in finished.values():
        if tally is not None and result is not None and (name := tally(result)) is not None:
            counts[name] = counts.get(name, 0) + 1
    done = last_page and complete
    return replace(
        run,
        cursor=cursor,
        ahead=tuple(sorted(store_id for store_id in handled if cursor is None or store_id > cursor)),
        handled=run.handled + len(finished),
        counts=counts,
        done=done,
        lease_until=None if done else run.lease_until,
        updated_at=now,
    )
