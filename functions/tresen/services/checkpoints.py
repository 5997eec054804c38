"""Signed checkpoints of each store's journal, and the proofs an outsider checks against them.

A checkpoint commits to the Merkle tree over the store's first `size` journal entries (C2SP
tlog-checkpoint, signed by the `Signer`). Signing one reads only the entries added since the
previous checkpoint: their leaf hashes extend the previous checkpoint's frontier and edge tiles,
and the tiles they complete are written create-only beside the checkpoint. Proofs are answered
from those tiles (domain/tiles.py): an inclusion proof reads the checkpoint and one tile per
level, never the entries.

A size is signed at most once: the checkpoint document is created with a create-only
precondition, and a signer that loses the race answers the checkpoint that won.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters.backend import Backend
from ..adapters.repository import store_path
from ..adapters.store_writer import checkpoint_path, journal_path, signing_key_path
from ..config import settings
from ..domain.checkpoint import Checkpoint
from ..domain.errors import DomainError, FieldError
from ..domain.journal import canonical_bytes
from ..domain.merkle import HASH_SIZE, Frontier, leaf_hash
from ..domain.signed_note import encode_base64, sign_note
from ..domain.tiles import TiledTree, TileId, edge_tiles, grown_tiles
from .documents import Conflict, Documents

log = logging.getLogger(__name__)
ENTRY_PAGE = 500  # journal entries read per query while signing
WRITES_PER_BATCH = 400  # Firestore takes at most 500 writes in one commit


@dataclass(frozen=True)
class CheckpointRecord:
    store_id: str
    origin: str
    size: int
    root: bytes
    key_id: bytes
    signed_at: datetime
    note: str
    frontier: tuple[bytes, ...]
    edges: Mapping[int, tuple[bytes, ...]]  # level → hashes of the partial tile at the right edge

    def tree(self, docs: Documents) -> TiledTree:
        def read_tile(tile: TileId) -> list[bytes]:
            edge = self.edges.get(tile.level)
            if edge is not None and len(edge) == tile.width and tile in edge_tiles(self.size):
                return list(edge)
            found = docs.get(tile_path(self.store_id, tile))
            if found is None:
                raise DomainError("journal_tiles_missing", f"Tile {tile.name} of store {self.store_id} is missing.")
            return split_hashes(found.data["hashes"])

        return TiledTree(self.size, Frontier(self.size, self.frontier), read_tile)


def origin(store_id: str) -> str:
    return f"tresen/{settings().project}/{store_id}"


def tile_path(store_id: str, tile: TileId) -> str:
    return f"stores/{store_id}/tiles/{tile.name}"


def split_hashes(packed: bytes) -> list[bytes]:
    return [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]


def record_from_doc(data: Mapping[str, Any]) -> CheckpointRecord:
    return CheckpointRecord(
        store_id=data["store_id"],
        origin=data["origin"],
        size=data["size"],
        root=data["root"],
        key_id=data["key_id"],
        signed_at=data["signed_at"],
        note=data["note"],
        frontier=tuple(split_hashes(data["frontier"])),
        edges={int(level): tuple(split_hashes(packed)) for level, packed in data["edges"].items()},
    )


def record_to_doc(record: CheckpointRecord) -> dict[str, Any]:
    return {
        "store_id": record.store_id,
        "origin": record.origin,
        "size": record.size,
        "root": record.root,
        "key_id": record.key_id,
        "signed_at": record.signed_at,
        "note": record.note,
        "frontier": b"".join(record.frontier),
        "edges": {str(level): b"".join(hashes) for level, hashes in record.edges.items()},
    }


def latest_checkpoint(docs: Documents, store_id: str) -> CheckpointRecord | None:
    found = docs.query(f"stores/{store_id}/checkpoints", order_by=[("size", True)], limit=1)
    return record_from_doc(found[0].data) if found else None


def checkpoint_at(docs: Documents, store_id: str, size: int) -> CheckpointRecord | None:
    found = docs.get(checkpoint_path(store_id, size)) if size > 0 else None
    return record_from_doc(found.data) if found else None


def checkpoint_before(docs: Documents, store_id: str, size: int) -> CheckpointRecord | None:
    """The largest checkpoint below `size`: where a checkpoint at `size` grows from."""
    found = docs.query(
        f"stores/{store_id}/checkpoints", where=[("size", "<", size)], order_by=[("size", True)], limit=1
    )
    return record_from_doc(found[0].data) if found else None


def list_checkpoints(
    docs: Documents, store_id: str, limit: int, after_size: int = 0
) -> tuple[list[CheckpointRecord], bool]:
    """Oldest first, after `after_size`; and whether more follow."""
    found = docs.query(
        f"stores/{store_id}/checkpoints",
        where=[("size", ">", after_size)],
        order_by=[("size", False)],
        limit=limit + 1,
    )
    return [record_from_doc(doc.data) for doc in found[:limit]], len(found) > limit


def sign_checkpoint(
    backend: Backend, store_id: str, size: int | None = None, known: Mapping[int, Mapping[str, Any]] | None = None
) -> tuple[CheckpointRecord, bool]:
    """A checkpoint at the journal's head, or at exactly `size` (a closing's last entry): (the new
    one, True), or (the existing one, False) when that size is signed already or, at the head,
    the journal has not grown since the latest. `known`: entries by seq the caller has read
    already (a closing has), which are not read again."""
    docs = backend.docs
    if size is not None:
        if existing := checkpoint_at(docs, store_id, size):
            return existing, False
        previous = checkpoint_before(docs, store_id, size)
    else:
        # The latest checkpoint this process signed or read is a sound start even if another
        # instance signed since: the tree over the same entries is the same, its tiles too.
        previous = backend.latest_checkpoints.get(store_id) or latest_checkpoint(docs, store_id)
    old_size = previous.size if previous else 0
    wanted = range(old_size + 1, size + 1) if size is not None else ()
    if known and wanted and all(seq in known for seq in wanted):
        leaves = [leaf_hash(canonical_entry(known[seq])) for seq in wanted]
    else:
        leaves = new_leaf_hashes(docs, store_id, old_size, limit=None if size is None else size - old_size)
    if size is not None and len(leaves) < size - old_size:
        raise DomainError("entry_not_found", f"Store {store_id} has no journal entry {old_size + len(leaves) + 1}.")
    if not leaves:
        if previous is None:
            if docs.get(store_path(store_id)) is None:
                raise DomainError("store_not_found", f"No store {store_id}.")
            raise DomainError("journal_empty", f"Store {store_id} has no journal entries to sign yet.")
        return previous, False
    frontier = Frontier(old_size, previous.frontier if previous else ())
    for leaf in leaves:
        frontier.append(leaf)
    tiles = grown_tiles(old_size, dict(previous.edges) if previous else {}, leaves)
    body = Checkpoint(origin(store_id), frontier.size, frontier.root()).body()
    verifier = backend.signer.verifier
    now = backend.now()
    record = CheckpointRecord(
        store_id=store_id,
        origin=origin(store_id),
        size=frontier.size,
        root=frontier.root(),
        key_id=verifier.key_id,
        signed_at=now,
        note=sign_note(body, verifier.name, backend.signer.sign, verifier.key_id),
        frontier=tuple(frontier.hashes),
        edges=edges_after(frontier.size, tiles, previous),
    )
    register_signing_key(backend, now)
    tile_docs = {tile_path(store_id, tile): {"hashes": b"".join(hashes)} for tile, hashes in tiles.items()}
    try:
        commit_checkpoint(docs, record, tile_docs)
    except Conflict:
        # Another signer got there first: with this very checkpoint, or with some of its tiles
        # (which then hold the same hashes; create_tiles checks).
        if existing := checkpoint_at(docs, store_id, record.size):
            log.info("store %s: checkpoint %d was signed concurrently", store_id, record.size)
            backend.latest_checkpoints[store_id] = existing
            return existing, False
        create_tiles(docs, list(tile_docs.items()))
        commit_checkpoint(docs, record, {})
    if size is None:
        backend.latest_checkpoints[store_id] = record
    backend.archive.submit_checkpoint(store_id, record.size, record.note)
    log.info("store %s: signed checkpoint at size %d", store_id, record.size)
    return record, True


def new_leaf_hashes(docs: Documents, store_id: str, after_seq: int, limit: int | None = None) -> list[bytes]:
    """Leaf hashes of the entries after `after_seq` (at most `limit`), which must follow it
    without a gap."""
    from ..adapters.firestore_client import SCAN_TIMEOUT

    leaves: list[bytes] = []
    while limit is None or len(leaves) < limit:
        page = docs.query(
            f"stores/{store_id}/journal",
            where=[("seq", ">", after_seq + len(leaves))],
            order_by=[("seq", False)],
            limit=ENTRY_PAGE if limit is None else min(ENTRY_PAGE, limit - len(leaves)),
            timeout=SCAN_TIMEOUT,
        )
        for doc in page:
            expected = after_seq + len(leaves) + 1
            if doc.data["seq"] != expected:
                raise RuntimeError(f"store {store_id}: journal seq {expected} is missing; run `tresen verify`")
            leaves.append(leaf_hash(canonical_entry(doc.data)))
        if len(page) < ENTRY_PAGE:
            return leaves
    return leaves


def canonical_entry(entry: Mapping[str, Any]) -> bytes:
    """An entry's RFC 8785 bytes, through Python's own JSON encoder where the two agree (checked),
    which is many times faster than the pure-Python canonicaliser."""
    from .journal_audit import canonical

    return canonical(entry) or canonical_bytes(entry)


def edges_after(
    size: int, grown: Mapping[TileId, list[bytes]], previous: CheckpointRecord | None
) -> dict[int, tuple[bytes, ...]]:
    """The partial tile at each level's right edge for the grown tree: a new one, or the previous
    checkpoint's where that level did not grow."""
    edges = {}
    for tile in edge_tiles(size):
        hashes = grown.get(tile) or (previous.edges.get(tile.level) if previous else None)
        if hashes is None or len(hashes) != tile.width:
            raise RuntimeError(f"edge tile {tile.name} is neither new nor the previous checkpoint's")
        edges[tile.level] = tuple(hashes)
    return edges


