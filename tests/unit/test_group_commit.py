"""Group commit: the commits of one store waiting in a process go to the database in one batch, each
member keeping its own numbers, its own refusal and its own reads."""

from __future__ import annotations

import contextvars
import threading
import time
from datetime import UTC, datetime

import pytest

from tresen.adapters import store_writer
from tresen.adapters.memory_documents import MemoryDocuments
from tresen.adapters.repository import event_path
from tresen.adapters.store_writer import StoreWriter
from tresen.domain.errors import DomainError
from tresen.domain.journal import JournalEvent
from tresen.services.documents import Conflict
from tresen.services.unit_of_work import AlreadyWritten, Counter, Plan, StoreBusy, Writes

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ACTOR = {"type": "system"}
INVOICES = Counter("invoice_numbers", "2026")
WAIT_S = 10


class CountedCommits(MemoryDocuments):
    """Memory documents that count the batches committed."""

    def __init__(self):
        super().__init__()
        self.commits = 0

    def batch(self):
        batch = super().batch()
        commit = batch.commit

        def counted():
            self.commits += 1
            return commit()

        batch.commit = counted
        return batch


def invoice(order_id: str, fail: bool = False):
    """A build that takes an invoice number and journals it; `fail`: refused after taking it."""

    def build(claims):
        n = claims.next(INVOICES, order_id)
        if fail:
            raise DomainError("out_of_stock", f"{order_id}: sold out")
        paid = {"order_id": order_id, "invoice_number": f"S-2026-{n:06d}", "amount": 0, "gift_card_amount": 1}
        return Plan(n, NOW, ACTOR, [JournalEvent("order.paid", paid)])

    return build


def journal(docs: MemoryDocuments, store_id: str = "s1") -> list[tuple[int, str]]:
    entries = docs.query(f"stores/{store_id}/journal", order_by=[("seq", False)])
    return [(entry.data["seq"], entry.data["data"]["order_id"]) for entry in entries]


def queued(writer: StoreWriter, store_id: str, count: int) -> None:
    """Until `count` commits wait behind the one in flight."""
    deadline = time.monotonic() + WAIT_S
    while len(writer._lane(store_id)._waiting) < count:
        assert time.monotonic() < deadline, "the commits never queued"
        time.sleep(0.001)


def commit_behind_a_first(
    writer: StoreWriter, builds: dict[str, object], hooks: dict[str, list] | None = None
) -> dict[str, object]:
    """`first` is committed while the others queue behind it, each with its `hooks` (what a request
    adds to its commit: its answer); what each caller got back (a result, or the exception it raised)."""
    release = threading.Event()
    outcomes: dict[str, object] = {}

    def first(claims):
        release.wait(WAIT_S)
        return invoice("first")(claims)

    def run(name, build):
        try:
            outcomes[name] = writer.commit("s1", build, (hooks or {}).get(name))
        except Exception as error:
            outcomes[name] = error

    threads = [threading.Thread(target=run, args=("first", first))]
    threads[0].start()
    queued(writer, "s1", 0)
    for name, build in builds.items():
        threads.append(threading.Thread(target=run, args=(name, build)))
        threads[-1].start()
    queued(writer, "s1", len(builds))
    release.set()
    for thread in threads:
        thread.join(WAIT_S)
    return outcomes


def test_commits_waiting_behind_one_in_flight_go_in_one_batch_on_consecutive_numbers():
    docs = CountedCommits()
    writer = StoreWriter(docs, on_committed=lambda entries: None)
    outcomes = commit_behind_a_first(writer, {f"o{n}": invoice(f"o{n}") for n in range(1, 6)})
    assert docs.commits == 2  # the first alone, then the five that waited, together
    assert outcomes["first"].result == 1
    assert sorted(outcomes[f"o{n}"].result for n in range(1, 6)) == [2, 3, 4, 5, 6]
    assert len(journal(docs)) == 6 and [seq for seq, _ in journal(docs)] == [1, 2, 3, 4, 5, 6]
    for n in range(1, 6):  # each caller gets its own entry, whose seq matches its own number
        (entry,) = outcomes[f"o{n}"].entries
        assert (entry["data"]["order_id"], entry["seq"]) == (f"o{n}", outcomes[f"o{n}"].result)


def test_a_member_refused_by_its_own_use_case_leaves_its_neighbours_gap_free():
    docs = CountedCommits()
    writer = StoreWriter(docs, on_committed=lambda entries: None)
    builds = {"o1": invoice("o1"), "sold-out": invoice("sold-out", fail=True), "o2": invoice("o2")}
    outcomes = commit_behind_a_first(writer, builds)
    assert isinstance(outcomes["sold-out"], DomainError) and outcomes["sold-out"].code == "out_of_stock"
    assert {outcomes["o1"].result, outcomes["o2"].result} == {2, 3}
    numbers = docs.query("stores/s1/invoice_numbers", order_by=[("n", False)])
    assert [(doc.data["n"], doc.data["ref"]) for doc in numbers][:1] == [(1, "first")]
    assert sorted(doc.data["n"] for doc in numbers) == [1, 2, 3]
    assert docs.commits == 2


def test_a_member_whose_record_exists_gets_already_written_and_only_it():
    docs = CountedCommits()
    seed = docs.batch()
    seed.create(event_path("stripe", "evt_1"), {"provider": "stripe"})
    seed.commit()
    writer = StoreWriter(docs, on_committed=lambda entries: None)

    def create_key(claims):
        writes = Writes(ACTOR)
        writes.event_seen("stripe", "evt_1", {"provider": "stripe"})
        return Plan(None, NOW, ACTOR, [], writes)

    outcomes = commit_behind_a_first(writer, {"o1": invoice("o1"), "again": create_key, "o2": invoice("o2")})
    assert isinstance(outcomes["again"], AlreadyWritten) and outcomes["again"].path == event_path("stripe", "evt_1")
    assert {outcomes["o1"].result, outcomes["o2"].result} == {2, 3}
    assert [seq for seq, _ in journal(docs)] == [1, 2, 3]


