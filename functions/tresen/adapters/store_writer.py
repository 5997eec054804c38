"""Atomic commits that claim gap-free numbers per store: journal seq, invoice and pickup numbers.

Firestore's server SDK locks what a transaction reads, and concurrent read-then-write transactions
on one document deadlock in the emulator. So no hot document (counter, journal head) is ever read
inside the commit. Instead each number is a document of its own, created with a create-only
precondition: `stores/{store}/journal/{seq}` for entry `seq`, `stores/{store}/{counter}/{scope}-{n}`
for counter values. Creating number n+1 is only attempted by someone who knows n exists, so the
sequence can have no gap; two writers racing for n+1 cannot both succeed, and the loser learns the
new head and tries again with fresh numbers.

Within one process the commits of a store are serialised by a lock and the heads are cached, so
the race only happens between instances; the cached journal head also provides `prev_hash`
without a read. Everything of a use case — its documents, its journal entries, the archive outbox
markers and the idempotent response — goes into one atomic batch commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..domain.journal import make_entry, rfc3339
from ..services.documents import Batch, Conflict, Documents
from ..services.unit_of_work import (
    AlreadyWritten,
    Build,
    Committed,
    Counter,
    JournalRecoveryNeeded,
    Plan,
    StoreBusy,
)
from .journal_store import JournalRecords, journal_collection, journal_path, outbox_path
from .records import Placed, add_to, placed

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ATTEMPTS = 40


BeforeCommit = Callable[[Batch, Any], None]  # (batch, result) → adds writes to the same batch


def paths(writes: list[Placed], kind: str) -> set[str]:
    return {write.path for write in writes if write.kind == kind}


class NumberClaims:
    """Hands out the next number of each counter for one commit attempt."""

    def __init__(self, writer: StoreWriter, store_id: str):
        self._writer, self._store_id = writer, store_id
        self.claimed: dict[Counter, tuple[int, str]] = {}

    def next(self, counter: Counter, ref: str) -> int:
        if counter in self.claimed:
            raise ValueError(f"{counter} claimed twice in one commit")
        n = self._writer.counter_head(self._store_id, counter) + 1
        self.claimed[counter] = (n, ref)
        return n


class StoreWriter:
    def __init__(
        self,
        docs: Documents,
        on_committed: Callable[[list[dict[str, Any]]], None],
        archived: Callable[[str, int], bool] | None = None,
    ):
        self._docs = docs
        self._journal = JournalRecords(docs)
        self._on_committed = on_committed
        self._archived = archived  # does the archive hold this store's entry with this seq?
        self._guard = threading.Lock()
        self._store_locks: dict[str, threading.Lock] = {}
        self._journal_heads: dict[str, tuple[int, str]] = {}
        self._counter_heads: dict[tuple[str, Counter], int] = {}

    def commit(
        self,
        store_id: str,
        build: Build[T],
        before_commit: list[BeforeCommit] | None = None,
    ) -> Committed[T]:
        with self._store_lock(store_id):
            for attempt in range(1, MAX_ATTEMPTS + 1):
                claims = NumberClaims(self, store_id)
                plan = build(claims)
                writes = [placed(write) for write in plan.writes.ops]
                batch, entries = self._batch_for(store_id, plan, writes, claims)
                for hook in before_commit or ():
                    hook(batch, plan.result)
                try:
                    batch.commit()
                except Conflict as conflict:
                    if conflict.kind == "changed":
                        if not self._changed_since_read(writes):
                            raise  # another precondition failed (an idempotency lease taken over)
                        log.info("store %s: a document changed since it was read (attempt %d)", store_id, attempt)
                        continue
                    if conflict.path in paths(writes, "sequenced"):
                        log.info("store %s: a ledger moved on since it was read (attempt %d)", store_id, attempt)
                        continue
                    if conflict.path in paths(writes, "create"):
                        raise AlreadyWritten(conflict.path) from None
                    if conflict.path and conflict.path not in numbered_paths(store_id, entries, claims):
                        # a record added beside the plan (a request's answer, created with it) exists
                        raise AlreadyWritten(conflict.path) from None
                    log.info(
                        "store %s: numbers taken by another instance (attempt %d): %s", store_id, attempt, conflict
                    )
                    self._forget_heads(store_id, conflict.path)
                    continue
                except Exception:
                    # Outcome unknown (timeout, lost connection): the cached heads may be wrong.
                    self._forget_heads(store_id, None)
                    raise
                self._remember_heads(store_id, entries, claims)
                break
            else:
                raise StoreBusy(f"store {store_id}: could not claim numbers after {MAX_ATTEMPTS} attempts")
        self._on_committed(entries)
        return Committed(plan.result, entries)

    def _changed_since_read(self, writes: list[Placed]) -> bool:
        read = [write for write in writes if write.kind == "update" and write.read_at]
        now = self._docs.get_all([write.path for write in read])
        return any(doc is None or doc.version != write.read_at for doc, write in zip(now, read, strict=True))

    def _batch_for(self, store_id: str, plan: Plan, writes: list[Placed], claims: NumberClaims):
        batch = self._docs.batch()
        for write in writes:
            add_to(batch, write)
        for counter, (n, ref) in claims.claimed.items():
            batch.create(
                counter_path(store_id, counter, n), {"scope": counter.scope, "n": n, "ref": ref, "at": plan.at}
            )
        seq, prev_hash = self.journal_head(store_id)
        entries = []
        for event in plan.events:
            seq += 1
            entry = make_entry(
                store_id=store_id, seq=seq, event=event, at=rfc3339(plan.at), actor=plan.actor, prev_hash=prev_hash
            )
            prev_hash = entry["hash"]
            entries.append(entry)
            batch.create(journal_path(store_id, seq), entry)
            batch.create(outbox_path(store_id, seq), {"store_id": store_id, "seq": seq, "at": plan.at})
        return batch, entries

    def journal_head(self, store_id: str) -> tuple[int, str]:
        head = self._journal_heads.get(store_id)
        if head is None:
            head = self._journal.head(store_id)
            while self._archived_beyond(store_id, head[0]):
                # Another instance may have appended and archived since we read: archive writes
                # come after commits, so a second read of Firestore tells a loss from a race.
                newer = self._journal.head(store_id)
                if newer[0] > head[0]:
                    head = newer
                    continue
                log.error(
                    "store %s: JOURNAL RECOVERY NEEDED: the archive holds seq %d but Firestore's journal ends at "
                    "%d; no writes until `tresen recover --store %s`",
                    store_id,
                    head[0] + 1,
                    head[0],
                    store_id,
                )
                raise JournalRecoveryNeeded(store_id, head[0])
            self._journal_heads[store_id] = head
        return head

    def _archived_beyond(self, store_id: str, seq: int) -> bool:
        """Checked once whenever this instance learns a store's head: one object lookup. If the
        archive cannot answer, writing goes on (orders must not depend on the archive being up);
        an archive write that meets other bytes stops the store then (`forget_journal_head`)."""
        if self._archived is None:
            return False
        try:
            return self._archived(store_id, seq + 1)
        except Exception as error:
            log.warning("store %s: could not check the archive beyond seq %d: %r", store_id, seq, error)
            return False

    def forget_journal_head(self, store_id: str) -> None:
        """Learn the head afresh (and check the archive beyond it) before the next append."""
        with self._guard:
            self._journal_heads.pop(store_id, None)

    def counter_head(self, store_id: str, counter: Counter) -> int:
        key = (store_id, counter)
        if key not in self._counter_heads:
            newest = self._docs.query(
                f"stores/{store_id}/{counter.name}",
                where=[("scope", "==", counter.scope)],
                order_by=[("n", True)],
                limit=1,
            )
            self._counter_heads[key] = newest[0].data["n"] if newest else 0
        return self._counter_heads[key]

    def _remember_heads(self, store_id: str, entries: list[dict[str, Any]], claims: NumberClaims) -> None:
        if entries:
            self._journal_heads[store_id] = (entries[-1]["seq"], entries[-1]["hash"])
        for counter, (n, _) in claims.claimed.items():
            self._counter_heads[(store_id, counter)] = n

    def _forget_heads(self, store_id: str, conflict_path: str | None) -> None:
        """Drop the cached heads the conflict names (all of the store's if it names none we know)."""
        named = f"/{conflict_path or ''}"
        journal_hit = f"/{journal_collection(store_id)}/" in named
        counter_hits = [k for k in self._counter_heads if k[0] == store_id and f"/{k[1].name}/" in named]
        if journal_hit or not counter_hits:
            self._journal_heads.pop(store_id, None)
        if counter_hits:
            for key in counter_hits:
                self._counter_heads.pop(key, None)
        elif not journal_hit:
            for key in [k for k in self._counter_heads if k[0] == store_id]:
                self._counter_heads.pop(key, None)

    def _store_lock(self, store_id: str) -> threading.Lock:
        with self._guard:
            return self._store_locks.setdefault(store_id, threading.Lock())


def numbered_paths(store_id: str, entries: list[dict], claims: NumberClaims) -> set[str]:
    """What a commit creates by number: claimed counters, journal entries and their outbox marks
    (taken by another instance first, they are claimed afresh)."""
    counters = {counter_path(store_id, counter, n) for counter, (n, _) in claims.claimed.items()}
    journal = {path(store_id, entry["seq"]) for entry in entries for path in (journal_path, outbox_path)}
    return counters | journal


def counter_path(store_id: str, counter: Counter, n: int) -> str:
    return f"stores/{store_id}/{counter.name}/{counter.scope}-{n:09d}"
