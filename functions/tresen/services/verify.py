"""`tresen verify`: each store's journal checked from Firestore and from the archive, or offline
from a copy of the archive bucket in a directory.

Each copy must chain whole from seq 1, match the root of every checkpoint at its size, and every
checkpoint must be signed by a trusted key (`journal_audit` and `journal_chain` do the checking);
with Firestore, the two copies must then be identical entry for entry and checkpoint for
checkpoint. The report names the first seq that is missing, reordered or differs, and tells an
archive that is merely behind (entries still in the outbox) from one that disagrees.

Trusted keys: those given (`--keys FILE`), else with Firestore the public keys Tresen lists
(`GET /v1/journal/public-keys`). Offline, only the keys given: never keys found in the archive.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..domain.signed_note import Verifier
from . import canonical_entries
from . import journal_audit as audit
from .journal_audit import OpenCheckpoint, Problem, Progress, Verdict
from .journal_chain import SEGMENT_HEIGHT, Segment, link_segments, segments_of
from .journal_keys import key_from_registry
from .journal_ports import ArchivedObjects, JournalUnitOfWork, StoredCheckpoint


@dataclass(frozen=True)
class VerifyJournals:
    """Check journals in Firestore against the archive. `store_ids`: None for every store either of
    them knows; `keys`: the keys to trust, None for the ones Tresen lists."""

    store_ids: tuple[str, ...] | None = None
    keys: tuple[Verifier, ...] | None = None


def verify_journals(
    command: VerifyJournals, uow: JournalUnitOfWork, progress: Progress | None = None
) -> Iterator[Verdict]:
    """Each store's verdict as it is reached. The keys and the stores are settled first: listed keys
    that cannot be trusted raise KeysError here, before any journal is read."""
    trusted = registry_keys(uow) if command.keys is None else list(command.keys)
    stores = list(command.store_ids) if command.store_ids is not None else every_store(uow)
    return (verify_store(uow, store_id, trusted, progress) for store_id in stores)


def every_store(uow: JournalUnitOfWork) -> list[str]:
    return sorted({*uow.journal.store_ids(), *uow.archived.store_ids()})


def registry_keys(uow: JournalUnitOfWork) -> list[Verifier]:
    """The keys Tresen lists, retired ones included."""
    return [key_from_registry(key, f"listed key {key.get('key_id')}") for key in uow.journal.signing_keys()]


def verify_store(
    uow: JournalUnitOfWork, store_id: str, verifiers: Sequence[Verifier] | None = None, progress: Progress | None = None
) -> Verdict:
    """Firestore's copy and the archive's, each checked and then compared; `verifiers` the keys to
    trust (default: the ones Tresen lists)."""
    if not uow.journal.has_store(store_id):
        return Verdict(store_id, 0, "no such store")
    trusted = registry_keys(uow) if verifiers is None else list(verifiers)
    live_notes, live_open, problems = live_checkpoints(store_id, uow.journal.stored_checkpoints(store_id), trusted)
    archived_notes = uow.archived.checkpoint_notes(store_id)
    problems += strays(archived_notes, "archive: ")
    archive_open, found = audit.open_checkpoints(store_id, archived_notes.by_number, trusted, "archive: ")
    problems += found

    live = uow.journal.entries(store_id)
    live_seqs = [entry.get("seq") for entry in live]
    live_raws = [canonical_entries.canonical(entry) for entry in live]
    problems += check_copy(store_id, live_seqs, live_raws, live_open, "Firestore: ", audit.FIRESTORE, True, progress)
    archived_entries = uow.archived.entries(store_id, progress)
    problems += strays(archived_entries, "archive: ")
    archived = sorted(archived_entries.by_number.items())
    archived_seqs, archived_raws = [seq for seq, _ in archived], [raw for _, raw in archived]
    problems += check_copy(
        store_id, archived_seqs, archived_raws, archive_open, "archive: ", audit.ARCHIVE, False, progress
    )

    problems += audit.compare_copies(
        {seq: raw for seq, raw in zip(live_seqs, live_raws, strict=True) if type(seq) is int},
        dict(archived),
        lambda seqs: uow.journal.awaiting_archive(store_id, seqs),
    )
    problems += audit.compare_checkpoints(
        live_notes, archived_notes.by_number, lambda sizes: uow.journal.checkpoints_awaiting_archive(store_id, sizes)
    )
    behind = any(problem.behind for problem in problems)
    return audit.verdict(store_id, len(live), live_notes, problems, behind)


def live_checkpoints(
    store_id: str, stored: list[StoredCheckpoint], trusted: Sequence[Verifier]
) -> tuple[dict[int, bytes], dict[int, OpenCheckpoint], list[Problem]]:
    """Firestore's checkpoints: their notes by size, those a trusted key signed, and what is wrong
    with the others and with documents that do not match their note."""
    problems, documents = [], {}
    for doc in stored:
        if doc.size is None or not isinstance(doc.data.get("note"), str):
            problems.append(Problem(audit.NO_SEQ, audit.OTHER, f"Firestore: {doc.where}: not a checkpoint"))
        else:
            documents[doc.size] = doc.data
    notes = {size: data["note"].encode() for size, data in documents.items()}
    opened, found = audit.open_checkpoints(store_id, notes, trusted, "Firestore: ")
    problems += found
    for size, checkpoint in opened.items():
        wrong = audit.checkpoint_document_problems(store_id, size, documents[size], checkpoint)
        if wrong:
            text = f"Firestore: checkpoint {size}: its document does not match its signed note ({', '.join(wrong)})"
            problems.append(Problem(size, audit.CHECKPOINT, text))
    return notes, opened, problems


def strays(objects: ArchivedObjects, label: str = "") -> list[Problem]:
    return [Problem(audit.NO_SEQ, audit.OTHER, f"{label}{name}: stray object") for name in objects.stray]


def check_copy(
    store_id: str,
    seqs: list,
    raws: list[bytes | None],
    checkpoints: dict[int, OpenCheckpoint],
    label: str,
    rank: int,
    canonical: bool,
    progress: Progress | None,
) -> list[Problem]:
    """One copy held in memory: its chain from seq 1 and the root at each of its checkpoints."""
    roots = {size: opened.checkpoint.root for size, opened in checkpoints.items()}
    held, missing = audit.gap(seqs, label)
    covered = float("inf") if canonical else max(roots, default=0)
    closings: list[int] = []
    chain = link_segments(
        store_id,
        noting_closings(segments_of(store_id, raws[:held], covered, roots.keys()), closings),
        roots,
        lambda seq: raws[seq - 1],
        label=label,
        rank=rank,
        progress=progress,
        total=len(raws),
    )
    if chain.problem is not None:
        return [chain.problem]
    if missing is not None:
        return [Problem(held + 1, rank, missing)]
    found = audit.coverage(chain.passed, roots, label)
    return ([found] if found else []) + audit.closing_problems(closings, lambda seq: raws[seq - 1], label)


def noting_closings(segments: Iterable[Segment], closings: list[int]) -> Iterator[Segment]:
    """The segments as they come, noting the closings among their entries for the recount after."""
    for segment in segments:
        closings.extend(segment.closings)
        yield segment


# ---------------------------------------------------------------- a copy of the bucket in a directory


class ArchiveCopy(Protocol):
    """The archive bucket's objects as an auditor copied them (adapters/archive_directory.py)."""

    def store_ids(self) -> list[str]: ...

    def entry_seqs(self, store_id: str) -> tuple[list[int], list[str]]:
        """The seqs of the store's entries in order, and the full names of objects that are no entry's."""

    def read_entry(self, store_id: str, seq: int) -> bytes | None: ...

    def segments(
        self,
        store_id: str,
        held: int,
        covered: int,
        sizes: Collection[int],
        workers: int | None = None,
        height: int = SEGMENT_HEIGHT,
    ) -> Iterator[Segment]:
        """journal_chain.check_segment over entries 1 … `held`, in order, stopping after the first
        segment with a problem."""

    def checkpoint_notes(self, store_id: str) -> ArchivedObjects: ...