def commit_checkpoint(docs: Documents, record: CheckpointRecord, tile_docs: dict[str, dict]) -> None:
    """Tiles first (a checkpoint never names tiles that are not there), then the checkpoint with
    its archive outbox marker. Tiles are create-only; one written already by a concurrent signer
    holds the same hashes, which is checked."""
    from ..adapters.archive import checkpoint_outbox_path

    items = list(tile_docs.items())
    while len(items) > WRITES_PER_BATCH - 2:
        create_tiles(docs, items[:WRITES_PER_BATCH])
        items = items[WRITES_PER_BATCH:]
    batch = docs.batch()
    for path, data in items:
        batch.create(path, data)
    batch.create(checkpoint_path(record.store_id, record.size), record_to_doc(record))
    batch.create(
        checkpoint_outbox_path(record.store_id, record.size),
        {"store_id": record.store_id, "checkpoint": record.size, "at": record.signed_at},
    )
    batch.commit()


def create_tiles(docs: Documents, items: list[tuple[str, dict]]) -> None:
    batch = docs.batch()
    for path, data in items:
        batch.create(path, data)
    try:
        batch.commit()
    except Conflict:
        for path, data in items:
            existing = docs.get(path)
            if existing is None:
                single = docs.batch()
                single.create(path, data)
                single.commit()
            elif existing.data["hashes"] != data["hashes"]:
                raise RuntimeError(f"{path} holds other hashes than this journal gives: run `tresen verify`") from None


