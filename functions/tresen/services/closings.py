"""Closings (Kassenabschluss): close everything journaled since the previous closing.

A closing covers the store's journal entries after the previous closing's `last_seq` up to the
head, computes every figure from those entries alone (domain/closings.py), carries the signed
checkpoint at its `last_seq` and the hash of the previous closing, and is itself a journal entry
(`closing.created`, with the whole Z-report in its data, so the archive holds it too). Its
`z_number` follows the previous closing's, and the closing document named by it is created
create-only, so numbers have no gap and two closings racing for one store cannot both win: the
loser builds again on the winner's closing and finds nothing left to close.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from ..adapters.backend import Backend
from ..adapters.clock import rfc3339
from ..adapters.store_writer import AlreadyWritten, Claims, Plan, StoreBusy
from ..adapters.writes import Writes, closing_path
from ..domain.closings import FIRST_PREVIOUS_HASH, closing_hash, z_report_figures
from ..domain.errors import DomainError
from ..domain.journal import JournalEvent
from ..domain.signed_note import encode_base64
from .checkpoints import sign_checkpoint
from .documents import Documents
from .orders import catalog_or_404

CLOSING_ATTEMPTS = 5
log = logging.getLogger(__name__)
CLOSED_BY_NIGHT = time(5)  # the nightly job closes every store not closed by 05:00 store time
NIGHTLY_ACTOR = {"type": "system", "job": "close-due"}


def latest_closing(docs: Documents, store_id: str) -> dict[str, Any] | None:
    found = docs.query(f"stores/{store_id}/closings", order_by=[("z_number", True)], limit=1)
    return found[0].data if found else None


def closing_at(docs: Documents, store_id: str, z_number: int) -> dict[str, Any]:
    found = docs.get(closing_path(store_id, z_number)) if z_number > 0 else None
    if found is None:
        raise DomainError("closing_not_found", f"Store {store_id} has no closing {z_number}.")
    return found.data


def list_closings(docs: Documents, store_id: str, limit: int, after_z: int = 0) -> tuple[list[dict], bool]:
    found = docs.query(
        f"stores/{store_id}/closings",
        where=[("z_number", ">", after_z)],
        order_by=[("z_number", False)],
        limit=limit + 1,
    )
    return [doc.data for doc in found[:limit]], len(found) > limit


def closings_between(docs: Documents, store_id: str, first: date, last: date) -> list[dict[str, Any]]:
    """The closings whose business day is one of first..last, by z number."""
    found = docs.query(
        f"stores/{store_id}/closings",
        where=[("business_day", ">=", first.isoformat()), ("business_day", "<=", last.isoformat())],
        order_by=[("business_day", False)],
    )
    return sorted((doc.data for doc in found), key=lambda closing: closing["z_number"])


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


def close_store(
    backend: Backend,
    store_id: str,
    actor: Mapping[str, Any],
    before_commit: list | None = None,
) -> dict[str, Any]:
    """The new closing (its Z-report); 409 `nothing_to_close` if nothing happened since the last."""
    store, _ = catalog_or_404(backend, store_id)
    docs = backend.docs
    now = backend.now()

    def build(claims: Claims) -> Plan[dict[str, Any]]:
        previous = latest_closing(docs, store_id)
        first = previous["last_seq"] + 1 if previous else 1
        last = journal_head(docs, store_id)
        entries = entries_between(docs, store_id, first, last) if last >= first else []
        if all(entry["type"] == "closing.created" for entry in entries):
            raise DomainError("nothing_to_close", "Nothing was journaled since the previous closing.")
        if [entry["seq"] for entry in entries] != list(range(first, last + 1)):
            raise RuntimeError(f"store {store_id}: the journal has a gap in {first}..{last}; run `tresen verify`")
        checkpoint, _ = sign_checkpoint(backend, store_id, size=last, known={e["seq"]: e for e in entries})
        closing = {
            "store_id": store_id,
            # named by its number and created create-only: of two closings built on the same
            # previous one, only one can be created (the other builds again, on the winner)
            "z_number": previous["z_number"] + 1 if previous else 1,
            # the business day of the period's last entry: a closing at night closes the day before
            "business_day": store.business_day(datetime.fromisoformat(entries[-1]["at"])).isoformat(),
            "closed_at": rfc3339(store.local(now)),
            "closed_by": dict(actor),
            "first_seq": first,
            "last_seq": last,
            "currency": store.currency,
            **z_report_figures(entries),
            "checkpoint": {
                "origin": checkpoint.origin,
                "size": checkpoint.size,
                "root": encode_base64(checkpoint.root),
                "key_id": checkpoint.key_id.hex(),
                "note": checkpoint.note,
            },
            "previous_hash": previous["hash"] if previous else FIRST_PREVIOUS_HASH,
        }
        closing["hash"] = closing_hash(closing)
        writes = Writes(dict(actor))
        writes.new_closing(closing)
        return Plan(closing, now, actor, [JournalEvent("closing.created", closing)], writes)

    for _ in range(CLOSING_ATTEMPTS):
        try:
            return backend.writer.commit(store_id, build, before_commit).result
        except AlreadyWritten as taken:
            log.info("store %s: %s was closed concurrently; building on it", store_id, taken.path)
    raise StoreBusy(f"store {store_id}: closings kept racing")


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
    return latest is None or datetime.fromisoformat(latest["closed_at"]) < began


def close_due(backend: Backend) -> list[dict[str, Any]]:
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
