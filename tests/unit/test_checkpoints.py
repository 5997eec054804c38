"""Signed checkpoints and proofs on the in-memory backend: signing reads only what is new, every
proof verifies against the signed root, and a proof reads a handful of documents at any size."""

from __future__ import annotations

import pytest
from test_use_cases import order

from tresen.adapters.backend import Backend
from tresen.adapters.journal_store import checkpoint_path, journal_path, record_to_doc, tile_path
from tresen.adapters.memory_documents import MemoryDocuments
from tresen.domain.checkpoint import parse_checkpoint
from tresen.domain.errors import DomainError
from tresen.domain.journal import canonical_bytes
from tresen.domain.merkle import Frontier, leaf_hash, verify_consistency, verify_inclusion
from tresen.domain.signed_note import open_note
from tresen.domain.tiles import grown_tiles
from tresen.services.checkpoints import (
    SignCheckpoint,
    SignGrownCheckpoints,
    edges_after,
    public_keys,
    sign_checkpoint,
    sign_grown,
)
from tresen.services.journal_ports import CheckpointRecord
from tresen.services.journal_proofs import consistency, entry_with_proof
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

STORE = DEMO_STORE.id


def test_a_checkpoint_signs_the_root_of_the_whole_journal(backend):
    for _ in range(3):
        order(backend)
    checkpoint, created = sign_checkpoint(SignCheckpoint(STORE), backend)
    entries = backend.journal.entries(STORE)
    leaves = [leaf_hash(canonical_bytes(entry)) for entry in entries]
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    assert created and checkpoint.size == len(entries) == 3
    opened = open_note(checkpoint.note, [backend.signer.verifier])
    signed = parse_checkpoint(opened.text)
    assert (signed.origin, signed.size, signed.root) == ("tresen/demo-tresen/demo", 3, frontier.root())
    assert checkpoint.key_id == backend.signer.verifier.key_id
    backend.archive.drain()  # the archive copy is written by the archiver's threads, after the commit
    assert backend.archive.store.objects[f"checkpoints/{STORE}/000000000003"] == checkpoint.note.encode()


def test_an_unchanged_journal_is_not_signed_twice(backend):
    order(backend)
    first, _ = sign_checkpoint(SignCheckpoint(STORE), backend)
    again, created = sign_checkpoint(SignCheckpoint(STORE), backend)
    assert (created, again) == (False, first)
    assert [c.size for c in backend.journal.checkpoints(STORE, 10)[0]] == [1]


def test_an_empty_journal_has_nothing_to_sign(backend):
    with pytest.raises(DomainError) as refused:
        sign_checkpoint(SignCheckpoint(STORE), backend)
    assert refused.value.code == "journal_empty"
    with pytest.raises(DomainError) as unknown:
        sign_checkpoint(SignCheckpoint("nowhere"), backend)
    assert unknown.value.code == "store_not_found"


def test_every_entry_proves_into_every_later_checkpoint_and_checkpoints_are_consistent(backend):
    sizes = []
    for batch in (1, 2, 5, 1):
        for _ in range(batch):
            order(backend)
        sizes.append(sign_checkpoint(SignCheckpoint(STORE), backend)[0].size)
    assert sizes == [1, 3, 8, 9]
    roots = {
        size: parse_checkpoint(
            open_note(backend.docs.get(checkpoint_path(STORE, size)).data["note"], [backend.signer.verifier]).text
        ).root
        for size in sizes
    }
    for size in sizes:
        for seq in range(1, size + 1):
            proved = entry_with_proof(backend, STORE, seq, size)
            assert (proved.leaf_index, proved.tree_size) == (seq - 1, size)
            verify_inclusion(leaf_hash(canonical_bytes(proved.entry)), seq - 1, size, proved.proof, roots[size])
    for old, new in zip(sizes, sizes[1:], strict=False):
        verify_consistency(old, new, roots[old], roots[new], consistency(backend, STORE, old, new))


def test_proofs_name_what_is_missing(backend):
    order(backend)
    with pytest.raises(DomainError) as none_yet:
        entry_with_proof(backend, STORE, 1, None)
    assert none_yet.value.code == "not_checkpointed"
    sign_checkpoint(SignCheckpoint(STORE), backend)
    order(backend)
    codes = []
    for seq, size in ((2, None), (1, 2), (7, None), (0, None)):
        with pytest.raises(DomainError) as refused:
            entry_with_proof(backend, STORE, seq, size)
        codes.append(refused.value.code)
    assert codes == ["not_checkpointed", "checkpoint_not_found", "entry_not_found", "entry_not_found"]
    with pytest.raises(DomainError) as backwards:
        consistency(backend, STORE, 2, 1)
    assert backwards.value.code == "validation_failed"


def test_a_new_signing_key_retires_the_old_one_which_stays_listed(backend):
    order(backend)
    sign_checkpoint(SignCheckpoint(STORE), backend)
    rotated = Backend(None, backend.docs, backend.archive.store)
    order(rotated)
    sign_checkpoint(SignCheckpoint(STORE), rotated)
    keys = public_keys(rotated)
    assert [key["vkey"] for key in keys] == [backend.signer.verifier.vkey, rotated.signer.verifier.vkey]
    assert keys[0]["valid_to"] is not None and keys[1]["valid_to"] is None
    assert keys[0]["valid_to"] == keys[1]["valid_from"]


