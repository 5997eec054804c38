"""`tresen verify`: each store's journal checked from Firestore and from the archive, or offline
from a copy of the archive bucket in a directory.

Each copy must chain whole from seq 1, match the root of every checkpoint at its size, and every
checkpoint must be signed by a trusted key (`journal_audit` does the checking); with Firestore,
the two copies must then be identical entry for entry and checkpoint for checkpoint. The report
names the first seq that is missing, reordered or differs, and tells an archive that is merely
behind (entries still in the outbox) from one that disagrees.

Trusted keys: those given (`--keys FILE`), else with Firestore the registry `journal_keys/…` that
`GET /v1/journal/public-keys` lists. Offline, only the keys given: never keys found in the archive.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import re
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..domain.signed_note import Verifier
from . import journal_audit as audit
from .documents import Documents
from .journal_audit import KeysError, Problem, Progress, Verdict

__all__ = ["KeysError", "Verdict", "verify_store", "verify_archive_store", "ArchiveDirectory"]

CHECKPOINT_NAME = re.compile(r"[0-9]{12,20}")
DOWNLOADS = 16  # archive objects fetched at once: each is one HTTP request
READ_SIZE = 1 << 16


def entry_seq(name: str) -> int | None:
    """The seq an archive object's file name (`{seq:012d}.json`) says, None if it is no such name."""
    digits = name[:-5]
    if not (name.endswith(".json") and 12 <= len(digits) <= 20 and digits.isascii() and digits.isdigit()):
        return None  # (string tests: a store has a million names to read, and a regex is slower)
    seq = int(digits)
    return seq if seq >= 1 and (len(digits) == 12 or digits[0] != "0") else None


def checkpoint_size(name: str) -> int | None:
    if not CHECKPOINT_NAME.fullmatch(name):
        return None
    size = int(name)
    return size if name == f"{size:012d}" else None


# ---------------------------------------------------------------- Firestore and the bucket


def firestore_entries(docs: Documents, store_id: str) -> list[dict]:
    from ..adapters.firestore_client import SCAN_TIMEOUT

    journal = docs.query(f"stores/{store_id}/journal", order_by=[("seq", False)], timeout=SCAN_TIMEOUT)
    return [entry.data for entry in journal]


def archived_objects(bucket, prefix: str, progress: Progress | None = None) -> list[tuple[str, bytes]]:
    """(name after `prefix`, bytes) of every object under `prefix`, by name."""
    blobs = sorted(bucket.list_blobs(prefix=prefix), key=lambda blob: blob.name)
    contents = []
    with ThreadPoolExecutor(max_workers=DOWNLOADS, thread_name_prefix="verify") as pool:
        for data in pool.map(lambda blob: blob.download_as_bytes(), blobs):
            contents.append(data)
            if progress is not None:
                progress(prefix.rstrip("/"), len(contents), len(blobs), "objects downloaded")
    return [(blob.name[len(prefix) :], data) for blob, data in zip(blobs, contents, strict=True)]


def archived_entries(bucket, store_id: str) -> list[dict]:
    return [json.loads(data) for _, data in archived_objects(bucket, f"journal/{store_id}/")]


def by_seq(entries: list[dict]) -> dict[int, dict]:
    return {entry["seq"]: entry for entry in entries if isinstance(entry.get("seq"), int)}


def awaiting_archive(docs: Documents, store_id: str, seqs: list[int]) -> bool:
    """Every entry has its outbox marker: written to Firestore, archive write still to come."""
    from ..adapters.store_writer import outbox_path

    return all(docs.get_all([outbox_path(store_id, seq) for seq in seqs]))


def checkpoints_awaiting_archive(docs: Documents, store_id: str, sizes: list[int]) -> bool:
    """Every checkpoint has its archive outbox marker."""
    from ..adapters.archive import checkpoint_outbox_path

    return all(docs.get_all([checkpoint_outbox_path(store_id, size) for size in sizes]))


def all_store_ids(docs: Documents) -> list[str]:
    return sorted(store.id for store in docs.query("stores"))


def archive_store_ids(bucket) -> list[str]:
    """The stores the bucket holds journal entries or checkpoints of."""
    found = set()
    for prefix in ("journal/", "checkpoints/"):
        listing = bucket.list_blobs(prefix=prefix, delimiter="/")
        for _ in listing:  # the sub-prefixes are known once the listing is read
            pass
        found |= {name[len(prefix) :].rstrip("/") for name in listing.prefixes}
    return sorted(found)


def registry_keys(docs: Documents) -> list[Verifier]:
    """The keys of `journal_keys/…` (the public keys Tresen lists), retired ones included."""
    return [audit.key_from_registry(key.data, f"journal_keys/{key.id}") for key in docs.query("journal_keys")]


