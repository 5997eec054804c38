"""The immutable archive in Cloud Storage: every journal entry and signed checkpoint as its own
create-only object (services/journal_ports.py `Archiver`, and `ArchivedJournal` to read it back).

Writes use `if_generation_match=0`, so an object once written can never be replaced, not even by
us; a retry of an entry that is already there (same bytes) counts as done. The outbox marker of an
entry is deleted only after its object exists, so the sweep (services/archive_sweep.py) finds every
entry whose archive write failed or never ran.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from ..config import settings
from ..domain.journal import canonical_bytes
from ..services.documents import Documents
from ..services.journal_ports import ArchiveConflict, ArchivedObjects, Entry, ProgressReport
from .archive_bucket import BACKGROUND, CONNECTIONS, LOOKUP, bounded, bucket
from .journal_store import checkpoint_outbox_path, outbox_path, size_named
from .signed_urls import signed_url

log = logging.getLogger(__name__)
DOWNLOADS = CONNECTIONS  # archive objects fetched at once when reading a store back: each is one HTTP request
ENTRIES, CHECKPOINTS = "journal/", "checkpoints/"
LINGER = 0.2  # seconds an entry waits in the background for others committed after it
MARKERS_PER_COMMIT = 500  # Firestore's limit of writes in one commit


def entries_prefix(store_id: str) -> str:
    return f"{ENTRIES}{store_id}/"


def checkpoints_prefix(store_id: str) -> str:
    return f"{CHECKPOINTS}{store_id}/"


def archive_object_name(store_id: str, seq: int) -> str:
    return f"{entries_prefix(store_id)}{seq:012d}.json"


def checkpoint_object_name(store_id: str, size: int) -> str:
    return f"{checkpoints_prefix(store_id)}{size:012d}"


def entry_seq(name: str) -> int | None:
    """The seq an entry object's name in its store's folder (`{seq:012d}.json`) says, None if it is
    no such name."""
    digits = name[:-5]
    if not (name.endswith(".json") and 12 <= len(digits) <= 20 and digits.isascii() and digits.isdigit()):
        return None  # (string tests: a store has a million names to read, and a regex is slower)
    seq = int(digits)
    return seq if seq >= 1 and (len(digits) == 12 or digits[0] != "0") else None


def by_number(
    prefix: str, objects: Iterable[tuple[str, bytes]], number: Callable[[str], int | None]
) -> ArchivedObjects:
    """Objects (full name, bytes) under `prefix`, by the number their name after it says."""
    held, stray = {}, []
    for name, data in objects:
        found = number(name[len(prefix) :])
        if found is None:
            stray.append(name)
        else:
            held[found] = data
    return ArchivedObjects(held, sorted(stray))


def put_create_only(name: str, data: bytes, content_type: str = "application/json") -> None:
    from google.api_core.exceptions import PreconditionFailed

    blob = bucket().blob(name)
    try:
        blob.upload_from_string(data, content_type=content_type, if_generation_match=0, **bounded(BACKGROUND))
    except PreconditionFailed:
        if bucket().blob(name).download_as_bytes(**bounded(BACKGROUND)) != data:
            raise ArchiveConflict(f"{name} exists with different content") from None


def holds(store_id: str, seq: int) -> bool:
    return bucket().blob(archive_object_name(store_id, seq)).exists(**bounded(LOOKUP))


def downloaded(prefix: str, progress: ProgressReport | None = None) -> list[tuple[str, bytes]]:
    """(name, bytes) of every object under `prefix`, by name."""
    blobs = sorted(bucket().list_blobs(prefix=prefix), key=lambda blob: blob.name)
    contents = []
    with ThreadPoolExecutor(max_workers=DOWNLOADS, thread_name_prefix="archive-read") as pool:
        for data in pool.map(lambda blob: blob.download_as_bytes(), blobs):
            contents.append(data)
            if progress is not None:
                progress(prefix.rstrip("/"), len(contents), len(blobs), "objects downloaded")
    return [(blob.name, data) for blob, data in zip(blobs, contents, strict=True)]


MEDIA_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
}


def media_type(name: str) -> str:
    """By the name's ending; journal entries (.json) and signed notes (none: text) mostly."""
    return next((kind for end, kind in MEDIA_TYPES.items() if name.endswith(end)), "text/plain; charset=utf-8")


class BucketArchive:
    """The Cloud Storage bucket (through this module's functions, so a test can fail them)."""

    @staticmethod
    def put(name: str, data: bytes) -> None:
        put_create_only(name, data, media_type(name))

    @staticmethod
    def signed_url(name: str, filename: str) -> str:
        return signed_url(name, filename)

    @staticmethod
    def holds(store_id: str, seq: int) -> bool:
        return holds(store_id, seq)

    @staticmethod
    def store_ids() -> list[str]:
        found = set()
        for kind in (ENTRIES, CHECKPOINTS):
            listing = bucket().list_blobs(prefix=kind, delimiter="/")
            for _ in listing:  # the sub-prefixes are known once the listing is read
                pass
            found |= {name[len(kind) :].rstrip("/") for name in listing.prefixes}
        return sorted(found)

    @staticmethod
    def entries(store_id: str, progress: ProgressReport | None = None) -> ArchivedObjects:
        prefix = entries_prefix(store_id)
        return by_number(prefix, downloaded(prefix, progress), entry_seq)

    @staticmethod
    def checkpoint_notes(store_id: str) -> ArchivedObjects:
        prefix = checkpoints_prefix(store_id)
        return by_number(prefix, downloaded(prefix), size_named)


