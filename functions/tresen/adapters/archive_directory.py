"""A copy of the archive bucket in a directory, as `gcloud storage cp -r "gs://BUCKET/*" DIR` leaves
it: each object a file under its name (`journal/{store}/…`, `checkpoints/{store}/…`). What
`tresen verify --archive DIR` reads (services/verify.py `verify_archive_store`).

A store has a million small files; opening one is most of what reading it costs. So entries are
read as they are checked, relative to their directory, and their segments are checked by one
process per CPU where there is more than one segment.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..services.journal_chain import SEGMENT_HEIGHT, Segment, check_segment
from ..services.journal_ports import ArchivedObjects
from .archive import CHECKPOINTS, ENTRIES, checkpoints_prefix, entries_prefix, entry_seq
from .journal_store import size_named

READ_SIZE = 1 << 16


class ArchiveDirectory:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def store_ids(self) -> list[str]:
        found = set()
        for kind in (ENTRIES, CHECKPOINTS):
            if (self.root / kind).is_dir():
                found |= {entry.name for entry in os.scandir(self.root / kind) if entry.is_dir()}
        return sorted(found)

    def _names(self, prefix: str) -> list[str]:
        directory = self.root / prefix
        return os.listdir(directory) if directory.is_dir() else []

    def entry_seqs(self, store_id: str) -> tuple[list[int], list[str]]:
        """The seqs of the store's entry files in order, and the full names of the files that are
        not an entry's."""
        prefix = entries_prefix(store_id)
        seqs, stray = [], []
        for name in self._names(prefix):
            seq = entry_seq(name)
            if seq is None:
                stray.append(prefix + name)
            else:
                seqs.append(seq)
        return sorted(seqs), sorted(stray)

    def read_entry(self, store_id: str, seq: int) -> bytes | None:
        try:
            return (self.root / entries_prefix(store_id) / f"{seq:012d}.json").read_bytes()
        except OSError:
            return None

    def segments(
        self,
        store_id: str,
        held: int,
        covered: int,
        sizes: Collection[int],
        workers: int | None = None,
        height: int = SEGMENT_HEIGHT,
    ) -> Iterator[Segment]:
        """check_segment over entries 1 … `held` in segments of 2**height, in order, by `workers`
        processes at once where there is more than one segment (reading and hashing happen in the
        workers). Stops after the first segment with a problem."""
        length = 1 << height
        tasks = [
            SegmentTask(
                str(self.root / entries_prefix(store_id)),
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

    def checkpoint_notes(self, store_id: str) -> ArchivedObjects:
        """The notes by size; a name that is no checkpoint's, or a file that cannot be read, is stray."""
        prefix = checkpoints_prefix(store_id)
        notes, stray = {}, []
        for name in self._names(prefix):
            size = size_named(name)
            try:
                if size is None:
                    raise OSError(name)
                notes[size] = (self.root / prefix / name).read_bytes()
            except OSError:
                stray.append(prefix + name)
        return ArchivedObjects(notes, sorted(stray))


@dataclass(frozen=True)
class SegmentTask:
    directory: str
    store_id: str
    start: int
    count: int
    covered: int
    sizes: frozenset[int]


def check_files(task: SegmentTask) -> Segment:
    """One segment of entry files: read as they are checked (stopping at the first problem).
    Plain os.open/os.read relative to the directory: each entry is a small file, and opening it is
    most of what reading it costs."""
    directory = os.open(task.directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        raws = (read_file(f"{seq:012d}.json", directory) for seq in range(task.start, task.start + task.count))
        return check_segment(task.store_id, task.start, raws, task.covered, task.sizes)
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