def verify_store(
    docs: Documents,
    bucket,
    store_id: str,
    verifiers: Sequence[Verifier] | None = None,
    progress: Progress | None = None,
) -> Verdict:
    """Firestore's copy and the archive's, each checked and then compared; `verifiers` the keys to
    trust (default: the registry)."""
    if docs.get(f"stores/{store_id}") is None:
        return Verdict(store_id, 0, "no such store")
    trusted = registry_keys(docs) if verifiers is None else list(verifiers)
    problems: list[Problem] = []

    live_checkpoints = {}
    for doc in docs.query(f"stores/{store_id}/checkpoints"):
        size = checkpoint_size(doc.id)
        if size is None or not isinstance(doc.data.get("note"), str):
            problems.append(Problem(audit.NO_SEQ, audit.OTHER, f"Firestore: {doc.path}: not a checkpoint"))
        else:
            live_checkpoints[size] = doc.data
    live_notes = {size: data["note"].encode() for size, data in live_checkpoints.items()}
    live_open, found = audit.open_checkpoints(store_id, live_notes, trusted, "Firestore: ")
    problems += found
    for size, opened in live_open.items():
        wrong = audit.checkpoint_document_problems(store_id, size, live_checkpoints[size], opened)
        if wrong:
            text = f"Firestore: checkpoint {size}: its document does not match its signed note ({', '.join(wrong)})"
            problems.append(Problem(size, audit.CHECKPOINT, text))
    archived_notes = {}
    for name, data in archived_objects(bucket, f"checkpoints/{store_id}/"):
        size = checkpoint_size(name)
        if size is None:
            problems.append(Problem(audit.NO_SEQ, audit.OTHER, f"archive: checkpoints/{store_id}/{name}: stray object"))
        else:
            archived_notes[size] = data
    archive_open, found = audit.open_checkpoints(store_id, archived_notes, trusted, "archive: ")
    problems += found

    live = firestore_entries(docs, store_id)
    live_seqs = [entry.get("seq") for entry in live]
    live_raws = [audit.canonical(entry) for entry in live]
    problems += check_copy(store_id, live_seqs, live_raws, live_open, "Firestore: ", audit.FIRESTORE, True, progress)
    archived = []
    for name, data in archived_objects(bucket, f"journal/{store_id}/", progress):
        seq = entry_seq(name)
        if seq is None:
            problems.append(Problem(audit.NO_SEQ, audit.OTHER, f"archive: journal/{store_id}/{name}: stray object"))
        else:
            archived.append((seq, data))
    archived.sort(key=lambda item: item[0])
    archived_seqs, archived_raws = [seq for seq, _ in archived], [raw for _, raw in archived]
    problems += check_copy(
        store_id, archived_seqs, archived_raws, archive_open, "archive: ", audit.ARCHIVE, False, progress
    )

    problems += audit.compare_copies(
        {seq: raw for seq, raw in zip(live_seqs, live_raws, strict=True) if type(seq) is int},
        dict(archived),
        lambda seqs: awaiting_archive(docs, store_id, seqs),
    )
    problems += audit.compare_checkpoints(
        live_notes, archived_notes, lambda sizes: checkpoints_awaiting_archive(docs, store_id, sizes)
    )
    behind = any(problem.behind for problem in problems)
    return audit.verdict(store_id, len(live), live_checkpoints, problems, behind)


