"""What the jobs over every store (the checkpoints, the nightly closings, the verification) take and
answer besides their own results: the run an invocation goes on with, and how far it got
(services/store_runs.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field

from ..services.store_runs import JobRun, Walked, WalkStores
from . import models as m
from .router import Call

LONGEST_BUDGET = 1500.0  # seconds: inside the jobs function's timeout (30 min, infra/main.tf)


class StoreRunQuery(m.Model):
    run: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="the run to go on with; default the current period's (the hour's `2026-03-01T10`, the "
        "day's `2026-03-01`, UTC). Another name starts a run of its own: every store walked again",
    )
    budget: float | None = Field(
        None, gt=0, le=LONGEST_BUDGET, description="seconds this invocation may spend; default the job's own"
    )


class JobRunOut(m.Model):
    id: str = Field(description="`{job}:{run}`, the document `job_runs/{id}`")
    cursor: str | None = Field(description="every store up to this id (in id order) is handled")
    handled: int = Field(description="stores handled in the run so far, by every invocation")
    counts: dict[str, int] = Field(description="what the run did so far, e.g. `signed`, `closed`, `ok`, `failed`")
    done: bool
    invocations: int


class StoreRunOut(m.Model):
    handled: int = Field(description="stores this invocation handled")
    done: bool = Field(description="the run has handled every store: until the next period, an invocation does nothing")
    busy: bool = Field(description="another invocation holds the run: this one did nothing")
    run: JobRunOut


def walk_command(call: Call, period: Callable[[datetime], str], budget: float) -> WalkStores:
    """The invocation the query asks for: its run (the current `period` by default) and budget."""
    query: StoreRunQuery = call.query
    return WalkStores(query.run or period(call.uow.now()), budget=query.budget or budget)


def run_fields(walked: Walked[Any]) -> dict[str, Any]:
    """The fields of `StoreRunOut`, for a job's answer that extends it."""
    return {"handled": walked.handled, "done": walked.done, "busy": walked.busy, "run": run_out(walked.run)}


def run_out(run: JobRun) -> JobRunOut:
    return JobRunOut(
        id=run.id,
        cursor=run.cursor,
        handled=run.handled,
        counts=dict(run.counts),
        done=run.done,
        invocations=run.invocations,
    )