def register_signing_key(backend: Backend, now: datetime) -> None:
    """List the signer's key among the public keys (once per process); the keys it replaces are
    retired from now on but stay listed, so their checkpoints still verify."""
    verifier = backend.signer.verifier
    if verifier.key_id in backend.registered_keys:
        return
    docs = backend.docs
    if docs.get(signing_key_path(verifier.key_id)) is None:
        batch = docs.batch()
        batch.set(
            signing_key_path(verifier.key_id),
            {
                "key_id": verifier.key_id.hex(),
                "name": verifier.name,
                "vkey": verifier.vkey,
                "public_key": encode_base64(verifier.public_key),
                "valid_from": now,
                "valid_to": None,
            },
        )
        for key in docs.query("journal_keys", where=[("valid_to", "==", None)]):
            if key.data["key_id"] != verifier.key_id.hex():
                batch.update(key.path, {"valid_to": now})
        batch.commit()
    backend.registered_keys.add(verifier.key_id)


def public_keys(backend: Backend) -> list[dict[str, Any]]:
    register_signing_key(backend, backend.now())
    keys = [doc.data for doc in backend.docs.query("journal_keys")]
    return sorted(keys, key=lambda key: (key["valid_from"], key["key_id"]))


def checkpoint_for_proof(docs: Documents, store_id: str, tree_size: int | None) -> CheckpointRecord:
    """The checkpoint a proof is given against: the one at `tree_size`, or the latest."""
    if tree_size is None:
        found = latest_checkpoint(docs, store_id)
        if found is None:
            raise DomainError("not_checkpointed", f"No checkpoint of store {store_id} has been signed yet.")
        return found
    found = checkpoint_at(docs, store_id, tree_size)
    if found is None:
        raise DomainError("checkpoint_not_found", f"Store {store_id} has no checkpoint at size {tree_size}.")
    return found


