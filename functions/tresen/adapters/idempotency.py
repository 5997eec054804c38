"""Idempotency records in Firestore: claim a key, then store the response in the same commit (or,
on a route that claims at its commit, create the finished record in that commit, see `create_in`).

A record is claimed with a create-only write (state `in_flight`, a short lease). The use case
stores the finished response into it inside its own atomic commit, guarded by the record's update
time, so "the effect happened" and "the response is saved" can never disagree. A lease that
expired (the instance died mid-request) may be taken over by the next attempt.

The lease is short, so a customer whose request died with its instance can retry it within
seconds. That is safe however long a request really takes: a takeover changes the record's update
time, and the slow attempt's commit, which carries its response guarded by the old update time,
then fails as a whole: only one attempt's effect is ever committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..services.documents import Batch, Conflict, Documents
from ..services.unit_of_work import StoredResponse

RETENTION = timedelta(days=7)
LEASE = timedelta(seconds=5)  # a retry after a crash waits at most this; a slower request stays safe (above)


@dataclass(frozen=True)
class Lease:
    path: str
    update_time: Any


@dataclass(frozen=True)
class Outcome:
    """Exactly one of: a lease to go ahead, a response to replay, or a refusal code."""

    lease: Lease | None = None
    replay: StoredResponse | None = None
    refusal: str | None = None  # idempotency_key_reused | idempotency_in_progress


class IdempotencyRecords:
    def __init__(self, docs: Documents):
        self._docs = docs

    @staticmethod
    def path_of(record_id: str) -> str:
        return f"idempotency/{record_id}"

    def begin(self, record_id: str, fingerprint: str, now: datetime) -> Outcome:
        path = self.path_of(record_id)
        fresh = {
            "state": "in_flight",
            "fingerprint": fingerprint,
            "locked_until": now + LEASE,
            "expires_at": now + RETENTION,
            "created_at": now,
        }
        try:
            return Outcome(lease=Lease(path, self._write(lambda batch: batch.create(path, fresh))))
        except Conflict:
            pass
        found = self._docs.get(path)
        if found is None:  # released between our create and our read: claim it afresh
            return self.begin(record_id, fingerprint, now)
        answered = answered_by(found.data, fingerprint, now)
        if answered is not None:
            return answered
        try:  # an expired record or an abandoned lease: take it over, unless someone else just did
            stale = {name: None for name in ("status", "body", "content_type")}
            return Outcome(
                lease=Lease(path, self._write(lambda batch: batch.update(path, fresh | stale, found.version)))
            )
        except Conflict:
            return Outcome(refusal="idempotency_in_progress")

    def seen(self, record_id: str, fingerprint: str, now: datetime) -> Outcome | None:
        """What a live record of the key answers (a replay or a refusal), without claiming it; None
        if there is none (or only an expired record or an abandoned claim)."""
        found = self._docs.get(self.path_of(record_id))
        return None if found is None else answered_by(found.data, fingerprint, now)

    def _write(self, add: Callable[[Batch], None]) -> Any:
        batch = self._docs.batch()
        add(batch)
        return batch.commit()[0]

    def store_in(self, batch: Batch, lease: Lease, response: StoredResponse) -> None:
        done = {
            "state": "done",
            "status": response.status,
            "body": response.body,
            "content_type": response.content_type,
        }
        batch.update(lease.path, done, lease.update_time)

    def create_in(
        self, batch: Batch, record_id: str, fingerprint: str, now: datetime, response: StoredResponse
    ) -> None:
        """The record, finished, created in the use case's own commit (no claim before it): if a twin
        request committed first, the whole commit fails on this create (and `begin` then replays it)."""
        batch.create(
            self.path_of(record_id),
            {
                "state": "done",
                "fingerprint": fingerprint,
                "locked_until": now,
                "expires_at": now + RETENTION,
                "created_at": now,
                "status": response.status,
                "body": response.body,
                "content_type": response.content_type,
            },
        )

    def create(self, record_id: str, fingerprint: str, now: datetime, response: StoredResponse) -> None:
        self._write(lambda batch: self.create_in(batch, record_id, fingerprint, now, response))

    def store(self, lease: Lease, response: StoredResponse) -> None:
        self._write(lambda batch: self.store_in(batch, lease, response))

    def release(self, lease: Lease) -> None:
        """Forget a key whose request changed nothing, so the client may retry it (Stripe does too)."""
        try:
            self._write(lambda batch: batch.delete(lease.path, lease.update_time))
        except Conflict:
            pass  # another attempt took the lease over; the record is its to finish


def answered_by(record: dict[str, Any], fingerprint: str, now: datetime) -> Outcome | None:
    """A record's answer to a request with `fingerprint`: None once expired, or for a claim whose
    lease ran out (it may be taken over)."""
    if record["expires_at"] <= now:
        return None
    if record["fingerprint"] != fingerprint:
        return Outcome(refusal="idempotency_key_reused")
    if record["state"] == "done":
        return Outcome(replay=StoredResponse(record["status"], record["body"], record["content_type"]))
    if record["locked_until"] > now:
        return Outcome(refusal="idempotency_in_progress")
    return None
