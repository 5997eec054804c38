"""Atomic commits that claim gap-free numbers per store: journal seq, invoice and pickup numbers.

Firestore's server SDK locks what a transaction reads, and concurrent read-then-write transactions
on one document deadlock in the emulator. So no hot document (counter, journal head) is ever read
inside the commit. Instead each number is a document of its own, created with a create-only
precondition: `stores/{store}/journal/{seq}` for entry `seq`, `stores/{store}/{counter}/{scope}-{n}`
for counter values. Creating number n+1 is only attempted by someone who knows n exists, so the
sequence can have no gap; two writers racing for n+1 cannot both succeed, and the loser learns the
new head and tries again with fresh numbers.

Within one process the commits of a store wait in one lane and go to Firestore in groups
(commit_group.py), and the heads are cached, so the race only happens between instances; the
cached journal head also provides `prev_hash` without a read. The loser of a race learns the heads
afresh and from then on takes turns with the other instances on that store (store_turns.py): it
commits its group, with whatever joined the queue meanwhile, when the turn is handed to it, on the
heads handed with it. Only a store that stays out of reach for `BUSY_AFTER_S` is busy (503).
Everything of a use case — its documents, its journal entries, the archive outbox markers and the
idempotent response — goes into one atomic batch commit, with its group's.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..domain.journal import make_entry, rfc3339
from ..services.documents import Batch, Conflict, Documents
from ..services.unit_of_work import (
    AlreadyWritten,
    Build,
    Committed,
    Counter,
    JournalRecoveryNeeded,
    StoreBusy,
)
from .commit_group import BeforeCommit, GroupClaims, Lane, Member, MemberClaims, StagedBatch
from .journal_store import JournalRecords, journal_path, outbox_path
from .records import Placed, add_to, placed
from .store_turns import Heads, StoreTurns, Turn

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_GROUP_WRITES = 450  # one Firestore commit holds 500 writes; a margin for the last member's
MAX_GROUP_MEMBERS = 40  # what one commit takes of a store's queue (a batch's writes bound it too)
BUSY_AFTER_S = 20.0  # racing other instances this long, the store is busy: 503 with Retry-After
HEAD_READS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store-heads")


def paths(writes: list[Placed], kind: str) -> set[str]:
    return {write.path for write in writes if write.kind == kind}


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
        self._lanes: dict[str, Lane] = {}
        self._journal_heads: dict[str, tuple[int, str]] = {}
        self._archive_checked: set[str] = set()  # stores whose head this process checked against the archive
        self._counter_heads: dict[tuple[str, Counter], int] = {}
        self._turns = StoreTurns(docs)

    def commit(
        self,
        store_id: str,
        build: Build[T],
        before_commit: list[BeforeCommit] | None = None,
    ) -> Committed[T]:
        """Committed with whatever else of the store waits in this process (commit_group.py)."""
        member = Member(build, tuple(before_commit or ()))
        return self._lane(store_id).run(member, lambda lane: self._commit_group(store_id, lane))

    def _commit_group(self, store_id: str, lane: Lane) -> None:
        """One group committed: built, sent, and on a conflict built again on what it tells, each
        member settled (committed, or refused for a reason of its own). On a store this instance takes
        turns on (store_turns.py), only in its turn."""
        group: list[Member] = []
        busy_at = time.monotonic() + BUSY_AFTER_S
        turn: Turn | None = None
        try:
            for attempt in itertools.count(1):
                group += lane.take(MAX_GROUP_MEMBERS - len(group))
                if turn is None and self._turns.taking_turns(store_id):
                    turn = self._turns.wait_for_turn(store_id, busy_at)
                    if turn is not None and turn.heads is not None:
                        self._adopt_heads(store_id, turn.heads)
                    group += lane.take(MAX_GROUP_MEMBERS - len(group))
                if time.monotonic() > busy_at:
                    busy = StoreBusy(f"store {store_id}: other instances kept taking its numbers")
                    for member in group:
                        lane.settle(member, busy)
                    return
                group = self._build(store_id, group, lane)
                if not group and turn is None:
                    return
                batch = self._docs.batch()
                if turn is not None:
                    self._turns.hand_on(batch, store_id, self._heads_after(store_id, group), wish_again=bool(group))
                self._add_group(batch, store_id, group)
                try:
                    batch.commit()
                except Conflict as conflict:
                    group = self._retried_after(store_id, conflict, group, lane, attempt, turn is not None)
                    continue
                except Exception as error:
                    # Outcome unknown (timeout, lost connection): the cached heads may be wrong.
                    self._forget_heads(store_id)
                    for member in group:
                        lane.settle(member, error)
                    return
                self._remember_heads(store_id, group)
                self._on_committed([entry for member in group for entry in member.entries])
                for member in group:
                    lane.settle(member, Committed(member.plan.result, member.entries))
                return
        except BaseException as error:
            for member in group:
                if not member.settled.is_set():
                    lane.settle(member, error)
            raise

    def _build(self, store_id: str, group: list[Member], lane: Lane) -> list[Member]:
        """Each member's plan on the numbers after its predecessors', its journal entries chained
        after theirs. A member whose build fails is settled with its error; one that writes a document
        a predecessor writes (the same card, the same stock) waits for the next group, where it reads
        what its predecessor wrote."""
        claims = GroupClaims(lambda counter: self.counter_head(store_id, counter))
        seq, prev_hash = self.journal_head(store_id)
        built: list[Member] = []
        later: list[Member] = []
        written: set[str] = set()
        size = 0
        for member in group:
            member.claims, member.staged = MemberClaims(claims), StagedBatch()
            try:
                member.plan = member.context.run(member.build, member.claims)
                member.placed = [placed(write) for write in member.plan.writes.ops]
                for write in member.placed:
                    add_to(member.staged, write)
                for hook in member.before_commit:
                    member.context.run(hook, member.staged, member.plan.result)
            except Exception as error:  # the use case's own refusal: its caller's, not its neighbours'
                member.claims.give_back()
                lane.settle(member, error)
                continue
            writes = len(member.staged.writes) + len(member.claims.claimed) + 2 * len(member.plan.events)
            if built and (member.staged.paths() & written or size + writes > MAX_GROUP_WRITES):
                member.claims.give_back()
                later.append(member)
                continue
            built.append(member)
            written |= member.staged.paths()
            size += writes
            member.entries = []
            for event in member.plan.events:
                seq += 1
                entry = make_entry(
                    store_id=store_id,
                    seq=seq,
                    event=event,
                    at=rfc3339(member.plan.at),
                    actor=member.plan.actor,
                    prev_hash=prev_hash,
                )
                prev_hash = entry["hash"]
                member.entries.append(entry)
        lane.put_back(later)
        return built

    def _add_group(self, batch: Batch, store_id: str, group: list[Member]) -> None:
        for member in group:
            member.staged.copy_to(batch)
            for counter, (n, ref) in member.claims.claimed.items():
                batch.create(
                    counter_path(store_id, counter, n),
                    {"scope": counter.scope, "n": n, "ref": ref, "at": member.plan.at},
                )
            for entry in member.entries:
                seq = entry["seq"]
                batch.create(journal_path(store_id, seq), entry)
                batch.create(outbox_path(store_id, seq), {"store_id": store_id, "seq": seq, "at": member.plan.at})

    def _retried_after(
        self, store_id: str, conflict: Conflict, group: list[Member], lane: Lane, attempt: int, in_turn: bool
    ) -> list[Member]:
        """The members to build again after the group's batch failed: all of them, but one whose own
        record exists (it happened before: AlreadyWritten) or whose request's answer was taken over."""
        if conflict.kind == "changed":
            changed = self._changed_since_read(group)
            for member, path in changed:
                if path in paths(member.placed, "update"):
                    log.info("store %s: %s changed since it was read (attempt %d)", store_id, path, attempt)
                else:  # beside the plan: an idempotency lease taken over
                    lane.settle(member, conflict)
            if not changed:  # a precondition nobody's read explains: refused, as a lone commit would be
                for member in group:
                    lane.settle(member, conflict)
            return [member for member in group if not member.settled.is_set()]
        owner = next((member for member in group if conflict.path in member.staged.paths()), None)
        if owner is not None:
            if conflict.path in paths(owner.placed, "sequenced"):
                log.info("store %s: a ledger moved on since it was read (attempt %d)", store_id, attempt)
            else:
                lane.settle(owner, AlreadyWritten(conflict.path))
            return [member for member in group if not member.settled.is_set()]
        log.info("store %s: numbers taken by another instance (attempt %d): %s", store_id, attempt, conflict)
        if not in_turn:
            self._turns.race_lost(store_id)
        self._learn_heads_afresh(store_id)
        return group

    def _changed_since_read(self, group: list[Member]) -> list[tuple[Member, str]]:
        """The members' guarded writes whose document is no longer the version they were planned on."""
        guarded = [(member, write) for member in group for write in member.staged.guarded()]
        now = self._docs.get_all([write.path for _, write in guarded])
        return [
            (member, write.path)
            for doc, (member, write) in zip(now, guarded, strict=True)
            if doc is None or (write.version is not None and doc.version != write.version)
        ]

    def journal_head(self, store_id: str) -> tuple[int, str]:
        head = self._journal_heads.get(store_id)
        if head is None:
            head = self._journal.head(store_id)
            while store_id not in self._archive_checked and self._archived_beyond(store_id, head[0]):
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
            self._archive_checked.add(store_id)
            self._journal_heads[store_id] = head
        return head

    def _archived_beyond(self, store_id: str, seq: int) -> bool:
        """Checked once when this instance first learns a store's head (a head learnt again after
        another instance appended is beyond the one checked): one object lookup. If the
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
            self._archive_checked.discard(store_id)

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

    def _remember_heads(self, store_id: str, group: list[Member]) -> None:
        entries = [entry for member in group for entry in member.entries]
        if entries:
            self._journal_heads[store_id] = (entries[-1]["seq"], entries[-1]["hash"])
        for member in group:
            for counter, (n, _) in member.claims.claimed.items():
                self._counter_heads[(store_id, counter)] = n

    def _heads_after(self, store_id: str, group: list[Member]) -> Heads:
        """The heads once `group` is committed: what the turn hands on."""
        entries = [entry for member in group for entry in member.entries]
        journal = (entries[-1]["seq"], entries[-1]["hash"]) if entries else self.journal_head(store_id)
        counters = {key[1]: n for key, n in self._counter_heads.items() if key[0] == store_id}
        for member in group:
            counters.update({counter: n for counter, (n, _) in member.claims.claimed.items()})
        return Heads(journal, counters)

    def _adopt_heads(self, store_id: str, heads: Heads) -> None:
        """The heads the last turn left, where they are ahead of those this instance knows (numbers only
        grow: the higher of two heads is the newer)."""
        known = self._journal_heads.get(store_id)
        # (a store's first head is learnt from its journal, and checked against the archive)
        if known is not None and heads.journal[0] > known[0]:
            self._journal_heads[store_id] = heads.journal
        for counter, n in heads.counters.items():
            key = (store_id, counter)
            self._counter_heads[key] = max(n, self._counter_heads.get(key, 0))

    def _learn_heads_afresh(self, store_id: str) -> None:
        """Every head of the store read again side by side, right before the next attempt: the
        shorter the time from reading the heads to committing, the likelier the next attempt wins."""
        counters = [key[1] for key in self._counter_heads if key[0] == store_id]
        self._forget_heads(store_id)
        reads = [HEAD_READS.submit(self.journal_head, store_id)]
        reads += [HEAD_READS.submit(self.counter_head, store_id, counter) for counter in counters]
        for read in reads:
            read.result()

    def _forget_heads(self, store_id: str) -> None:
        """Drop every cached head of the store: another instance that took one number appended to
        the journal and took the others too, and learning them one conflict at a time would let a busy
        instance take the next ones each time."""
        self._journal_heads.pop(store_id, None)
        for key in [key for key in self._counter_heads if key[0] == store_id]:
            self._counter_heads.pop(key, None)

    def _lane(self, store_id: str) -> Lane:
        with self._guard:
            return self._lanes.setdefault(store_id, Lane())


def counter_path(store_id: str, counter: Counter, n: int) -> str:
    return f"stores/{store_id}/{counter.name}/{counter.scope}-{n:09d}"
