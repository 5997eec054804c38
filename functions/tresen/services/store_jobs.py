"""The scheduler's jobs over every store, each as runs that go on across invocations
(services/store_runs.py): the hourly checkpoints, the nightly closings and the daily verification.
Each store's work is idempotent, as a run needs (the functions below say why)."""

from __future__ import annotations

from functools import cache
from typing import Protocol

from ..domain.closings import Closing
from .checkpoints import sign_if_grown
from .closing_ports import ClosingUnitOfWork
from .closings import close_if_due
from .journal_audit import Verdict
from .journal_ports import CheckpointRecord, JournalUnitOfWork
from .store_runs import StoreRunUnitOfWork, Walked, WalkStores, walk_stores
from .verify import registry_keys, verify_store

CHECKPOINTS = "checkpoints"
CLOSE_DUE = "close-due"
VERIFY = "verify"


class StoreJobUnitOfWork(JournalUnitOfWork, ClosingUnitOfWork, StoreRunUnitOfWork, Protocol):
    """The unit of work of the jobs over every store."""


def sign_grown_run(command: WalkStores, uow: StoreJobUnitOfWork) -> Walked[CheckpointRecord]:
    """The hour's run of the checkpoint job: a checkpoint of each journal that grew, counted as
    `signed`. A store signed again finds its journal not grown since (checkpoints.sign_if_grown)."""
    return walk_stores(CHECKPOINTS, command, uow, lambda store_id: sign_if_grown(uow, store_id), lambda _: "signed")


def close_due_run(command: WalkStores, uow: StoreJobUnitOfWork) -> Walked[Closing]:
    """The day's run of the nightly closings: each store due closed, counted as `closed`. A store
    closed again is not due any more, and its closing number is create-only (closings.close_if_due)."""
    return walk_stores(CLOSE_DUE, command, uow, lambda store_id: close_if_due(uow, store_id), lambda _: "closed")


def verify_run(command: WalkStores, uow: StoreJobUnitOfWork) -> Walked[Verdict]:
    """The day's run of the verification: each journal in Firestore checked against the archive
    with the keys Tresen lists, counted as `ok` or `failed`. Verifying only reads, so a store
    verified twice is merely verified twice. A store the archive holds but Firestore no longer
    does is not among a run's stores: `tresen verify --all` names it."""
    trusted = cache(lambda: registry_keys(uow))  # read once an invocation, and not at all once done
    return walk_stores(
        VERIFY,
        command,
        uow,
        lambda store_id: verify_store(uow, store_id, trusted()),
        lambda verdict: "ok" if verdict.ok else "failed",
    )
