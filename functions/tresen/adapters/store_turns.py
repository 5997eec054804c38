"""Turns among the instances that race for one store's numbers.

Each instance commits a store's numbers optimistically (store_writer.py): the create-only document of
the next number is its claim, and the instance that loses learns the heads again and tries again. Two
instances meet there now and then; eight instances with a busy store's requests spread over them meet
on almost every commit, and each race lost costs a whole group's commit, its build and a read of the
heads, while the winner, its heads fresh, wins again.

So an instance that lost a race on a store takes turns there from then on:
- The store's lease (`stores/{store}/turns/lease`) names the instance whose turn it is and until when,
  and the instances that wish for a turn, each with the time of its wish (a field each, so wishes
  written side by side do not overwrite one another).
- Whoever has the turn commits its group and, in the same batch, hands the turn to the longest wish
  not yet served: it marks that wish served in the lease and rings the doorbell of its instance
  (`stores/{store}/turns/{instance}`) with the heads its group left. Each instance listens to its own
  doorbell only, so a turn wakes one listener, and the next group is built without reading the heads.
- A busy instance (its group was not empty) puts its next wish into the same batch, behind everyone
  waiting, so it writes no wish of its own; a turn rung for it once it has nothing left to commit is
  handed on at once from its listener's side.
- Nobody waiting, the lease is left free; the next instance takes it with a write that names the
  lease's version, so that only one does. A wish the holder read too late for finds the lease free
  within `WISH_RECHECKED_S`.

The lease orders the instances, it does not make the numbers correct: the create-only numbers still
do. An instance that has not lost a race commits without a turn (and, if it takes numbers, makes the
turn's holder learn the heads afresh); a turn not handed on within `HOLD_S` (its instance died or
stalls) is taken over by the instance waiting. An instance that has seen nobody else in the store's
turns for `TAKING_TURNS_FOR_S` stops listening and commits as before.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..services.documents import Batch, Conflict, Doc, Documents
from ..services.unit_of_work import Counter

log = logging.getLogger(__name__)
HOLD_S = 2.0  # a turn not handed on by then (its instance died or stalls) is the next waiting one's
TAKING_TURNS_FOR_S = 30.0  # nobody else seen in a store's turns this long: back to racing for it
# a doorbell not rung this long after a wish: the lease is read again (a holder that read it before the wish
# came may have left it free)
WISH_RECHECKED_S = 0.5
WISHES_KEPT_S = 3600.0  # older wishes (of instances long gone) are dropped when a free lease is taken
LEASE_READS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store-turns")


@dataclass(frozen=True)
class Heads:
    """A store's heads as the group that handed the turn on left them."""

    journal: tuple[int, str]
    counters: dict[Counter, int]


@dataclass(frozen=True)
class Turn:
    until: float  # epoch seconds
    heads: Heads | None


@dataclass(frozen=True)
class Lease:
    holder: str | None
    until: float
    wishes: dict[str, float]  # instance → when it wished for a turn (epoch seconds)
    served: dict[str, float]  # instance → the wish of its that was served last
    heads: Heads | None
    version: Any

    def free(self, now: float) -> bool:
        return self.holder is None or self.until <= now

    def pending(self, instance: str) -> bool:
        return self.wishes.get(instance, 0.0) > self.served.get(instance, 0.0)


@dataclass
class TurnView:
    """What this instance knows of a store's turns: its doorbell as last heard."""

    changed: threading.Condition = field(default_factory=threading.Condition)
    bell: Turn | None = None  # the turn last rung
    used_until: float = 0.0  # the end of the last turn this instance had: a bell rung before is old
    others_seen_at: float = field(default_factory=time.monotonic)
    lease_read: Future | None = None  # the lease, read for the turn this instance has
    wish: float | None = None  # the wish this instance's last turn left in the lease
    waiting_threads: int = 0
    stop: Callable[[], None] | None = None