def check_copy(
    store_id: str,
    seqs: list,
    raws: list[bytes | None],
    checkpoints: dict[int, audit.OpenCheckpoint],
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
    chain = audit.link_segments(
        store_id,
        noting_closings(audit.segments_of(store_id, raws[:held], covered, roots.keys()), closings),
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


def noting_closings(segments: Iterable[audit.Segment], closings: list[int]) -> Iterator[audit.Segment]:
    """The segments as they come, noting the closings among their entries for the recount after."""
    for segment in segments:
        closings.extend(segment.closings)
        yield segment


# ---------------------------------------------------------------- a copy of the bucket in a directory


class ArchiveDirectory:
    """The objects of the archive bucket as files under their names (`journal/{store}/…`,
    `checkpoints/{store}/…`), as `gcloud storage cp -r "gs://BUCKET/*" DIR` leaves them."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def store_ids(self) -> list[str]:
        found = set()
        for kind in ("journal", "checkpoints"):
            if (self.root / kind).is_dir():
                found |= {entry.name for entry in os.scandir(self.root / kind) if entry.is_dir()}
        return sorted(found)

    def _names(self, kind: str, store_id: str) -> list[str]:
        directory = self.root / kind / store_id
        return os.listdir(directory) if directory.is_dir() else []

    def entry_seqs(self, store_id: str) -> tuple[list[int], list[str]]:
        """The seqs of the store's entry files in order, and the names that are not an entry's."""
        seqs, stray = [], []
        for name in self._names("journal", store_id):
            seq = entry_seq(name)
            if seq is None:
                stray.append(name)
            else:
                seqs.append(seq)
        return sorted(seqs), sorted(stray)

    def read_entry(self, store_id: str, seq: int) -> bytes | None:
        try:
            return (self.root / "journal" / store_id / f"{seq:012d}.json").read_bytes()
        except OSError:
            return None

    def segments(
        self,
        store_id: str,
        held: int,
        covered: int,
        sizes: Collection[int],
        workers: int | None = None,
        height: int = audit.SEGMENT_HEIGHT,
    ) -> Iterator[audit.Segment]:
        """check_segment over entries 1 … `held` in segments of 2**height, in order, by `workers`
        processes at once where there is more than one segment (reading and hashing happen in the
        workers). Stops after the first segment with a problem."""
        length = 1 << height
        tasks = [
            SegmentTask(
                str(self.root / "journal" / store_id),
                store_id,
                start,
                min(length, held - start + 1),
                covered,
                frozenset(size for size in sizes if start <= size < start + length),
            )
            for start in range(1, held + 1, length)
        ]
        workers = min(workers or available_cpus(), len(tasks))
        if workers <= 1:
            for task in tasks:
                segment = check_files(task)
                yield segment
                if segment.problem is not None:
                    return
            return
        # fork is quick, but unsafe in a process that runs threads of its own
        context = multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")
        with context.Pool(workers) as pool:
            for segment in pool.imap(check_files, tasks):
                yield segment
                if segment.problem is not None:
                    return

    def checkpoint_notes(self, store_id: str) -> tuple[dict[int, bytes], list[str]]:
        notes, stray = {}, []
        for name in self._names("checkpoints", store_id):
            size = checkpoint_size(name)
            try:
                if size is None:
                    raise OSError(name)
                notes[size] = (self.root / "checkpoints" / store_id / name).read_bytes()
            except OSError:
                stray.append(name)
        return notes, sorted(stray)


@dataclass(frozen=True)
class SegmentTask:
    directory: str
    store_id: str
    start: int
    count: int
    covered: int
    sizes: frozenset[int]


def check_files(task: SegmentTask) -> audit.Segment:
    """One segment of entry files: read as they are checked (stopping at the first problem).
    Plain os.open/os.read relative to the directory: each entry is a small file, and opening it is
    most of what reading it costs."""
    directory = os.open(task.directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        raws = (read_file(f"{seq:012d}.json", directory) for seq in range(task.start, task.start + task.count))
        return audit.check_segment(task.store_id, task.start, raws, task.covered, task.sizes)
    finally:
        os.close(directory)


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def read_file(name: str, directory: int) -> bytes | None:
    """A file's bytes, None if it cannot be read (gone since it was listed, say)."""
    try:
        descriptor = os.open(name, os.O_RDONLY, dir_fd=directory)
    except OSError:
        return None
    try:
        data = os.read(descriptor, READ_SIZE)
        if len(data) == READ_SIZE:
            chunks = [data]
            while chunk := os.read(descriptor, READ_SIZE):
                chunks.append(chunk)
            data = b"".join(chunks)
        return data
    except OSError:  # a directory under an entry's name, say
        return None
    finally:
        os.close(descriptor)


def verify_archive_store(
    directory: ArchiveDirectory,
    store_id: str,
    verifiers: Sequence[Verifier],
    progress: Progress | None = None,
    workers: int | None = None,
    segment_height: int = audit.SEGMENT_HEIGHT,
) -> Verdict:
    """One store's journal from a copy of the archive, trusting only `verifiers`; its segments (of
    2**segment_height entries) checked by `workers` processes (default: one per CPU) when there
    are several."""
    seqs, stray_entries = directory.entry_seqs(store_id)
    notes, stray_notes = directory.checkpoint_notes(store_id)
    if not seqs and not notes and not stray_entries:
        return Verdict(store_id, 0, "no such store in the archive")
    opened, problems = audit.open_checkpoints(store_id, notes, verifiers)
    problems += [
        Problem(audit.NO_SEQ, audit.OTHER, f"journal/{store_id}/{name}: stray object") for name in stray_entries
    ]
    problems += [
        Problem(audit.NO_SEQ, audit.OTHER, f"checkpoints/{store_id}/{name}: stray object") for name in stray_notes
    ]
    roots = {size: found.checkpoint.root for size, found in opened.items()}
    # distinct names: seqs that end at their count run 1, 2, … without a gap
    held, missing = (len(seqs), None) if seqs and seqs[-1] == len(seqs) else audit.gap(seqs)
    closings: list[int] = []
    segments = directory.segments(store_id, held, max(roots, default=0), roots.keys(), workers, segment_height)
    with contextlib.closing(segments):
        chain = audit.link_segments(
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
    return audit.verdict(store_id, len(seqs), notes, problems)
