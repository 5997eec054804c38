"""The sweep: archive every journal entry and checkpoint still in the archive outbox.

Each commit archives its entries in the background, after its answer; what an instance never got to
(stopped, throttled, the bucket down) stays in the outbox until the sweep (`tresen sweep`, and the
scheduler's job every few minutes) writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .journal_ports import JournalUnitOfWork, OutboxMarker


@dataclass(frozen=True)
class SweepArchive:
    """Archive what has waited in the outbox longer than `older_than` (younger markers are still
    being archived by the request that committed them)."""

    older_than: timedelta


@dataclass(frozen=True)
class Swept:
    archived: int
    failing: int  # still in the outbox: the next sweep tries again


def sweep_archive(command: SweepArchive, uow: JournalUnitOfWork) -> Swept:
    archived = failing = 0
    for marker in uow.journal.outbox_due(uow.now() - command.older_than):
        if archive_marked(marker, uow):
            archived += 1
        else:
            failing += 1
    return Swept(archived, failing)


def archive_marked(marker: OutboxMarker, uow: JournalUnitOfWork) -> bool:
    if marker.checkpoint is not None:
        note = uow.journal.checkpoint_at(marker.store_id, marker.checkpoint).note
        return uow.archive.put_checkpoint(marker.store_id, marker.checkpoint, note)
    return uow.archive.put_entries([uow.journal.entry(marker.store_id, marker.seq)]) == 1
