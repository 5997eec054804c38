"""Turns among the instances racing for one store's numbers (adapters/store_turns.py), on the documents
in memory: the turn goes to the longest wish with the heads the last group left, a dead holder's turn
is taken over, a turn nobody needs goes on, and an instance left alone races again. (Eight processes
taking turns on the emulator: `make bench`, bench/instances.py; one of them killed:
tests/integration/test_instance_killed.py.)"""

from __future__ import annotations

import threading
import time

from test_group_commit import INVOICES, invoice, journal

from tresen.adapters import store_turns
from tresen.adapters.memory_documents import MemoryDocuments
from tresen.adapters.store_turns import Heads, StoreTurns, doorbell_path, lease_path
from tresen.adapters.store_writer import StoreWriter
from tresen.services.unit_of_work import Counter

STORE = "s1"
WAIT_S = 10
PICKUPS = Counter("pickup_numbers", "2026-12-06")


def heads(seq: int) -> Heads:
    return Heads((seq, f"hash-{seq}"), {INVOICES: seq, PICKUPS: seq})


def racing(docs: MemoryDocuments, *names: str) -> list[StoreTurns]:
    """Instances that each lost a race on the store: they take turns on it."""
    instances = [StoreTurns(docs, name) for name in names]
    for instance in instances:
        instance.race_lost(STORE)
    return instances


class Waiting:
    """An instance waiting for its turn on a thread of its own, as a request's commit does."""

    def __init__(self, turns: StoreTurns):
        self.turns, self.turn = turns, None
        self._thread = threading.Thread(target=self._wait)
        self._thread.start()

    def _wait(self) -> None:
        self.turn = self.turns.wait_for_turn(STORE, time.monotonic() + WAIT_S)

    def until_it_wished(self, docs: MemoryDocuments) -> Waiting:
        deadline = time.monotonic() + WAIT_S
        while self.turns.instance not in (docs.get(lease_path(STORE)).data.get("wishes") or {}):
            assert time.monotonic() < deadline, "it never wished for a turn"
            time.sleep(0.001)
        return self

    def got(self):
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), f"{self.turns.instance} never got its turn"
        return self.turn


def hand_on(turns: StoreTurns, seq: int, wish_again: bool = False) -> None:
    batch = turns._docs.batch()
    turns.hand_on(batch, STORE, heads(seq), wish_again)
    batch.commit()


def test_the_turn_goes_to_the_longest_wish_with_the_heads_the_last_group_left():
    docs = MemoryDocuments()
    a, b, c = racing(docs, "ia", "ib", "ic")
    first = a.wait_for_turn(STORE, time.monotonic() + WAIT_S)
    assert first is not None and first.heads is None  # the lease was free: taken, nobody handed heads yet
    b_waits = Waiting(b).until_it_wished(docs)
    c_waits = Waiting(c).until_it_wished(docs)
    hand_on(a, 7)
    assert b_waits.got().heads == heads(7)
    assert docs.get(lease_path(STORE)).data["holder"] == "ib"
    hand_on(b, 9)
    assert c_waits.got().heads == heads(9)
    hand_on(c, 10)
    lease = docs.get(lease_path(STORE)).data
    assert (lease["holder"], lease["until"]) == (None, 0.0)  # nobody waiting: free
    assert lease["served"] == {"ib": lease["wishes"]["ib"], "ic": lease["wishes"]["ic"]}


def test_a_turn_its_holder_never_hands_on_is_taken_over_after_its_time(monkeypatch):
    monkeypatch.setattr(store_turns, "HOLD_S", 0.05)
    docs = MemoryDocuments()
    dead, alive = racing(docs, "idead", "ialive")
    assert dead.wait_for_turn(STORE, time.monotonic() + WAIT_S) is not None  # and then it dies
    started = time.monotonic()
    assert Waiting(alive).got() is not None
    assert time.monotonic() - started >= 0.04
    assert docs.get(lease_path(STORE)).data["holder"] == "ialive"