class CountingDocuments(MemoryDocuments):
    def __init__(self):
        super().__init__()
        self.reads = 0

    def get(self, path):
        self.reads += 1
        return super().get(path)

    def get_all(self, paths):
        self.reads += len(paths)
        return super().get_all(paths)

    def query(self, *args, **kwargs):
        self.reads += 1
        return super().query(*args, **kwargs)


def test_a_proof_in_a_large_store_reads_at_most_four_documents():
    """70 000 entries (levels 0, 1 and 2): the checkpoint, the entry and one tile per full level."""
    size = 70_000
    docs = CountingDocuments()
    leaves = [leaf_hash(seq.to_bytes(4, "big")) for seq in range(size)]
    tiles = grown_tiles(0, {}, leaves)
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    batch = docs.batch()
    for tile, hashes in tiles.items():
        batch.set(tile_path(STORE, tile), {"hashes": b"".join(hashes)})
    record = CheckpointRecord(
        STORE, "o", size, frontier.root(), b"1234", None, "", tuple(frontier.hashes), edges_after(size, tiles, None)
    )
    batch.set(checkpoint_path(STORE, size), record_to_doc(record))
    for seq in (1, 33_333, size):
        batch.set(journal_path(STORE, seq), {"seq": seq})
    batch.commit()
    backend = Backend(None, docs, None)
    for seq in (1, 33_333, size):
        docs.reads = 0
        proved = entry_with_proof(backend, STORE, seq, None)
        verify_inclusion(leaves[seq - 1], seq - 1, size, proved.proof, frontier.root())
        assert docs.reads <= 4, (seq, docs.reads)
    assert backend.journal.latest_checkpoint(STORE).size == size


def test_the_hourly_job_signs_only_the_stores_whose_journal_grew(backend):
    from dataclasses import replace

    seed_store(SeedStore(replace(DEMO_STORE, id="quiet"), DEMO_PRODUCTS), backend)  # no entries: nothing to sign
    order(backend)
    assert [(c.store_id, c.size) for c in sign_grown(SignGrownCheckpoints(), backend)] == [(STORE, 1)]
    assert sign_grown(SignGrownCheckpoints(), backend) == []
    order(backend)
    assert [(c.store_id, c.size) for c in sign_grown(SignGrownCheckpoints(), backend)] == [(STORE, 2)]


def test_two_instances_signing_at_once_make_one_checkpoint_per_size(backend):
    import threading

    other = Backend(None, backend.docs, backend.archive.store)
    for _ in range(3):
        order(backend)
    results, start = [], threading.Barrier(2)

    def sign(instance):
        start.wait()
        results.append(sign_checkpoint(SignCheckpoint(STORE), instance))

    threads = [threading.Thread(target=sign, args=(b,)) for b in (backend, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0].note == results[1][0].note
    assert [c.size for c in backend.journal.checkpoints(STORE, 10)[0]] == [3]


def test_an_instance_that_missed_a_later_checkpoint_still_signs_the_right_tree(backend):
    other = Backend(None, backend.docs, backend.archive.store)
    order(backend)
    sign_checkpoint(SignCheckpoint(STORE), backend)  # backend remembers size 1
    for _ in range(300):  # past a full tile, so the other instance writes tiles that then exist
        order(other)
    sign_checkpoint(SignCheckpoint(STORE), other)
    order(other)
    newest, created = sign_checkpoint(SignCheckpoint(STORE), backend)  # starts from size 1 again
    assert (newest.size, created) == (302, True)
    for seq in (1, 256, 257, 302):
        proved = entry_with_proof(backend, STORE, seq, 302)
        verify_inclusion(leaf_hash(canonical_bytes(proved.entry)), seq - 1, 302, proved.proof, newest.root)


def test_a_checkpoint_at_an_exact_size_even_below_the_latest(backend):
    for _ in range(5):
        order(backend)
    sign_checkpoint(SignCheckpoint(STORE), backend)  # 5
    at_three, created = sign_checkpoint(SignCheckpoint(STORE, 3), backend)
    assert (at_three.size, created) == (3, True)
    assert sign_checkpoint(SignCheckpoint(STORE, 3), backend) == (at_three, False)
    assert [c.size for c in backend.journal.checkpoints(STORE, 10)[0]] == [3, 5]
    assert backend.journal.latest_checkpoint(STORE).size == 5
    leaves = [leaf_hash(canonical_bytes(entry)) for entry in backend.journal.entries(STORE)]
    proved = entry_with_proof(backend, STORE, 2, 3)
    verify_inclusion(leaves[1], 1, 3, proved.proof, at_three.root)
    with pytest.raises(DomainError) as beyond:
        sign_checkpoint(SignCheckpoint(STORE, 9), backend)
    assert beyond.value.code == "entry_not_found"