@dataclass(frozen=True)
class EntryProof:
    entry: dict[str, Any]
    leaf_index: int
    tree_size: int
    proof: list[bytes]


def entry_with_proof(backend: Backend, store_id: str, seq: int, tree_size: int | None) -> EntryProof:
    checkpoint = checkpoint_for_proof(backend.docs, store_id, tree_size)
    found = backend.docs.get(journal_path(store_id, seq)) if seq >= 1 else None
    if found is None:
        raise DomainError("entry_not_found", f"Store {store_id} has no journal entry {seq}.")
    if seq > checkpoint.size:
        raise DomainError(
            "not_checkpointed", f"Entry {seq} is not covered by the checkpoint at size {checkpoint.size}."
        )
    proof = checkpoint.tree(backend.docs).inclusion_proof(seq - 1, checkpoint.size)
    return EntryProof(found.data, seq - 1, checkpoint.size, proof)


def consistency(backend: Backend, store_id: str, old_size: int, new_size: int) -> list[bytes]:
    if old_size > new_size:
        raise DomainError(
            "validation_failed",
            "`from` must not be larger than `to`.",
            [FieldError("from", f"larger than to ({new_size})")],
        )
    checkpoint_for_proof(backend.docs, store_id, old_size)
    newer = checkpoint_for_proof(backend.docs, store_id, new_size)
    return newer.tree(backend.docs).consistency_proof(old_size, new_size)


@dataclass(frozen=True)
class OrderProof:
    seq: int
    type: str
    proof: str  # C2SP tlog-proof text; its `extra` line carries the entry's RFC 8785 bytes


def order_proofs(backend: Backend, order_id: str, token: str | None) -> list[OrderProof]:
    """A tlog-proof for each journal entry of the order that the latest checkpoint covers: with
    the merchant's public key, anyone holding it can check the order is in the books."""
    from ..domain.tlog_proof import format_tlog_proof
    from .orders import customer_order

    order = customer_order(backend, order_id, token)
    checkpoint = latest_checkpoint(backend.docs, order.store_id)
    entries = backend.docs.query(f"stores/{order.store_id}/journal", where=[("data.order_id", "==", order.id)])
    covered = sorted(
        (doc.data for doc in entries if checkpoint and doc.data["seq"] <= checkpoint.size),
        key=lambda entry: entry["seq"],
    )
    if not covered:
        raise DomainError("not_checkpointed", "No signed checkpoint covers this order's journal entries yet.")
    tree = checkpoint.tree(backend.docs)
    return [
        OrderProof(
            entry["seq"],
            entry["type"],
            format_tlog_proof(
                entry["seq"] - 1,
                tree.inclusion_proof(entry["seq"] - 1, checkpoint.size),
                checkpoint.note,
                canonical_bytes(entry),
            ),
        )
        for entry in covered
    ]


def sign_grown(backend: Backend) -> list[CheckpointRecord]:
    """The hourly job: a checkpoint for every store whose journal grew since its latest one."""
    from .verify import all_store_ids

    signed = []
    for store_id in all_store_ids(backend.docs):
        try:
            record, created = sign_checkpoint(backend, store_id)
        except DomainError as nothing:
            if nothing.code != "journal_empty":
                raise
            continue
        if created:
            signed.append(record)
    return signed
