"""Sending the stores' events to their webhook endpoints: the journal is the outbox.

Every event is a journal entry, committed atomically with the change it tells of, so no event can be
lost between a commit and its sending. Per store a dispatcher tails the journal from a cursor (the
last seq fanned out): for each new entry that is an event (domain/webhooks.py) and each enabled
endpoint subscribed to it that existed before it, it creates a delivery — its body rendered once,
with the object as the API shows it then — under an id made of endpoint and seq, create-only, so an
entry fanned out twice (two instances, a crash between) is delivered once; and only then moves the
cursor, guarded by the version it read.

Sending is the mail outbox's pattern (services/mail.py, adapters/leased_outbox.py): a sender holds
each delivery under a lease (the fan-out creates its deliveries held already), sends it, and records
the outcome under the version the lease left: succeeded, pending with the next attempt's time, or
failed. A 410 disables the endpoint at once; an endpoint whose deliveries fail for 5 days with no
success is disabled and its owner e-mailed, in the same commit (the mail outbox).

It runs on a thread right after a commit that journaled an event of a store with endpoints. The job,
every minute, sends what is due (retries), and goes on with the hour's run over the stores with an
enabled endpoint (services/store_runs.py): the backstop for what such a thread did not finish.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.events import WebhookEndpointDisabled
from ..domain.journal import JournalEvent, rfc3339
from ..domain.mail import Mail
from ..domain.webhooks import (
    FAILING,
    GONE,
    Endpoint,
    ObjectRef,
    delivery_id,
    event_body,
    event_id,
    event_of,
    object_of,
    signature_header,
)
from ..domain.webhooks_sending import failing_too_long, verdict
from .documents import Conflict
from .journal_ports import Entry
from .store_runs import Walked, WalkStores, walk_stores
from .unit_of_work import Claims, Plan, Writes
from .webhook_ports import Answer, Delivery, Held, Outcome, Request, WebhookObjects, WebhookUnitOfWork, object_presenter

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)  # beyond one batch's sending: each attempt times out after 15 s
FAN_OUT_BATCH = 100  # journal entries read at once
SEND_BATCH = 100  # deliveries sent at once
SYSTEM = {"type": "system", "job": "webhooks"}
WEBHOOKS = "webhooks"  # the job's runs over the stores: `job_runs/webhooks:{hour}`


@dataclass
class WebhookRun:
    """What one run did."""

    created: int = 0  # deliveries fanned out
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    taken: int = 0  # held by another sender when this one came to them
    next_due: datetime | None = None  # the earliest retry this run scheduled
    walked: Walked[WebhookRun] | None = None  # the job's: how far its run over the stores got

    def add(self, other: WebhookRun) -> None:
        """Another sender's counts (a store's of the run) added to these."""
        for name in ("created", "succeeded", "retrying", "failed", "taken"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.next_due = min(filter(None, (self.next_due, other.next_due)), default=None)

    def count(self, outcome: Outcome) -> None:
        if outcome.status == "pending":
            self.retrying += 1
            self.next_due = min(filter(None, (self.next_due, outcome.next_attempt_at)))
        else:
            setattr(self, outcome.status, getattr(self, outcome.status) + 1)


def deliver_webhooks(uow: WebhookUnitOfWork, walk: WalkStores) -> WebhookRun:
    """The job: every delivery due sent, then on with the run (the hour's, `webhooks:{hour}`) over
    the stores with an enabled endpoint, each one's new entries fanned out and sent: the backstop for
    a courier that did not finish (its instance died between commit and fan-out; any later commit of
    the store fans out what it left, too)."""
    run = WebhookRun()
    send_due(uow, None, run)
    run.walked = walk_stores(
        WEBHOOKS,
        walk,
        uow,
        lambda store_id: dispatch_store(uow, store_id, with_due=False),
        lambda store_run: "fanned_out" if store_run.created else None,
        uow.webhook_endpoints.stores_enabled_after,
    )
    for store_run in run.walked.results:
        run.add(store_run)
    return run


def dispatch_store(
    uow: WebhookUnitOfWork, store_id: str, run: WebhookRun | None = None, with_due: bool = True
) -> WebhookRun:
    """The store's new entries fanned out and sent, then (`with_due`) its retries that are due."""
    run = run or WebhookRun()
    created = fan_out(uow, store_id)
    run.created += len(created)
    return send_held(uow, store_id, created, run, with_due)


def send_held(
    uow: WebhookUnitOfWork, store_id: str, held: Sequence[Held], run: WebhookRun | None = None, with_due: bool = True
) -> WebhookRun:
    """Deliveries this caller holds (a fan-out's) sent a batch at a time, then (`with_due`) the
    store's retries that are due."""
    run = run or WebhookRun()
    for first in range(0, len(held), SEND_BATCH):
        send(uow, held[first : first + SEND_BATCH], run)
    if with_due:
        send_due(uow, store_id, run)
    return run


def send_due(uow: WebhookUnitOfWork, store_id: str | None, run: WebhookRun) -> None:
    """Every delivery due now (of one store, or all), a batch at a time."""
    while True:
        due = uow.webhook_deliveries.due(uow.now(), SEND_BATCH, store_id)
        held = uow.webhook_deliveries.claim(due, uow.now() + LEASE)
        run.taken += len(due) - len(held)
        send(uow, held, run)
        if len(due) < SEND_BATCH:
            return


def fan_out(uow: WebhookUnitOfWork, store_id: str, objects: WebhookObjects | None = None) -> list[Held]:
    """Deliveries for the store's entries after its cursor, created once each; those this call
    created, held by it. Without the HTTP layer's presenters nothing is fanned out: the job does it."""
    objects = objects or object_presenter()
    if objects is None:
        return []
    created: list[Held] = []
    shown: dict[ObjectRef, object] = {}  # each record read once a run
    while True:
        cursor, version = uow.webhook_cursors.read(store_id)
        endpoints = [endpoint for endpoint in uow.webhook_endpoints.of_store(store_id) if endpoint.enabled]
        if not endpoints:
            return created
        # entries no endpoint receives are skipped; an endpoint made later receives only later ones
        entries = uow.journal.entries_after(store_id, max(cursor, min(e.after_seq for e in endpoints)), FAN_OUT_BATCH)
        if not entries:
            return created
        # read after the entries: an endpoint whose creation entry is among them is among these
        endpoints = [endpoint for endpoint in uow.webhook_endpoints.of_store(store_id) if endpoint.enabled]
        now = uow.now()
        deliveries = list(deliveries_of(uow, store_id, entries, endpoints, now, objects, shown))
        created += uow.webhook_deliveries.create(deliveries, now + LEASE)
        if not uow.webhook_cursors.advance(store_id, entries[-1]["seq"], version):
            log.info("store %s: another dispatcher moved the webhook cursor first", store_id)
            continue
        if len(entries) < FAN_OUT_BATCH:
            return created


def deliveries_of(
    uow: WebhookUnitOfWork,
    store_id: str,
    entries: Iterable[Entry],
    endpoints: Sequence[Endpoint],
    now: datetime,
    objects: WebhookObjects,
    shown: dict[ObjectRef, object],
) -> Iterator[Delivery]:
    """Each entry's delivery to each endpoint receiving it, its object read once a run."""
    events = [(entry, event_of(entry["type"])) for entry in entries]
    receivers = {
        entry["seq"]: [endpoint for endpoint in endpoints if event and endpoint.receives(entry["seq"], event)]
        for entry, event in events
    }
    sent = [
        (entry, event, object_of(entry["type"], entry["data"])) for entry, event in events if receivers[entry["seq"]]
    ]
    missing = sorted({ref for _, _, ref in sent if ref not in shown}, key=lambda ref: (ref.kind, ref.id))
    shown.update(objects.shown(uow, store_id, missing) if missing else {})
    for entry, event, ref in sent:
        seq, message_id = entry["seq"], event_id(store_id, entry["seq"])
        body = event_body(event, entry["at"], store_id, seq, shown[ref])
        for endpoint in receivers[seq]:
            yield Delivery(delivery_id(endpoint.id, seq), endpoint.id, store_id, message_id, event, seq, body, now)


def send(uow: WebhookUnitOfWork, held: Sequence[Held], run: WebhookRun) -> list[Outcome]:
    """Each delivery held sent once, its outcome recorded under its lease, and what the answers say
    of each endpoint kept; the outcomes, in the order held. A deleted or disabled endpoint gets
    nothing: its deliveries fail without an attempt (a disabled one's may be retried by hand once
    it is enabled again)."""
    if not held:
        return []
    endpoints = uow.webhook_endpoints.get_all(sorted({item.delivery.endpoint_id for item in held}))
    signed_at = uow.now()
    sendable = [item for item in held if receiving(endpoints, item.delivery)]
    requests = [signed(endpoints[item.delivery.endpoint_id][0], item.delivery, signed_at) for item in sendable]
    answers = dict(zip((item.delivery.id for item in sendable), uow.webhook_sender.send_all(requests), strict=True))
    now = uow.now()
    outcomes = [
        outcome_of(uow, item.delivery, answers[item.delivery.id], now)
        if item.delivery.id in answers
        else not_sent(item.delivery, endpoints, now)
        for item in held
    ]
    recorded = uow.webhook_deliveries.record(list(zip(held, outcomes, strict=True)))
    if recorded < len(held):
        log.warning("webhooks: %d deliveries outlived their lease while being sent", len(held) - recorded)
    for outcome in outcomes:
        run.count(outcome)
    for endpoint_id, (endpoint, version) in endpoints.items():
        theirs = [
            outcome for item, outcome in zip(held, outcomes, strict=True) if item.delivery.endpoint_id == endpoint_id
        ]
        keep_health(uow, endpoint, version, theirs, now)
    return outcomes


def receiving(endpoints: dict[str, tuple[Endpoint, object]], delivery: Delivery) -> bool:
    found = endpoints.get(delivery.endpoint_id)
    return found is not None and found[0].enabled


def not_sent(delivery: Delivery, endpoints: dict[str, tuple[Endpoint, object]], now: datetime) -> Outcome:
    why = "the endpoint is disabled" if delivery.endpoint_id in endpoints else "the endpoint was deleted"
    return Outcome("failed", delivery.attempts, now, None, None, why)


def signed(endpoint: Endpoint, delivery: Delivery, at: datetime) -> Request:
    """The delivery's bytes with the headers of Standard Webhooks, signed for this moment by every
    secret that signs now (two during a rotation)."""
    timestamp = int(at.timestamp())
    headers = {
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            endpoint.signing_secrets(at), delivery.event_id, timestamp, delivery.body
        ),
    }
    return Request(endpoint.url, headers, delivery.body)