class MemoryArchive:
    """Objects in memory, create-only like the bucket: for the use-case tests."""

    def __init__(self):
        self.objects: dict[str, bytes] = {}

    def put(self, name: str, data: bytes) -> None:
        if self.objects.setdefault(name, data) != data:
            raise ArchiveConflict(f"{name} exists with different content")

    def holds(self, store_id: str, seq: int) -> bool:
        return archive_object_name(store_id, seq) in self.objects

    def signed_url(self, name: str, filename: str) -> str:
        return f"memory://archive/{name}?filename={filename}"

    def store_ids(self) -> list[str]:
        return sorted(
            {
                name.split("/")[1]
                for name in self.objects
                if name.startswith((ENTRIES, CHECKPOINTS)) and name.count("/") > 1
            }
        )

    def _under(self, prefix: str) -> list[tuple[str, bytes]]:
        return sorted((name, data) for name, data in self.objects.items() if name.startswith(prefix))

    def entries(self, store_id: str, progress: ProgressReport | None = None) -> ArchivedObjects:
        prefix = entries_prefix(store_id)
        return by_number(prefix, self._under(prefix), entry_seq)

    def checkpoint_notes(self, store_id: str) -> ArchivedObjects:
        prefix = checkpoints_prefix(store_id)
        return by_number(prefix, self._under(prefix), size_named)


def archive_entries(
    docs: Documents, store, entries: Iterable[Entry], on_conflict: Callable[[str], None] | None = None
) -> int:
    """Write entries to the archive `store` and clear their outbox markers (in one commit per 500);
    returns how many succeeded. `on_conflict(store_id)` hears of an entry the archive holds with
    other content."""
    archived = []
    for entry in entries:
        store_id, seq = entry["store_id"], entry["seq"]
        try:
            store.put(archive_object_name(store_id, seq), canonical_bytes(entry))
            archived.append(outbox_path(store_id, seq))
        except ArchiveConflict:
            log.error(
                "store %s: JOURNAL RECOVERY NEEDED: the archive holds seq %s with other content than Firestore",
                store_id,
                seq,
            )
            if on_conflict:
                on_conflict(store_id)
        except Exception:  # the sweeper retries; the request that committed must not fail for this
            log.exception("archive write failed for %s seq %s; left for the sweeper", store_id, seq)
    for first in range(0, len(archived), MARKERS_PER_COMMIT):
        try:
            cleared = docs.batch()
            for marker in archived[first : first + MARKERS_PER_COMMIT]:
                cleared.delete(marker)
            cleared.commit()
        except Exception:  # archived, and the sweeper finds them archived: it only clears the markers
            log.exception("clearing %d outbox markers failed; left for the sweeper", len(archived[first:]))
            return first
    return len(archived)


def archive_checkpoint(docs: Documents, store, store_id: str, size: int, note: str) -> bool:
    """Write a signed checkpoint's note to the archive and clear its outbox marker."""
    try:
        store.put(checkpoint_object_name(store_id, size), note.encode())
    except ArchiveConflict:
        log.error("store %s: the archive holds checkpoint %d with another note than Firestore", store_id, size)
        return False
    except Exception:
        log.exception("archive write failed for %s checkpoint %d; left for the sweeper", store_id, size)
        return False
    cleared = docs.batch()
    cleared.delete(checkpoint_outbox_path(store_id, size))
    cleared.commit()
    return True


class ArchiveQueue:
    """Archives committed entries in the background, off the request path; and now, for the sweep.

    What is committed within LINGER seconds goes together: one worker writes the entries' objects
    and clears all their outbox markers in one commit, instead of one commit per order, so the
    archive costs a busy instance less of the CPU its requests wait for.

    The outbox marker is committed with the entry, so an entry whose background write never
    happens (instance stopped, CPU throttled after the response) is still found by the sweeper.
    """

    def __init__(self, docs: Documents, store=None, linger: float = LINGER):
        self._docs = docs
        self.store = store or BucketArchive()
        self.on_conflict: Callable[[str], None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="archive")
        self._pending: set = set()
        self._lock = threading.Lock()
        self._linger = linger
        self._waiting: list[Entry] = []  # committed, not yet handed to a worker
        self._hurry = threading.Event()  # drain: write what waits now

    def submit(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        with self._lock:
            first = not self._waiting
            self._waiting.extend(entries)
        if first:  # a worker is already lingering for whatever joins it
            self._track(self._pool.submit(self._put_waiting))

    def _put_waiting(self) -> int:
        self._hurry.wait(self._linger)
        with self._lock:
            entries, self._waiting = self._waiting, []
        return self.put_entries(entries)

    def submit_checkpoint(self, store_id: str, size: int, note: str) -> None:
        self._track(self._pool.submit(self.put_checkpoint, store_id, size, note))

    def put_entries(self, entries: list[Entry]) -> int:
        return archive_entries(self._docs, self.store, entries, self.on_conflict)

    def put_checkpoint(self, store_id: str, size: int, note: str) -> bool:
        return archive_checkpoint(self._docs, self.store, store_id, size, note)

    def _track(self, future) -> None:
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 30) -> None:
        """Write what waits now, and wait for the writes submitted so far (clean shutdown, tests)."""
        with self._lock:
            pending = list(self._pending)
        self._hurry.set()
        try:
            wait(pending, timeout=timeout)
        finally:
            self._hurry.clear()


def ensure_bucket() -> None:
    """Dev and tests only: create the archive bucket in fake-gcs-server if it is missing."""
    from google.api_core.exceptions import Conflict

    try:
        bucket().client.create_bucket(settings().archive_bucket, location="europe-west3")
    except Conflict:
        pass