def test_a_turn_rung_for_an_instance_with_nothing_left_to_commit_goes_on_to_the_next():
    docs = MemoryDocuments()
    a, b, c = racing(docs, "ia", "ib", "ic")
    a.wait_for_turn(STORE, time.monotonic() + WAIT_S)
    b_waits = Waiting(b).until_it_wished(docs)
    hand_on(a, 3, wish_again=True)  # a was busy: it wishes for its next turn as it hands this one on
    b_waits.got()
    c_waits = Waiting(c).until_it_wished(docs)  # after a's wish
    hand_on(b, 4)  # to a, which has nothing waiting for the turn any more: it hands it to c
    assert c_waits.got().heads == heads(4)
    assert docs.get(lease_path(STORE)).data["served"]["ia"] == docs.get(lease_path(STORE)).data["wishes"]["ia"]


def test_an_instance_that_sees_nobody_else_in_the_turns_races_again_and_removes_its_doorbell(monkeypatch):
    docs = MemoryDocuments()
    a, b = racing(docs, "ia", "ib")
    a.wait_for_turn(STORE, time.monotonic() + WAIT_S)
    b_waits = Waiting(b).until_it_wished(docs)
    hand_on(a, 1)  # rings b's doorbell
    b_waits.got()
    hand_on(b, 2)  # nobody waiting: the lease is free
    assert docs.get(doorbell_path(STORE, "ib")) is not None and b.taking_turns(STORE)
    monkeypatch.setattr(store_turns, "TAKING_TURNS_FOR_S", 0.0)
    assert not b.taking_turns(STORE)
    assert docs.get(doorbell_path(STORE, "ib")) is None and b._views == {}  # no longer listening either


def test_two_instances_committing_side_by_side_take_turns_and_stay_gap_free():
    threads_each = 4
    docs = MemoryDocuments()
    mine, theirs = (StoreWriter(docs, on_committed=lambda entries: None) for _ in range(2))
    mine.commit(STORE, invoice("warm"))
    theirs.commit(STORE, invoice("taken"))
    mine.commit(STORE, invoice("lost-once"))  # its cached heads were behind: a race lost
    assert mine._turns.taking_turns(STORE)
    failures: list[BaseException] = []

    def orders(writer: StoreWriter, prefix: str) -> None:
        try:
            for n in range(25):
                writer.commit(STORE, invoice(f"{prefix}-{n}"))
        except BaseException as error:
            failures.append(error)

    threads = [
        threading.Thread(target=orders, args=(writer, f"{name}{t}"))
        for writer, name in ((mine, "m"), (theirs, "t"))
        for t in range(threads_each)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S * 3)
    assert failures == []
    entries = journal(docs)
    assert [seq for seq, _ in entries] == list(range(1, 3 + 2 * threads_each * 25 + 1))
    numbers = sorted(doc.data["n"] for doc in docs.query(f"stores/{STORE}/invoice_numbers"))
    assert numbers == list(range(1, len(entries) + 1))
    assert mine._turns.taking_turns(STORE) and theirs._turns.taking_turns(STORE)



def test_a_wish_the_holder_did_not_read_in_time_finds_the_lease_free_and_takes_it(monkeypatch):
    monkeypatch.setattr(store_turns, "WISH_RECHECKED_S", 0.05)
    docs = MemoryDocuments()
    a, b = racing(docs, "ia", "ib")
    a.wait_for_turn(STORE, time.monotonic() + WAIT_S)
    b_waits = Waiting(b).until_it_wished(docs)
    monkeypatch.setattr(a, "_waiting", lambda lease: {})  # a read the lease before b's wish was in it
    hand_on(a, 5)
    assert docs.get(lease_path(STORE)).data["holder"] is None
    assert b_waits.got().heads == heads(5)  # the heads a left in the lease it freed
    assert docs.get(lease_path(STORE)).data["holder"] == "ib"