def verify_archive_store(
    directory: ArchiveCopy,
    store_id: str,
    verifiers: Sequence[Verifier],
    progress: Progress | None = None,
    workers: int | None = None,
    segment_height: int = SEGMENT_HEIGHT,
) -> Verdict:
    """One store's journal from a copy of the archive, trusting only `verifiers`; its segments (of
    2**segment_height entries) checked by `workers` processes (default: one per CPU) when there
    are several."""
    seqs, stray_entries = directory.entry_seqs(store_id)
    notes = directory.checkpoint_notes(store_id)
    if not seqs and not notes.by_number and not stray_entries:
        return Verdict(store_id, 0, "no such store in the archive")
    opened, problems = audit.open_checkpoints(store_id, notes.by_number, verifiers)
    problems += strays(ArchivedObjects({}, stray_entries)) + strays(notes)
    roots = {size: found.checkpoint.root for size, found in opened.items()}
    # distinct names: seqs that end at their count run 1, 2, … without a gap
    held, missing = (len(seqs), None) if seqs and seqs[-1] == len(seqs) else audit.gap(seqs)
    closings: list[int] = []
    segments = directory.segments(store_id, held, max(roots, default=0), roots.keys(), workers, segment_height)
    with contextlib.closing(segments):
        chain = link_segments(
            store_id,
            noting_closings(segments, closings),
            roots,
            lambda seq: directory.read_entry(store_id, seq),
            progress=progress,
            total=len(seqs),
            height=segment_height,
        )
    if chain.problem is not None:
        problems.append(chain.problem)
    elif missing is not None:
        problems.append(Problem(held + 1, audit.ARCHIVE, missing))
    else:
        # Without Firestore's outbox there is no telling an archive behind from one that lost
        # entries: entries a checkpoint covers missing at the end are said to be either.
        what = f": the archive holds {held} entries (behind, or it lost the rest)"
        found = audit.coverage(chain.passed, roots, what=what, behind=True)
        problems += [found] if found else []
        problems += audit.closing_problems(closings, lambda seq: directory.read_entry(store_id, seq))
    return audit.verdict(store_id, len(seqs), notes.by_number, problems)
