"""The scheduler's jobs that have no other home: the archive sweep, the daily verification and the
mail outbox (infra/ schedules them on the private `jobs` function, as `tresen sweep`, `tresen verify
--all` and `tresen mail` do by hand)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from pydantic import Field

from ..services.archive_sweep import SweepArchive, sweep_archive
from ..services.mail import deliver_all_due_mail
from ..services.store_runs import day_run
from . import models as m
from .job_runs import StoreRunOut, StoreRunQuery, run_fields, walk_command
from .router import JOB, Call, route

log = logging.getLogger(__name__)
SWEEP_AFTER = timedelta(minutes=1)  # younger outbox markers are still being archived by their request
VERIFY_RUN_BUDGET = 480.0  # seconds: the scheduler waits 600 s (infra/scheduler.tf)


class SweepOut(m.Model):
    archived: int
    failing: int


class VerifyOut(StoreRunOut):
    ok: bool = Field(description="every store this invocation verified is in order")
    stores: list[dict[str, Any]]


class MailOut(m.Model):
    sent: int
    retrying: int = Field(description="not taken by the mail server this time; tried again later")
    failed: int = Field(description="refused for good, or no retry left: kept in the outbox as `failed`")
    taken: int = Field(description="claimed first by another deliverer")


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
    summary="Verify every store's journal against the archive: the day's run, continued (scheduler, every 10 "
    "minutes from 01:00 to 05:50)",
    tag="jobs",
    access=JOB,
    query=StoreRunQuery,
    response=VerifyOut,
)
def verify_job(call: Call):
    from ..services.store_jobs import verify_run  # the jobs over every store: only the jobs function's

    walked = verify_run(walk_command(call, day_run, VERIFY_RUN_BUDGET), call.uow)
    verdicts = walked.results
    for verdict in verdicts:
        if not verdict.ok:  # the alert policy in infra/ counts these lines
            log.error("JOURNAL VERIFY FAILED %s", verdict.summary())
    return VerifyOut(ok=all(v.ok for v in verdicts), stores=[v.as_json() for v in verdicts], **run_fields(walked))


class TseOut(m.Model):
    signed: int = Field(description="sales the TSE signed now")
    failed: int = Field(description="sales still waiting for the TSE")


@route(
    "POST",
    "/v1/jobs/tse",
    summary="Sign the sales taken on site the TSE could not sign yet (scheduler, every minute)",
    tag="jobs",
    access=JOB,
    response=TseOut,
)
def tse_job(call: Call):
    from ..services.tse import finish_unsigned_sales  # the TSE's use cases: not in every cold start

    return TseOut(**finish_unsigned_sales(call.uow))


@route(
    "POST",
    "/v1/jobs/mail",
    summary="Send every e-mail due in the outbox (scheduler, every minute)",
    tag="jobs",
    access=JOB,
    response=MailOut,
)
def mail_job(call: Call):
    delivery = deliver_all_due_mail(call.uow)
    return MailOut(sent=delivery.sent, retrying=delivery.retrying, failed=delivery.failed, taken=delivery.taken)
