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
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from ..domain.closings import Closing, ClosingCheckpoint, closing_of
from ..domain.errors import DomainError
from ..domain.journal import PLATFORM_JOURNAL, JournalEvent, rfc3339
from ..domain.signed_note import encode_base64
from .checkpoints import SignCheckpoint, sign_checkpoint
from .closing_ports import ClosingUnitOfWork
from .order_ports import catalog_or_404
from .unit_of_work import AlreadyWritten, Claims, Plan, StoreBusy, Writes

CLOSING_ATTEMPTS = 5
log = logging.getLogger(__name__)
CLOSED_BY_NIGHT = time(5)  # the nightly job closes every store not closed by 05:00 store time
NIGHTLY_ACTOR = {"type": "system", "job": "close-due"}


@dataclass(frozen=True)
class CloseStore:
    """Close everything journaled in the store since its previous closing."""

    store_id: str
    actor: Mapping[str, Any]


def closing_at(uow: ClosingUnitOfWork, store_id: str, z_number: int) -> Closing:
    found = uow.closings.at(store_id, z_number)
    if found is None:
        raise DomainError("closing_not_found", f"Store {store_id} has no closing {z_number}.")
    return found


def list_closings(uow: ClosingUnitOfWork, store_id: str, limit: int, after_z: int = 0) -> tuple[list[Closing], bool]:
    return uow.closings.page(store_id, limit, after_z)


def close_store(command: CloseStore, uow: ClosingUnitOfWork) -> Closing:
    """The new closing (its Z-report); 409 `nothing_to_close` if nothing happened since the last."""
    store, _ = catalog_or_404(uow, command.store_id)
    for _ in range(CLOSING_ATTEMPTS):
        now = uow.now()
        try:
            return commit_closing(uow, next_closing(uow, store, command.actor, now), command.actor, now)
        except AlreadyWritten as taken:
            log.info("store %s: %s was closed concurrently; closing again after it", store.id, taken.path)
    raise StoreBusy(f"store {store.id}: closings kept racing")


def commit_closing(uow: ClosingUnitOfWork, closing: Closing, actor: Mapping[str, Any], now: datetime) -> Closing:
    """The closing's document and journal entry, in one commit; AlreadyWritten if another closing
    took its number meanwhile. Entries appended meanwhile by others only move its entry along."""

    def build(claims: Claims) -> Plan[Closing]:
        writes = Writes(dict(actor))
        writes.new_closing(closing.as_dict())
        return Plan(closing, now, actor, [JournalEvent("closing.created", closing.as_dict())], writes)

    return uow.commit(closing.store_id, build).result


def next_closing(uow: ClosingUnitOfWork, store, actor: Mapping[str, Any], now: datetime) -> Closing:
    """The closing of everything journaled since the latest closing, up to the journal's head now,
    with the checkpoint at that head signed (or the one signed there already)."""
    previous = uow.closings.latest(store.id)
    first = previous.last_seq + 1 if previous else 1
    last = uow.journal.head(store.id).seq
    entries = uow.journal.entries_between(store.id, first, last) if last >= first else []
    if all(entry["type"] == "closing.created" for entry in entries):
        raise DomainError("nothing_to_close", "Nothing was journaled since the previous closing.")
    if [entry["seq"] for entry in entries] != list(range(first, last + 1)):
        raise RuntimeError(f"store {store.id}: the journal has a gap in {first}..{last}; run `tresen verify`")
    signed, _ = sign_checkpoint(SignCheckpoint(store.id, last, {entry["seq"]: entry for entry in entries}), uow)
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


def due_for_closing(uow: ClosingUnitOfWork, store_id: str, now: datetime) -> bool:
    """The day that ended at the last 05:00 store time had no closing. Local wall-clock times in
    the store's zone, so a night with a DST change is as long as it really is."""
    store, _ = catalog_or_404(uow, store_id)
    local = store.local(now)
    ended = datetime.combine(local.date(), CLOSED_BY_NIGHT, tzinfo=store.zone)
    if local < ended:
        ended = datetime.combine(local.date() - timedelta(days=1), CLOSED_BY_NIGHT, tzinfo=store.zone)
    began = datetime.combine(ended.date() - timedelta(days=1), CLOSED_BY_NIGHT, tzinfo=store.zone)
    latest = uow.closings.latest(store_id)
    return latest is None or datetime.fromisoformat(latest.closed_at) < began


@dataclass(frozen=True)
class CloseDue:
    """The nightly job: close every store that was not closed by 05:00 store time."""


def close_due(command: CloseDue, uow: ClosingUnitOfWork) -> list[Closing]:
    """The stores' new closings (none for a store where nothing happened since its last)."""
    return [closing for store_id in uow.journal.store_ids() if (closing := close_if_due(uow, store_id))]


def close_if_due(uow: ClosingUnitOfWork, store_id: str) -> Closing | None:
    """The store's new closing if it is due (`due_for_closing`) and something happened since its
    last; None otherwise, and for the platform's journal, which belongs to no store. Done twice,
    the second finds the store closed for the day (or loses the create-only race for the Z number
    and finds nothing left to close), so a store is never closed twice."""
    if store_id == PLATFORM_JOURNAL or not due_for_closing(uow, store_id, uow.now()):
        return None
    try:
        return close_store(CloseStore(store_id, NIGHTLY_ACTOR), uow)
    except DomainError as nothing:
        if nothing.code != "nothing_to_close":
            raise
        return None
