"""The unit of work on the in-memory storage port: a decision made on a version someone else has
changed since is made again on the fresh one; numbers are claimed gap-free across servers."""

from __future__ import annotations

from datetime import UTC, datetime

from tresen.adapters.memory_documents import MemoryDocuments
from tresen.adapters.store_writer import StoreWriter
from tresen.domain.journal import JournalEvent
from tresen.services.unit_of_work import Counter, Plan, Writes

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ACTOR = {"type": "system"}


def updating(key_hash: str, value: int, version) -> Writes:
    """An update guarded by the version read (any record would do: an API key's revocation time)."""
    writes = Writes(ACTOR)
    writes.api_key_revoked(key_hash, value, version)
    return writes


def writer(docs: MemoryDocuments) -> StoreWriter:
    return StoreWriter(docs, on_committed=lambda entries: None)


def test_a_decision_on_a_changed_version_is_made_again_on_the_fresh_one():
    docs = MemoryDocuments()
    seed = docs.batch()
    seed.create("api_keys/k1", {"revoked_at": 0})
    seed.commit()
    mine, theirs = writer(docs), writer(docs)
    decisions = []

    def add_one(claims):
        read = docs.get("api_keys/k1")
        decisions.append(read.data["revoked_at"])
        if len(decisions) == 1:  # another server changes the record between our read and our commit
            theirs.commit("s1", lambda c: Plan(None, NOW, ACTOR, [], updating("k1", 10, None)))
        return Plan(None, NOW, ACTOR, [], updating("k1", read.data["revoked_at"] + 1, read.version))

    mine.commit("s1", add_one)
    assert decisions == [0, 10]
    assert docs.get("api_keys/k1").data == {"revoked_at": 11}


def test_two_servers_claim_gap_free_numbers_and_journal_seqs():
    docs = MemoryDocuments()
    servers = [writer(docs), writer(docs)]
    for n in range(6):

        def invoice(claims, n=n):
            number = claims.next(Counter("invoice_numbers", "2026"), f"o{n}")
            paid = {"order_id": f"o{n}", "invoice_number": f"S-2026-{number:06d}", "amount": 0, "gift_card_amount": 1}
            return Plan(number, NOW, ACTOR, [JournalEvent("order.paid", paid)])

        servers[n % 2].commit("s1", invoice)
    journal = docs.query("stores/s1/journal", order_by=[("seq", False)])
    assert [(e.data["seq"], e.data["data"]["invoice_number"]) for e in journal] == [
        (n, f"S-2026-{n:06d}") for n in range(1, 7)
    ]