def outcome_of(uow: WebhookUnitOfWork, delivery: Delivery, answer: Answer, now: datetime) -> Outcome:
    attempts, sender = delivery.attempts + 1, uow.webhook_sender
    decided = verdict(attempts, answer.status_code, answer.retry_after, now, sender.jitter(), sender.retry_scale)
    error = answer.error or (None if decided.status == "succeeded" else f"answered {answer.status_code}")
    if decided.endpoint_gone:
        error = "answered 410 Gone: the endpoint is disabled"
    return Outcome(decided.status, attempts, now, decided.next_attempt_at, answer.status_code, error)


def keep_health(
    uow: WebhookUnitOfWork, endpoint: Endpoint, version: object, outcomes: Sequence[Outcome], now: datetime
) -> None:
    """A success clears `failing_since`; the first failure after one sets it; failures for 5 days,
    or a 410, disable the endpoint."""
    if not outcomes or not endpoint.enabled:
        return
    if any(outcome.status_code == 410 for outcome in outcomes):
        disable(uow, endpoint.store_id, endpoint.id, GONE)
    elif any(outcome.status == "succeeded" for outcome in outcomes):
        if endpoint.failing_since is not None:
            mark_failing(uow, endpoint.id, None, version)
    elif failing_too_long(endpoint.failing_since, now):
        disable(uow, endpoint.store_id, endpoint.id, FAILING)
    elif endpoint.failing_since is None:
        mark_failing(uow, endpoint.id, now, version)


