"""The journal's jobs as use cases on the in-memory backend: the sweep archives what the outbox holds,
recover brings back what the database lost, and verify names every store either copy knows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from test_use_cases import order

from tresen.adapters.archive import MemoryArchive
from tresen.adapters.backend import Backend
from tresen.adapters.journal_store import journal_path, signing_key_path
from tresen.adapters.memory_documents import MemoryDocuments
from tresen.adapters.repository import order_path
from tresen.adapters.signers import LocalSigner, key_name, new_key
from tresen.adapters.store_writer import counter_path
from tresen.services.archive_sweep import SweepArchive, Swept, sweep_archive
from tresen.services.checkpoints import SignCheckpoint, sign_checkpoint
from tresen.services.journal_keys import KeysError
from tresen.services.recover import RecoverJournal, Recovery, RecoveryRefused, recover_journal
from tresen.services.seed import DEMO, DEMO_STORE, seed_store
from tresen.services.unit_of_work import INVOICE_NUMBERS, Counter
from tresen.services.verify import VerifyJournals, verify_journals, verify_store

STORE = DEMO_STORE.id
NOW = timedelta(0)


class UnreachableArchive(MemoryArchive):
    """The bucket, unreachable until `up`."""

    def __init__(self):
        super().__init__()
        self.up = False

    def put(self, name: str, data: bytes) -> None:
        if not self.up:
            raise ConnectionError("the archive bucket does not answer")
        super().put(name, data)


@pytest.fixture
def unreachable() -> Backend:
    backend = Backend(None, MemoryDocuments(), UnreachableArchive(), LocalSigner(new_key(key_name("test"))))
    seed_store(DEMO, backend)
    return backend


def test_the_sweep_archives_what_the_outbox_holds_once_the_bucket_answers(unreachable):
    for _ in range(2):
        order(unreachable)
    sign_checkpoint(SignCheckpoint(STORE), unreachable)
    unreachable.archive.drain()
    assert unreachable.archive.store.objects == {}
    behind = verify_store(unreachable, STORE)
    assert (behind.problem, behind.archive_behind) == (
        "seq 1: not archived yet: the archive is behind by 2 (`tresen sweep`)",
        True,
    )

    assert sweep_archive(SweepArchive(NOW), unreachable) == Swept(archived=0, failing=3)  # 2 entries, 1 checkpoint
    unreachable.archive.store.up = True
    assert sweep_archive(SweepArchive(timedelta(minutes=1)), unreachable) == Swept(0, 0)  # still their request's
    assert sweep_archive(SweepArchive(NOW), unreachable) == Swept(archived=3, failing=0)
    assert sorted(unreachable.archive.store.objects) == [
        f"checkpoints/{STORE}/000000000002",
        f"journal/{STORE}/000000000001.json",
        f"journal/{STORE}/000000000002.json",
    ]
    assert unreachable.journal.outbox_due(unreachable.now()) == []
    assert sweep_archive(SweepArchive(NOW), unreachable) == Swept(0, 0)
    assert verify_store(unreachable, STORE).ok


def lose_newest_entries(backend: Backend, count: int) -> None:
    """As a restore from an older backup: the newest entries are gone from the database."""
    head = backend.journal.head(STORE).seq
    batch = backend.docs.batch()
    for seq in range(head - count + 1, head + 1):
        batch.delete(journal_path(STORE, seq))
    batch.commit()
    backend.writer.forget_journal_head(STORE)


def test_recover_restores_the_lost_entries_as_archived_and_lists_what_to_resolve(backend):
    placed = [order(backend, "online") for _ in range(2)]
    backend.archive.drain()
    archived = backend.journal.entries(STORE)
    lost = placed[1]
    batch = backend.docs.batch()
    batch.delete(order_path(lost.id))
    batch.commit()
    lose_newest_entries(backend, 1)

    recovery = recover_journal(RecoverJournal(STORE), backend)
    assert recovery == Recovery([2], [], [f"seq 2 order.placed: order {lost.id} is missing"])
    assert backend.journal.entries(STORE) == archived
    assert recover_journal(RecoverJournal(STORE), backend) == Recovery()  # nothing lost any more


def test_recover_claims_the_invoice_numbers_of_restored_entries_again(backend):
    placed = [order(backend) for _ in range(2)]
    backend.archive.drain()
    year, n = placed[1].invoice_number.rsplit("-", 2)[-2:]
    batch = backend.docs.batch()
    batch.delete(counter_path(STORE, Counter(INVOICE_NUMBERS, year), int(n)))
    batch.commit()
    lose_newest_entries(backend, 1)

    recovery = recover_journal(RecoverJournal(STORE), backend)
    assert (recovery.restored, recovery.invoices_claimed) == ([2], [placed[1].invoice_number])
    assert backend.docs.get(counter_path(STORE, Counter(INVOICE_NUMBERS, year), int(n))).data["ref"] == placed[1].id


def test_recover_refuses_when_the_copies_forked(backend):
    for _ in range(2):
        order(backend)
    backend.archive.drain()
    batch = backend.docs.batch()
    batch.update(journal_path(STORE, 1), {"actor": {"type": "staff"}})
    batch.commit()
    with pytest.raises(RecoveryRefused) as refused:
        recover_journal(RecoverJournal(STORE), backend)
    assert str(refused.value) == "seq 1 differs between Firestore and the archive: the journal forked"


def test_verify_names_every_store_of_the_database_and_of_the_archive(backend):
    order(backend)
    backend.archive.drain()
    backend.archive.store.objects["journal/gone/000000000001.json"] = json.dumps({"seq": 1}).encode()
    verdicts = list(verify_journals(VerifyJournals(), backend))
    assert [(verdict.store_id, verdict.entries, verdict.problem) for verdict in verdicts] == [
        (STORE, 1, None),
        ("gone", 0, "no such store"),
    ]
    [only] = verify_journals(VerifyJournals((STORE,)), backend)
    assert only.summary() == f"{STORE}: 1 entries, 0 checkpoints, ok"


def test_verify_refuses_listed_keys_that_cannot_be_trusted_before_reading_a_journal(backend):
    batch = backend.docs.batch()
    batch.set(signing_key_path(b"\x00\x00\x00\x00"), {"key_id": "00000000", "vkey": "not a key"})
    batch.commit()
    with pytest.raises(KeysError) as refused:
        verify_journals(VerifyJournals(), backend)
    assert str(refused.value).startswith("listed key 00000000: ")
