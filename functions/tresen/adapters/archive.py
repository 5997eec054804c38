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
from .lazy import once
from .store_writer import journal_path, outbox_path

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


def archive_entries(db, entries: Iterable[dict[str, Any]], on_conflict: Callable[[str], None] | None = None) -> int:
    """Write entries to the archive and clear their outbox markers; returns how many succeeded.
    `on_conflict(store_id)` hears of an entry the archive holds with other content."""
    done = 0
    for entry in entries:
        store_id, seq = entry["store_id"], entry["seq"]
        try:
            put_create_only(archive_object_name(store_id, seq), canonical_bytes(entry))
            db.document(outbox_path(store_id, seq)).delete()
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


class ArchiveQueue:
    """Archives committed entries in the background, off the request path.

    The outbox marker is committed with the entry, so an entry whose background write never
    happens (instance stopped, CPU throttled after the response) is still found by the sweeper.
    """

    def __init__(self, db):
        from concurrent.futures import ThreadPoolExecutor

        self._db = db
        self.on_conflict: Callable[[str], None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="archive")
        self._pending: set = set()
        self._lock = threading.Lock()

    def submit(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        future = self._pool.submit(archive_entries, self._db, entries, self.on_conflict)
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


def sweep(db, older_than: timedelta, now: datetime) -> tuple[int, int]:
    """Archive every entry still in the outbox; returns (archived, still pending)."""
    from google.cloud.firestore import FieldFilter

    from .firestore_client import SCAN_TIMEOUT

    due = db.collection("archive_outbox").where(filter=FieldFilter("at", "<=", now - older_than))
    pending = due.stream(timeout=SCAN_TIMEOUT)
    archived = failed = 0
    for marker in pending:
        store_id, seq = marker.get("store_id"), marker.get("seq")
        entry = db.document(journal_path(store_id, seq)).get().to_dict()
        if archive_entries(db, [entry]):
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
