"""Where the runs of the jobs over every store are kept (services/store_runs.py `JobRuns`):
`job_runs/{job}:{period}`, one document a run, read whole by the operator to see how far it got."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..services.documents import Conflict, Documents
from ..services.store_runs import JobRun, Version
from .repository import as_aware

JOB_RUNS = "job_runs"


def job_run_path(run_id: str) -> str:
    return f"{JOB_RUNS}/{run_id}"


def moment(value: datetime | None) -> datetime | None:
    return as_aware(value) if value is not None else None


def run_to_doc(run: JobRun) -> dict[str, Any]:
    return {
        "job": run.job,
        "name": run.name,
        "cursor": run.cursor,
        "ahead": list(run.ahead),
        "handled": run.handled,
        "counts": dict(run.counts),
        "done": run.done,
        "lease_until": run.lease_until,
        "started_at": run.started_at,
        "updated_at": run.updated_at,
        "invocations": run.invocations,
    }


def run_from_doc(doc: Mapping[str, Any]) -> JobRun:
    return JobRun(
        job=doc["job"],
        name=doc["name"],
        cursor=doc["cursor"],
        ahead=tuple(doc["ahead"]),
        handled=doc["handled"],
        counts=dict(doc["counts"]),
        done=doc["done"],
        lease_until=moment(doc["lease_until"]),
        started_at=moment(doc["started_at"]),
        updated_at=moment(doc["updated_at"]),
        invocations=doc["invocations"],
    )


class DocumentJobRuns:
    """services/store_runs.py `JobRuns`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, run_id: str) -> tuple[JobRun | None, Version]:
        found = self._docs.get(job_run_path(run_id))
        return (run_from_doc(found.data), found.version) if found else (None, None)

    def write(self, run: JobRun, version: Version) -> Version | None:
        batch = self._docs.batch()
        if version is None:
            batch.create(job_run_path(run.id), run_to_doc(run))
        else:
            batch.update(job_run_path(run.id), run_to_doc(run), version)
        try:
            [written] = batch.commit()
        except Conflict:
            return None
        return written
