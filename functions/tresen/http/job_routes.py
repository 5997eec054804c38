"""The scheduler's jobs that have no other home: the archive sweep and the daily verification
(infra/ schedules them on the private `jobs` function, as `tresen sweep` and `tresen verify --all`
do by hand)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from ..services.archive_sweep import SweepArchive, sweep_archive
from ..services.verify import VerifyJournals, verify_journals
from . import models as m
from .router import JOB, Call, route

log = logging.getLogger(__name__)
SWEEP_AFTER = timedelta(minutes=1)  # younger outbox markers are still being archived by their request


class SweepOut(m.Model):
    archived: int
    failing: int


class VerifyOut(m.Model):
    ok: bool
    stores: list[dict[str, Any]]


@route(
    "POST",
    "/v1/jobs/sweep",
    summary="Archive every journal entry and checkpoint left in the outbox (scheduler, every 5 minutes)",
    tag="jobs",
    access=JOB,
    response=SweepOut,
)
def sweep_job(call: Call):
    swept = sweep_archive(SweepArchive(SWEEP_AFTER), call.uow)
    if swept.failing:
        log.warning("archive sweep: %d entries still failing", swept.failing)
    return SweepOut(archived=swept.archived, failing=swept.failing)


@route(
    "POST",
    "/v1/jobs/verify",
    summary="Verify every store's journal against the archive (scheduler, daily)",
    tag="jobs",
    access=JOB,
    response=VerifyOut,
)
def verify_job(call: Call):
    verdicts = list(verify_journals(VerifyJournals(), call.uow))
    for verdict in verdicts:
        if not verdict.ok:  # the alert policy in infra/ counts these lines
            log.error("JOURNAL VERIFY FAILED %s", verdict.summary())
    return VerifyOut(ok=all(v.ok for v in verdicts), stores=[v.as_json() for v in verdicts])
