"""Group commit: the commits of one store that wait in this process go to Firestore together.

While one commit of a store is in flight, the next requests of the same store queue behind it in its
`Lane`. Whoever finds nobody committing becomes the leader: it takes the queue (up to what one batch
holds), builds every member's plan on consecutive numbers, and commits them all in one batch. A busy
store thus costs one round trip, one journal head and one conflict per *group*, not per request — and
the more instances compete for a store, the longer their queues grow while they wait, the larger their
groups, the fewer their round trips (what databases do with group commit, and log sequencers with a
batch of pending entries).

Each member stays a use case of its own: its writes are staged in a `StagedBatch` of its own (so the
store writer knows which member a failed precondition belongs to), its numbers come from its own
`MemberClaims` (taken back if its build fails, so its neighbours' numbers stay gap-free), its exception
is its own caller's.
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..services.documents import Batch
from ..services.unit_of_work import Build, Committed, Counter, Plan

BeforeCommit = Callable[[Batch, Any], None]  # (batch, result) → adds writes to the same batch


@dataclass(frozen=True)
class StagedWrite:
    op: str  # create, set, update, delete, increment
    path: str
    args: tuple[Any, ...]
    version: Any = None
    must_exist: bool = False  # an update: Firestore refuses it for a document that is not there


class StagedBatch(Batch):
    """A member's writes, kept in order until the group's batch takes them: which documents a member
    writes is what tells its neighbours apart and what names the member a conflict belongs to."""

    def __init__(self) -> None:
        self.writes: list[StagedWrite] = []

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        self.writes.append(StagedWrite("create", path, (data,)))

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        self.writes.append(StagedWrite("set", path, (data,)))

    def update(self, path: str, data: Mapping[str, Any], version: Any = None) -> None:
        self.writes.append(StagedWrite("update", path, (data, version), version, must_exist=True))

    def delete(self, path: str, version: Any = None) -> None:
        self.writes.append(StagedWrite("delete", path, (version,), version))

    def increment(self, path: str, field: str, by: int, also: Mapping[str, Any]) -> None:
        self.writes.append(StagedWrite("increment", path, (field, by, also)))

    def commit(self) -> list[Any]:
        raise TypeError("a member's writes are committed with its group")

    def paths(self) -> set[str]:
        return {write.path for write in self.writes}

    def guarded(self) -> list[StagedWrite]:
        """The writes that fail when their document changed (or is gone) since it was read."""
        return [write for write in self.writes if write.version is not None or write.must_exist]

    def copy_to(self, batch: Batch) -> None:
        for write in self.writes:
            getattr(batch, write.op)(write.path, *write.args)


class MemberClaims:
    """One member's numbers, handed out after those of the members built before it in the group."""

    def __init__(self, group: GroupClaims):
        self._group = group
        self.claimed: dict[Counter, tuple[int, str]] = {}

    def next(self, counter: Counter, ref: str) -> int:
        if counter in self.claimed:
            raise ValueError(f"{counter} claimed twice in one commit")
        n = self._group.take(counter)
        self.claimed[counter] = (n, ref)
        return n

    def give_back(self) -> None:
        """The member's build failed or it waits for the next group: its numbers go to the next one."""
        for counter, (n, _) in self.claimed.items():
            self._group.give_back(counter, n)
        self.claimed = {}


class GroupClaims:
    """The next number of each counter for one attempt of a group, from the store's known heads."""

    def __init__(self, head_of: Callable[[Counter], int]):
        self._head_of = head_of
        self.last: dict[Counter, int] = {}  # the highest number taken so far, per counter

    def take(self, counter: Counter) -> int:
        n = (self.last[counter] if counter in self.last else self._head_of(counter)) + 1
        self.last[counter] = n
        return n

    def give_back(self, counter: Counter, n: int) -> None:
        if self.last.get(counter) != n:
            raise ValueError(f"{counter} {n} given back out of order")
        self.last[counter] = n - 1


@dataclass(eq=False)
class Member:
    """One use case's commit, waiting in its store's lane."""

    build: Build
    before_commit: tuple[BeforeCommit, ...]
    # the caller's context (its request, its unit of work): a member is built, and its answer
    # rendered, on whichever thread leads the group, which may be another request's or none
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    plan: Plan | None = None
    placed: list[Any] = field(default_factory=list)  # the plan's writes as documents (records.Placed)
    claims: MemberClaims | None = None
    staged: StagedBatch = field(default_factory=StagedBatch)
    entries: list[dict[str, Any]] = field(default_factory=list)
    outcome: Committed | BaseException | None = None
    settled: threading.Event = field(default_factory=threading.Event)

    def result(self) -> Committed:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        assert self.outcome is not None
        return self.outcome


class Lane:
    """The commits of one store waiting in this process, and whether someone is committing them."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: deque[Member] = deque()
        self._leading = False

    def run(self, member: Member, commit_group: Callable[[Lane], None]) -> Committed:
        """Wait for a leader to commit `member`, or lead: commit groups until it is committed."""
        with self._changed:
            self._waiting.append(member)
            while self._leading and not member.settled.is_set():
                self._changed.wait()
            if not member.settled.is_set():
                self._leading = True
        if not member.settled.is_set():
            try:
                while not member.settled.is_set():
                    commit_group(self)
            finally:
                with self._changed:
                    self._leading = False
                    self._changed.notify_all()
        return member.result()

    def take(self, limit: int) -> list[Member]:
        """Up to `limit` members, longest waiting first."""
        with self._changed:
            return [self._waiting.popleft() for _ in range(min(limit, len(self._waiting)))]

    def put_back(self, members: list[Member]) -> None:
        """Members for the next group (a document their neighbours write too), first in line again."""
        with self._changed:
            self._waiting.extendleft(reversed(members))

    def settle(self, member: Member, outcome: Committed | BaseException) -> None:
        member.outcome = outcome
        with self._changed:
            member.settled.set()
            self._changed.notify_all()
