"""The unit of work on the in-memory storage port: a decision made on a version someone else has
changed since is made again on the fresh one; numbers are claimed gap-free across servers."""

from __future__ import annotations

from datetime import UTC, datetime

from tresen.adapters.memory_documents import MemoryDocuments
from tresen.adapters.store_writer import Counter, Plan, StoreWriter
from tresen.adapters.writes import Writes
from tresen.domain.journal import JournalEvent

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ACTOR = {"type": "system"}


def updating(path: str, fields: dict, version) -> Writes:
    writes = Writes(ACTOR)
    writes.updates[path] = (fields, version)
    return writes


def writer(docs: MemoryDocuments) -> StoreWriter:
    return StoreWriter(docs, on_committed=lambda entries: None)


def test_a_decision_on_a_changed_version_is_made_again_on_the_fresh_one():
    docs = MemoryDocuments()
    seed = docs.batch()
    seed.create("things/t1", {"count": 0})
    seed.commit()
    mine, theirs = writer(docs), writer(docs)
    decisions = []

    def add_one(claims):
        read = docs.get("things/t1")
        decisions.append(read.data["count"])
        if len(decisions) == 1:  # another server changes the thing between our read and our commit
            theirs.commit("s1", lambda c: Plan(None, NOW, ACTOR, [], updating("things/t1", {"count": 10}, None)))
        return Plan(None, NOW, ACTOR, [], updating("things/t1", {"count": read.data["count"] + 1}, read.version))

    mine.commit("s1", add_one)
    assert decisions == [0, 10]
    assert docs.get("things/t1").data == {"count": 11}


def test_two_servers_claim_gap_free_numbers_and_journal_seqs():
    docs = MemoryDocuments()
    servers = [writer(docs), writer(docs)]
    for n in range(6):

        def invoice(claims, n=n):
            number = claims.next(Counter("invoice_numbers", "2026"), f"o{n}")
            return Plan(number, NOW, ACTOR, [JournalEvent("order.paid", {"invoice": number})])

        servers[n % 2].commit("s1", invoice)
    journal = docs.query("stores/s1/journal", order_by=[("seq", False)])
    assert [(e.data["seq"], e.data["data"]["invoice"]) for e in journal] == [(n, n) for n in range(1, 7)]