def mark_failing(uow: WebhookUnitOfWork, endpoint_id: str, since: datetime | None, version: object) -> None:
    """Bookkeeping, not journaled; if the endpoint changed meanwhile, the next outcome decides again."""
    writes = Writes(SYSTEM)
    writes.webhook_endpoint_failing(endpoint_id, since, version)
    try:
        uow.commit_writes(writes)
    except Conflict:
        pass


def disable(uow: WebhookUnitOfWork, store_id: str, endpoint_id: str, reason: str) -> None:
    """Disabled (journaled), and for one failing 5 days its owner e-mailed in the same commit."""
    now, mail_id = uow.now(), uow.new_id("mail")

    def build(claims: Claims) -> Plan[None]:
        writes = Writes(SYSTEM)
        found = uow.webhook_endpoints.get(store_id, endpoint_id)
        if found is None or not found[0].enabled:
            return Plan(None, now, SYSTEM, [], writes)  # deleted or disabled meanwhile
        endpoint, version = found
        writes.webhook_endpoint(endpoint.disabled(reason, now), version)
        if reason == FAILING:
            to = owner_address(uow, store_id)
            if to is None:
                log.warning("store %s: webhook endpoint %s disabled; no owner to e-mail", store_id, endpoint_id)
            else:
                writes.mail(failing_mail(mail_id, to, endpoint))
        since = rfc3339(endpoint.failing_since) if reason == FAILING and endpoint.failing_since else None
        event = WebhookEndpointDisabled(endpoint_id=endpoint_id, reason=reason, failing_since=since)
        return Plan(None, now, SYSTEM, [JournalEvent.of(event)], writes)

    uow.commit(store_id, build)
    log.warning("store %s: webhook endpoint %s disabled (%s)", store_id, endpoint_id, reason)


def owner_address(uow: WebhookUnitOfWork, store_id: str) -> str | None:
    """The store's longest-standing owner, else whom its licence is billed to."""
    owners = sorted((m for m in uow.members.of_store(store_id) if m.role == "owner"), key=lambda m: m.since)
    if owners:
        return owners[0].email
    billing = uow.billing_profiles.get(store_id)
    return billing[0].billing_email if billing else None


def failing_mail(mail_id: str, to: str, endpoint: Endpoint) -> Mail:
    since = endpoint.failing_since.strftime("%d.%m.%Y %H:%M UTC") if endpoint.failing_since else "fünf Tagen"
    text = (
        f"Guten Tag,\n\nseit {since} hat Ihr Webhook-Endpunkt {endpoint.url} keine Zustellung mehr "
        f"angenommen. Tresen sendet ihm deshalb keine Ereignisse mehr (Endpunkt {endpoint.id}).\n\n"
        "Sobald er wieder erreichbar ist, können Sie ihn wieder aktivieren "
        f"(POST /v1/stores/{endpoint.store_id}/webhook-endpoints/{endpoint.id}/enable); fehlgeschlagene "
        "Zustellungen senden Sie dort einzeln erneut.\n"
    )
    return Mail(mail_id, to, "Webhook-Endpunkt deaktiviert", text)