def test_two_members_writing_one_document_are_committed_one_after_the_other_on_fresh_reads():
    docs = CountedCommits()
    seed = docs.batch()
    seed.create("api_keys/k1", {"revoked_at": 0})
    seed.commit()
    docs.commits = 0
    writer = StoreWriter(docs, on_committed=lambda entries: None)
    seen = []

    def add_one(claims):
        read = docs.get("api_keys/k1")
        seen.append(read.data["revoked_at"])
        writes = Writes(ACTOR)
        writes.api_key_revoked("k1", read.data["revoked_at"] + 1, read.version)
        return Plan(None, NOW, ACTOR, [], writes)

    outcomes = commit_behind_a_first(writer, {"a": add_one, "b": add_one})
    assert not any(isinstance(outcome, Exception) for outcome in outcomes.values())
    assert docs.get("api_keys/k1").data == {"revoked_at": 2}
    assert seen == [0, 0, 1]  # b planned on what a read, then again on what a wrote
    assert docs.commits == 3


def test_an_instance_that_loses_the_race_again_and_again_answers_store_busy_after_its_time(monkeypatch):
    docs = MemoryDocuments()
    monkeypatch.setattr(store_writer, "BUSY_AFTER_S", 0.05)
    mine, theirs = (StoreWriter(docs, on_committed=lambda entries: None) for _ in range(2))

    def losing(claims):
        # another instance takes the number this attempt is about to claim, every time
        theirs.commit("s1", invoice("theirs"))
        return invoice("mine")(claims)

    with pytest.raises(StoreBusy):
        mine.commit("s1", losing)
    assert all(order_id == "theirs" for _, order_id in journal(docs))
    assert [seq for seq, _ in journal(docs)] == list(range(1, len(journal(docs)) + 1))


def test_a_member_whose_answer_was_taken_over_gets_the_conflict_and_its_neighbours_commit():
    docs = CountedCommits()
    writer = StoreWriter(docs, on_committed=lambda entries: None)

    def answer_taken_over(batch, result):
        batch.update("idempotency/gone", {"status": "done"})  # the request's lease is no longer there

    builds = {"o1": invoice("o1"), "taken-over": invoice("taken-over"), "o2": invoice("o2")}
    outcomes = commit_behind_a_first(writer, builds, {"taken-over": [answer_taken_over]})
    assert isinstance(outcomes["taken-over"], Conflict)
    assert {outcomes["o1"].result, outcomes["o2"].result} == {2, 3}
    assert sorted(order_id for _, order_id in journal(docs)) == ["first", "o1", "o2"]
    assert docs.commits == 3  # the first; the group refused as a whole; the group without it


def test_a_race_lost_to_another_instance_relearns_every_head_and_wins_the_next_attempt():
    docs = MemoryDocuments()
    mine, theirs = (StoreWriter(docs, on_committed=lambda entries: None) for _ in range(2))
    pickups = Counter("pickup_numbers", "2026-12-06")

    def sale(order_id: str, builds: list[str] | None = None):
        def build(claims):
            if builds is not None:
                builds.append(order_id)
            pickup, n = claims.next(pickups, order_id), claims.next(INVOICES, order_id)
            paid = {"order_id": order_id, "invoice_number": f"S-2026-{n:06d}", "amount": 0, "gift_card_amount": 1}
            return Plan((pickup, n), NOW, ACTOR, [JournalEvent("order.paid", paid)])

        return build

    mine.commit("s1", sale("mine-1"))  # my heads are cached from here on
    for n in range(3):
        theirs.commit("s1", sale(f"theirs-{n}"))
    builds: list[str] = []
    assert mine.commit("s1", sale("mine-2", builds)).result == (5, 5)
    assert builds == ["mine-2", "mine-2"]  # one lost race; journal, pickup and invoice heads learnt at once
    assert [seq for seq, _ in journal(docs)] == [1, 2, 3, 4, 5]


CALLER = contextvars.ContextVar("caller")


def test_each_member_is_built_and_answered_in_its_own_callers_context():
    """The group's leader may be another request's thread, or a thread of no request at all: each
    member still sees its own request (what its answer's presenter reads, say)."""
    writer = StoreWriter(CountedCommits(), on_committed=lambda entries: None)
    release, seen = threading.Event(), {}

    def seeing(name: str, wait: bool = False):
        def build(claims):
            if wait:
                release.wait(WAIT_S)
            seen[name] = CALLER.get(None)
            return invoice(name)(claims)

        return build

    def answer(batch, result):
        seen[f"answer {result}"] = CALLER.get(None)

    def caller(name: str, wait: bool = False) -> threading.Thread:
        def run():
            CALLER.set(name)
            writer.commit("s1", seeing(name, wait), [answer])

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    threads = [caller("first", wait=True)]
    queued(writer, "s1", 0)
    threads += [caller(name) for name in ("a", "b")]
    queued(writer, "s1", 2)
    release.set()
    for thread in threads:
        thread.join(WAIT_S)
    assert {name: seen[name] for name in ("first", "a", "b")} == {"first": "first", "a": "a", "b": "b"}
    assert sorted(value for key, value in seen.items() if key.startswith("answer")) == ["a", "b", "first"]
