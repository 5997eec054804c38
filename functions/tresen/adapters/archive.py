"""The immutable archive in Cloud Storage: every journal entry as its own create-only object.

Writes use `if_generation_match=0`, so an object once written can never be replaced, not even by
us; a retry of an entry that is already there (same bytes) counts as done. The Firestore outbox
marker of an entry is deleted only after its object exists, so `tresen sweep` finds every entry
whose archive write failed or never ran.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from ..config import settings
from ..domain.journal import canonical_bytes
from ..services.documents import Documents
from .lazy import once
from .store_writer import checkpoint_path, journal_path, outbox_path

log = logging.getLogger(__name__)


@once
def bucket():
    from google.cloud import storage

    return storage.Client(project=settings().project).bucket(settings().archive_bucket)


# Archive writes run in the background: a slow bucket may take its time, but not forever (the
# sweeper retries). A lookup on the request path gets a few seconds at most.
BACKGROUND = (10.0, 30.0)  # seconds: one attempt, all attempts
LOOKUP = (2.0, 4.0)


def bounded(deadline: tuple[float, float]) -> dict[str, Any]:
    from google.cloud.storage.retry import DEFAULT_RETRY

    attempt, total = deadline
    return {"timeout": attempt, "retry": DEFAULT_RETRY.with_timeout(total)}


def archive_object_name(store_id: str, seq: int) -> str:
    return f"journal/{store_id}/{seq:012d}.json"


def checkpoint_object_name(store_id: str, size: int) -> str:
    return f"checkpoints/{store_id}/{size:012d}"


def checkpoint_outbox_path(store_id: str, size: int) -> str:
    return f"archive_outbox/{store_id}:checkpoint:{size:012d}"


class ArchiveConflict(RuntimeError):
    """An archived object exists with other content than Firestore's entry: never overwritten."""


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
        from .signed_urls import signed_url

        return signed_url(name, filename)

    @staticmethod
    def holds(store_id: str, seq: int) -> bool:
        return holds(store_id, seq)


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


def archive_entries(
    docs: Documents, store, entries: Iterable[dict[str, Any]], on_conflict: Callable[[str], None] | None = None
) -> int:
    """Write entries to the archive `store` and clear their outbox markers; returns how many
    succeeded. `on_conflict(store_id)` hears of an entry the archive holds with other content."""
    done = 0
    for entry in entries:
        store_id, seq = entry["store_id"], entry["seq"]
        try:
            store.put(archive_object_name(store_id, seq), canonical_bytes(entry))
            cleared = docs.batch()
            cleared.delete(outbox_path(store_id, seq))
            cleared.commit()
            done += 1
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
    return done


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
    """Archives committed entries in the background, off the request path.

    The outbox marker is committed with the entry, so an entry whose background write never
    happens (instance stopped, CPU throttled after the response) is still found by the sweeper.
    """

    def __init__(self, docs: Documents, store=None):
        from concurrent.futures import ThreadPoolExecutor

        self._docs = docs
        self.store = store or BucketArchive()
        self.on_conflict: Callable[[str], None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="archive")
        self._pending: set = set()
        self._lock = threading.Lock()

    def submit(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        self._track(self._pool.submit(archive_entries, self._docs, self.store, entries, self.on_conflict))

    def submit_checkpoint(self, store_id: str, size: int, note: str) -> None:
        self._track(self._pool.submit(archive_checkpoint, self._docs, self.store, store_id, size, note))

    def _track(self, future) -> None:
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 30) -> None:
        """Wait for the writes submitted so far (clean shutdown, tests)."""
        from concurrent.futures import wait

        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)


def sweep(docs: Documents, older_than: timedelta, now: datetime, store=None) -> tuple[int, int]:
    """Archive every entry and checkpoint still in the outbox; returns (archived, still pending)."""
    from .firestore_client import SCAN_TIMEOUT

    store = store or BucketArchive()
    due = docs.query("archive_outbox", where=[("at", "<=", now - older_than)], timeout=SCAN_TIMEOUT)
    archived = failed = 0
    for marker in due:
        store_id = marker.data["store_id"]
        if "checkpoint" in marker.data:
            size = marker.data["checkpoint"]
            done = archive_checkpoint(
                docs, store, store_id, size, docs.get(checkpoint_path(store_id, size)).data["note"]
            )
        else:
            done = archive_entries(docs, store, [docs.get(journal_path(store_id, marker.data["seq"])).data])
        if done:
            archived += 1
        else:
            failed += 1
    return archived, failed


def ensure_bucket() -> None:
    """Dev and tests only: create the archive bucket in fake-gcs-server if it is missing."""
    from google.api_core.exceptions import Conflict

    try:
        bucket().client.create_bucket(settings().archive_bucket, location="europe-west3")
    except Conflict:
        pass
