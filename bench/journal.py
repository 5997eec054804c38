"""The verifiable journal: document reads per inclusion proof in a store of a million entries, and
the cost of signing a checkpoint against one Firestore document write.

The million-entry store lives in the in-memory backend (its tiles and checkpoint exactly as
`sign_checkpoint` lays them out, built from synthetic leaf hashes): what is counted is reads, and
they do not depend on where the documents are. Signing runs in this process on the stack's
emulator, one new journal entry per checkpoint (the hourly job's common case), alternating with
document writes so that a busy spell of the machine hits both alike.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace

from bench.client import api_session, place_order
from bench.latency import timed_ms, write_one_document

PROOF_STORE_SIZE = 1_000_000
PROOF_SAMPLES = 200
SIGN_SAMPLES = 60


@dataclass(frozen=True)
class JournalFigures:
    proof_store_size: int
    proof_reads_max: int
    proof_reads_mean: float
    sign_ms: list[float]
    write_ms: list[float]
    sign_only_ms: list[float]  # the Ed25519 signature alone


class CountingDocuments:
    """Counts every document a query or get returns or looks up."""

    def __init__(self, docs):
        self._docs = docs
        self.reads = 0

    def get(self, path):
        self.reads += 1
        return self._docs.get(path)

    def get_all(self, paths):
        self.reads += len(paths)
        return self._docs.get_all(paths)

    def query(self, *args, **kwargs):
        found = self._docs.query(*args, **kwargs)
        self.reads += max(1, len(found))  # Firestore bills a query that finds nothing as one read
        return found

    def batch(self):
        return self._docs.batch()


def million_entry_store(store_id: str):
    """A store of PROOF_STORE_SIZE entries as the checkpoint job leaves it: tiles, checkpoint, entries."""
    from tresen.adapters.journal_store import checkpoint_path, journal_path, record_to_doc, tile_path
    from tresen.adapters.memory_documents import MemoryDocuments
    from tresen.domain.merkle import Frontier, leaf_hash
    from tresen.domain.tiles import grown_tiles
    from tresen.services.checkpoints import edges_after
    from tresen.services.journal_ports import CheckpointRecord

    leaves = [leaf_hash(seq.to_bytes(8, "big")) for seq in range(1, PROOF_STORE_SIZE + 1)]
    tiles = grown_tiles(0, {}, leaves)
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    docs = MemoryDocuments()
    batch = docs.batch()
    for tile, hashes in tiles.items():
        batch.set(tile_path(store_id, tile), {"hashes": b"".join(hashes)})
    record = CheckpointRecord(
        store_id,
        f"tresen/bench/{store_id}",
        frontier.size,
        frontier.root(),
        b"\0" * 4,
        None,
        "",
        tuple(frontier.hashes),
        edges_after(frontier.size, tiles, None),
    )
    batch.set(checkpoint_path(store_id, frontier.size), record_to_doc(record))
    batch.commit()
    return docs, leaves, frontier.root(), journal_path


def measure_proof_reads() -> tuple[int, float]:
    from tresen.adapters.backend import Backend
    from tresen.domain.merkle import verify_inclusion
    from tresen.services.journal_proofs import entry_with_proof

    docs, leaves, root, journal_path = million_entry_store("big")
    seqs = [1, PROOF_STORE_SIZE, *random.Random(7).sample(range(1, PROOF_STORE_SIZE + 1), PROOF_SAMPLES - 2)]
    batch = docs.batch()
    for seq in seqs:
        batch.set(journal_path("big", seq), {"seq": seq})
    batch.commit()
    counting = CountingDocuments(docs)
    backend = Backend(None, counting, None)
    reads = []
    for seq in seqs:
        counting.reads = 0
        proved = entry_with_proof(backend, "big", seq, None)  # the entry, its proof, the latest checkpoint
        reads.append(counting.reads)
        verify_inclusion(leaves[seq - 1], seq - 1, PROOF_STORE_SIZE, proved.proof, root)
    return max(reads), sum(reads) / len(reads)


def measure_signing(api_url: str, db) -> tuple[list[float], list[float], list[float]]:
    from tresen.adapters.archive import MemoryArchive
    from tresen.adapters.backend import Backend
    from tresen.services.checkpoints import SignCheckpoint, sign_checkpoint
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    backend, session = Backend(db, None, MemoryArchive()), api_session()  # the archive is not what is timed
    store_id = f"sign{int(time.time())}"
    seed_store(SeedStore(replace(DEMO_STORE, id=store_id), DEMO_PRODUCTS), backend)
    sign_ms, write_ms, sign_only_ms = [], [], []
    for n in range(SIGN_SAMPLES + 5):
        assert place_order(session, api_url, store_id).status_code == 201
        signed = timed_ms(lambda: sign_checkpoint(SignCheckpoint(store_id), backend))
        written = timed_ms(lambda: write_one_document(db))
        signature = timed_ms(lambda: backend.signer.sign(b"tresen/bench\n1\n" + bytes(44) + b"\n"))
        if n >= 5:  # the first ones warm caches and connections
            sign_ms.append(signed)
            write_ms.append(written)
            sign_only_ms.append(signature)
    backend.archive.drain()
    return sign_ms, write_ms, sign_only_ms


def measure_journal(api_url: str, db) -> JournalFigures:
    reads_max, reads_mean = measure_proof_reads()
    sign_ms, write_ms, sign_only_ms = measure_signing(api_url, db)
    return JournalFigures(PROOF_STORE_SIZE, reads_max, reads_mean, sign_ms, write_ms, sign_only_ms)


def journal_ratios(figures: JournalFigures) -> list:
    from bench.report import Ratio, percentile

    write_p50 = percentile(figures.write_ms, 50)
    return [
        Ratio(
            "proof_reads_vs_limit",
            f"reads per inclusion proof at {figures.proof_store_size:,} entries (vs 4)",
            figures.proof_reads_max,
            4,
            "reads",
            1,
            at_most=True,
        ),
        Ratio(
            "checkpoint_signature_vs_write",
            "checkpoint signature p50 (vs doc write)",
            percentile(figures.sign_only_ms, 50),
            write_p50,
            "ms",
            2,
            at_most=True,
        ),
    ]


def record_journal(figures: JournalFigures) -> None:
    from bench.report import Info, add_to_results, percentile, print_table

    sign_p50, write_p50 = percentile(figures.sign_ms, 50), percentile(figures.write_ms, 50)
    ratios = journal_ratios(figures)
    print_table(
        [
            *ratios,
            Info("sign_checkpoint with 1 new entry p50 (vs doc write)", sign_p50, write_p50, "ms"),
            Info("reads per inclusion proof, mean (vs 4)", figures.proof_reads_mean, 4, "reads"),
        ]
    )
    add_to_results(
        {
            "proof_reads_max": figures.proof_reads_max,
            "proof_reads_mean": round(figures.proof_reads_mean, 3),
            "sign_checkpoint_p50_ms": round(sign_p50, 3),
            "sign_checkpoint_p95_ms": round(percentile(figures.sign_ms, 95), 3),
            "checkpoint_signature_p50_ms": round(percentile(figures.sign_only_ms, 50), 3),
            "checkpoint_write_baseline_p50_ms": round(write_p50, 3),
        },
        ratios,
    )
