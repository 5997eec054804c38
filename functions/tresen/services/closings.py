"""Closings (Kassenabschluss): close everything journaled since the previous closing.

A closing covers the store's journal entries after the previous closing's `last_seq` up to the
head, computes every figure from those entries alone (domain/closings.py), carries the signed
checkpoint at its `last_seq` and the hash of the previous closing, and is itself a journal entry
(`closing.created`, with the whole Z-report in its data, so the archive holds it too). Its
`z_number` follows the previous closing's, and the closing document named by it is created
create-only, so numbers have no gap and two closings racing for one store cannot both win: the
loser plans again on the winner's closing and finds nothing left to close.

The checkpoint is signed before the closing is committed, never inside the commit's build (which
the unit of work runs again after every conflict): signing is a KMS call and a commit of its own.
The closing must carry it, and its hash covers it, so the range is fixed first — up to the head as
it is then. Entries another writer appends while the closing commits come after that range: they
are the next closing's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from ..adapters.backend import Backend
from ..adapters.clock import rfc3339
from ..adapters.records import closing_path
from ..domain.catalog import Store
from ..domain.closings import Closing, ClosingCheckpoint, closing_from_dict, closing_of
from ..domain.errors import DomainError
from ..domain.journal import JournalEvent
from ..domain.signed_note import encode_base64
from .checkpoints import sign_checkpoint
from .documents import Documents
from .orders import catalog_or_404
from .unit_of_work import AlreadyWritten, Claims, Plan, StoreBusy, Writes

CLOSING_ATTEMPTS = 5
log = logging.getLogger(__name__)
CLOSED_BY_NIGHT = time(5)  # the nightly job closes every store not closed by 05:00 store time
NIGHTLY_ACTOR = {"type": "system", "job": "close-due"}


def latest_closing(docs: Documents, store_id: str) -> Closing | None:
    found = docs.query(f"stores/{store_id}/closings", order_by=[("z_number", True)], limit=1)
    return closing_from_dict(found[0].data) if found else None


def closing_at(docs: Documents, store_id: str, z_number: int) -> Closing:
    found = docs.get(closing_path(store_id, z_number)) if z_number > 0 else None
    if found is None:
        raise DomainError("closing_not_found", f"Store {store_id} has no closing {z_number}.")
    return closing_from_dict(found.data)


def list_closings(docs: Documents, store_id: str, limit: int, after_z: int = 0) -> tuple[list[Closing], bool]:
    found = docs.query(
        f"stores/{store_id}/closings",
        where=[("z_number", ">", after_z)],
        order_by=[("z_number", False)],
        limit=limit + 1,
    )
    return [closing_from_dict(doc.data) for doc in found[:limit]], len(found) > limit


def closings_between(docs: Documents, store_id: str, first: date, last: date) -> list[dict[str, Any]]:
    """The closings whose business day is one of first..last, by z number, as the exports read them:
    as stored, in the shape closings have now."""
    found = docs.query(
        f"stores/{store_id}/closings",
        where=[("business_day", ">=", first.isoformat()), ("business_day", "<=", last.isoformat())],
        order_by=[("business_day", False)],
    )
    closings = sorted((closing_from_dict(doc.data) for doc in found), key=lambda closing: closing.z_number)
    return [closing.as_dict() for closing in closings]


def entries_between(docs: Documents, store_id: str, first: int, last: int) -> list[dict[str, Any]]:
    from ..adapters.firestore_client import SCAN_TIMEOUT

    found = docs.query(
        f"stores/{store_id}/journal",
        where=[("seq", ">=", first), ("seq", "<=", last)],
        order_by=[("seq", False)],
        timeout=SCAN_TIMEOUT,
    )
    return [doc.data for doc in found]


def journal_head(docs: Documents, store_id: str) -> int:
    newest = docs.query(f"stores/{store_id}/journal", order_by=[("seq", True)], limit=1)
    return newest[0].data["seq"] if newest else 0


def close_store(backend: Backend, store_id: str, actor: Mapping[str, Any]) -> Closing:
    """The new closing (its Z-report); 409 `nothing_to_close` if nothing happened since the last."""
    store, _ = catalog_or_404(backend, store_id)
    for _ in range(CLOSING_ATTEMPTS):
        now = backend.now()
        try:
            return commit_closing(backend, next_closing(backend, store, actor, now), actor, now)
        except AlreadyWritten as taken:
            log.info("store %s: %s was closed concurrently; closing again after it", store_id, taken.path)
    raise StoreBusy(f"store {store_id}: closings kept racing")


def commit_closing(backend: Backend, closing: Closing, actor: Mapping[str, Any], now: datetime) -> Closing:
    """The closing's document and journal entry, in one commit; AlreadyWritten if another closing
    took its number meanwhile. Entries appended meanwhile by others only move its entry along."""

    def build(claims: Claims) -> Plan[Closing]:
        writes = Writes(dict(actor))
        writes.new_closing(closing.as_dict())
        return Plan(closing, now, actor, [JournalEvent("closing.created", closing.as_dict())], writes)

    return backend.commit(closing.store_id, build).result


def next_closing(backend: Backend, store: Store, actor: Mapping[str, Any], now: datetime) -> Closing:
    """The closing of everything journaled since the latest closing, up to the journal's head now,
    with the checkpoint at that head signed (or the one signed there already)."""
    docs = backend.docs
    previous = latest_closing(docs, store.id)
    first = previous.last_seq + 1 if previous else 1
    last = journal_head(docs, store.id)
    entries = entries_between(docs, store.id, first, last) if last >= first else []
    if all(entry["type"] == "closing.created" for entry in entries):
        raise DomainError("nothing_to_close", "Nothing was journaled since the previous closing.")
    if [entry["seq"] for entry in entries] != list(range(first, last + 1)):
        raise RuntimeError(f"store {store.id}: the journal has a gap in {first}..{last}; run `tresen verify`")
    signed, _ = sign_checkpoint(backend, store.id, size=last, known={entry["seq"]: entry for entry in entries})
    checkpoint = ClosingCheckpoint(
        origin=signed.origin,
        size=signed.size,
        root=encode_base64(signed.root),
        key_id=signed.key_id.hex(),
        note=signed.note,
    )
    closed_at = rfc3339(store.local(now))
    return closing_of(
        entries, previous=previous, store=store, closed_at=closed_at, closed_by=actor, checkpoint=checkpoint
    )


def due_for_closing(backend: Backend, store_id: str, now: datetime) -> bool:
    """The day that ended at the last 05:00 store time had no closing. Local wall-clock times in
    the store's zone, so a night with a DST change is as long as it really is."""
    store, _ = catalog_or_404(backend, store_id)
    local = store.local(now)
    ended = datetime.combine(local.date(), CLOSED_BY_NIGHT, tzinfo=store.zone)
    if local < ended:
        ended = datetime.combine(local.date() - timedelta(days=1), CLOSED_BY_NIGHT, tzinfo=store.zone)
    began = datetime.combine(ended.date() - timedelta(days=1), CLOSED_BY_NIGHT, tzinfo=store.zone)
    latest = latest_closing(backend.docs, store_id)
    return latest is None or datetime.fromisoformat(latest.closed_at) < began


def close_due(backend: Backend) -> list[Closing]:
    """The nightly job: close every store that was not closed by 05:00 store time."""
    from .verify import all_store_ids

    closed = []
    for store_id in all_store_ids(backend.docs):
        if not due_for_closing(backend, store_id, backend.now()):
            continue
        try:
            closed.append(close_store(backend, store_id, NIGHTLY_ACTOR))
        except DomainError as nothing:
            if nothing.code != "nothing_to_close":
                raise
    return closed