class StoreTurns:
    def __init__(self, docs: Documents, instance: str | None = None):
        self.instance = instance or f"i{uuid.uuid4().hex[:16]}"
        self._docs = docs
        self._guard = threading.Lock()
        self._views: dict[str, TurnView] = {}

    def taking_turns(self, store_id: str) -> bool:
        view = self._views.get(store_id)
        if view is None:
            return False
        if time.monotonic() - view.others_seen_at > TAKING_TURNS_FOR_S:
            self._leave(store_id, view)
            return False
        return True

    def race_lost(self, store_id: str) -> None:
        """From now on this instance takes turns on the store."""
        with self._guard:
            if store_id in self._views:
                return
            view = self._views[store_id] = TurnView()
        log.info("store %s: instance %s takes turns with the others", store_id, self.instance)
        doorbell = doorbell_path(store_id, self.instance)
        view.stop = self._docs.watch(doorbell, lambda doc: self._rung(store_id, view, doc))

    def _leave(self, store_id: str, view: TurnView) -> None:
        with self._guard:
            if self._views.get(store_id) is not view:
                return
            del self._views[store_id]
        log.info("store %s: instance %s races again, nobody else seen in its turns", store_id, self.instance)
        if view.stop is not None:
            view.stop()
        batch = self._docs.batch()
        batch.delete(doorbell_path(store_id, self.instance))
        try:
            batch.commit()
        except Exception as error:  # a doorbell left behind is a few bytes nobody listens to
            log.warning("store %s: could not remove the doorbell of instance %s: %r", store_id, self.instance, error)

    def _rung(self, store_id: str, view: TurnView, doc: Doc | None) -> None:
        if doc is None:
            return
        with view.changed:
            view.bell = Turn(doc.data["until"], heads_from_doc(doc.data))
            view.changed.notify_all()
            if not view.waiting_threads:
                LEASE_READS.submit(self._hand_on_unused, store_id, view)

    def _hand_on_unused(self, store_id: str, view: TurnView) -> None:
        """A turn this instance wished for in its last one, and now has nothing for: the next one's."""
        with view.changed:
            if view.waiting_threads or not self._rung_anew(view):
                return  # a commit came to take it after all
            turn = view.bell
            view.used_until, view.wish, view.lease_read = turn.until, None, None
        try:
            batch = self._docs.batch()
            self.hand_on(batch, store_id, turn.heads, wish_again=False)
            batch.commit()
        except Exception as error:  # the next one takes the turn over when its time is up
            log.warning("store %s: a turn %s did not need was not handed on: %r", store_id, self.instance, error)

    def wait_for_turn(self, store_id: str, deadline: float) -> Turn | None:
        """The turn once it is this instance's (with the heads the last turn left), None if the
        deadline (monotonic) passed first."""
        view = self._views[store_id]
        with view.changed:
            view.waiting_threads += 1
            wish, view.wish = view.wish, None  # a wish the last turn of this instance left in the lease
        try:
            return self._wait(store_id, view, deadline, wish)
        finally:
            with view.changed:
                view.waiting_threads -= 1

    def _wait(self, store_id: str, view: TurnView, deadline: float, wish: float | None) -> Turn | None:
        while time.monotonic() < deadline:
            with view.changed:
                if wish is not None and not self._rung_anew(view):
                    view.changed.wait(min(WISH_RECHECKED_S, deadline - time.monotonic()))
                if self._rung_anew(view):
                    return self._used(store_id, view, view.bell)
            lease = self._lease(store_id, view)
            now = time.time()
            if lease is None or lease.free(now):
                turn = self._take(store_id, lease, wish)
                if turn is not None:
                    return self._used(store_id, view, turn)
            elif lease.holder == self.instance and lease.until > view.used_until:  # its doorbell not heard yet
                return self._used(store_id, view, Turn(lease.until, lease.heads))
            elif wish is None or not lease.pending(self.instance):
                wish = time.time()
                batch = self._docs.batch()
                batch.update(lease_path(store_id), {f"wishes.{self.instance}": wish})
                batch.commit()
        return None

    @staticmethod
    def _rung_anew(view: TurnView) -> bool:
        return view.bell is not None and view.bell.until > max(view.used_until, time.time())

    def _used(self, store_id: str, view: TurnView, turn: Turn) -> Turn:
        """The turn, and the lease read meanwhile: whom to hand it to is asked while the group builds."""
        with view.changed:
            view.used_until = max(view.used_until, turn.until)
        view.lease_read = LEASE_READS.submit(self._lease, store_id, view)
        return turn

    def _lease(self, store_id: str, view: TurnView) -> Lease | None:
        found = self._docs.get(lease_path(store_id))
        lease = lease_from_doc(found) if found is not None else None
        if lease is not None and any(lease.pending(other) for other in lease.wishes if other != self.instance):
            view.others_seen_at = time.monotonic()
        return lease

    def _take(self, store_id: str, lease: Lease | None, wish: float | None) -> Turn | None:
        """The lease taken while it is free (or its holder's time is over), if nobody took it first."""
        now = time.time()
        until = now + HOLD_S
        kept = {} if lease is None else {i: t for i, t in lease.wishes.items() if t > now - WISHES_KEPT_S}
        served = {} if lease is None else {i: t for i, t in lease.served.items() if i in kept}
        if wish is not None:
            served[self.instance] = wish
        data = {"holder": self.instance, "until": until, "wishes": kept, "served": served}
        batch = self._docs.batch()
        if lease is None:
            batch.create(lease_path(store_id), data)
        else:
            batch.update(lease_path(store_id), data, lease.version)
        try:
            batch.commit()
        except Conflict:
            return None
        return Turn(until, lease.heads if lease else None)

    def _waiting(self, lease: Lease | None) -> dict[str, float]:
        """The other instances' wishes not served yet."""
        if lease is None:
            return {}
        return {i: t for i, t in lease.wishes.items() if lease.pending(i) and i != self.instance}

    def hand_on(self, batch: Batch, store_id: str, heads: Heads | None, wish_again: bool) -> None:
        """Puts into `batch` the writes that hand the turn to the longest wish not yet served, or leave
        the lease free; `wish_again` (a busy instance's: its next commits are on their way) puts this
        instance's next wish into the lease with them, so that it need not write one."""
        view = self._views[store_id]
        lease = view.lease_read.result() if view.lease_read is not None else None
        view.lease_read = None
        waiting = self._waiting(lease)
        if not waiting:  # read as the turn began: whoever wished since would find the lease free only later
            waiting = self._waiting(self._lease(store_id, view))
        following = min(waiting, key=waiting.__getitem__) if waiting else None
        until = time.time() + HOLD_S if following else 0.0
        handed: dict[str, Any] = {"until": until} | ({"heads": heads_to_doc(heads)} if heads else {})
        changes: dict[str, Any] = {"holder": following, **handed}
        if following:
            changes[f"served.{following}"] = waiting[following]
            batch.set(doorbell_path(store_id, following), handed)
        if wish_again and following:  # (nobody waiting, the lease is free: taken when needed)
            view.wish = changes[f"wishes.{self.instance}"] = time.time()
        batch.update(lease_path(store_id), changes)


def lease_path(store_id: str) -> str:
    return f"stores/{store_id}/turns/lease"


def doorbell_path(store_id: str, instance: str) -> str:
    return f"stores/{store_id}/turns/{instance}"


def heads_to_doc(heads: Heads) -> dict[str, Any]:
    return {
        "journal": {"seq": heads.journal[0], "hash": heads.journal[1]},
        "counters": [{"name": c.name, "scope": c.scope, "n": n} for c, n in heads.counters.items()],
    }


def heads_from_doc(data: dict[str, Any]) -> Heads | None:
    heads = data.get("heads")
    if not heads:
        return None
    journal = (heads["journal"]["seq"], heads["journal"]["hash"])
    return Heads(journal, {Counter(c["name"], c["scope"]): c["n"] for c in heads["counters"]})


def lease_from_doc(doc: Doc) -> Lease:
    data = doc.data
    return Lease(
        data["holder"],
        data["until"],
        data.get("wishes", {}),
        data.get("served", {}),
        heads_from_doc(data),
        doc.version,
    )
