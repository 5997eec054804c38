"""Signed checkpoints of each store's journal.

A checkpoint commits to the Merkle tree over the store's first `size` journal entries (C2SP
tlog-checkpoint, signed by the `Signer`). Signing one reads only the entries added since the
previous checkpoint: their leaf hashes extend the previous checkpoint's frontier and edge tiles,
and the tiles they complete are kept create-only beside the checkpoint, from which every proof is
answered (journal_proofs.py).

A size is signed at most once: the checkpoint is kept create-only, and a signer that loses the race
answers the checkpoint that won.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..config import settings
from ..domain.checkpoint import Checkpoint
from ..domain.errors import DomainError
from ..domain.journal import canonical_bytes
from ..domain.merkle import Frontier, leaf_hash
from ..domain.signed_note import sign_note
from ..domain.tiles import TileId, edge_tiles, grown_tiles
from .canonical_entries import canonical
from .journal_ports import CheckpointRecord, JournalReader, JournalUnitOfWork
from .ports import Signer

log = logging.getLogger(__name__)
ENTRY_PAGE = 500  # journal entries read at once while signing


def origin(store_id: str) -> str:
    return f"tresen/{settings().project}/{store_id}"


@dataclass(frozen=True)
class SignCheckpoint:
    """Sign the store's journal at its head, or at exactly `size` (a closing's last entry).
    `known`: entries by seq the caller has read already (a closing has), which are not read again."""

    store_id: str
    size: int | None = None
    known: Mapping[int, Mapping[str, Any]] | None = None


def sign_checkpoint(command: SignCheckpoint, uow: JournalUnitOfWork) -> tuple[CheckpointRecord, bool]:
    """(the new checkpoint, True), or (the existing one, False) when that size is signed already or,
    at the head, the journal has not grown since the latest."""
    store_id = command.store_id
    if command.size is not None:
        if existing := uow.journal.checkpoint_at(store_id, command.size):
            return existing, False
        previous = uow.journal.checkpoint_before(store_id, command.size)
    else:
        # The latest checkpoint this process signed or read is a sound start even if another
        # instance signed since: the tree over the same entries is the same, its tiles too.
        previous = uow.latest_checkpoints.get(store_id) or uow.journal.latest_checkpoint(store_id)
    leaves = leaves_to_sign(command, uow.journal, previous)
    if not leaves:
        if previous is None:
            if not uow.journal.has_store(store_id):
                raise DomainError("store_not_found", f"No store {store_id}.")
            raise DomainError("journal_empty", f"Store {store_id} has no journal entries to sign yet.")
        return previous, False
    record, tiles = grown_checkpoint(store_id, previous, leaves, uow.signer, uow.now())
    register_signing_key(uow, record.signed_at)
    if not uow.journal_writer.add_checkpoint(record, tiles):
        log.info("store %s: checkpoint %d was signed concurrently", store_id, record.size)
        existing = uow.journal.checkpoint_at(store_id, record.size)
        uow.latest_checkpoints[store_id] = existing
        return existing, False
    if command.size is None:
        uow.latest_checkpoints[store_id] = record
    uow.archive.submit_checkpoint(store_id, record.size, record.note)
    log.info("store %s: signed checkpoint at size %d", store_id, record.size)
    return record, True


def leaves_to_sign(command: SignCheckpoint, journal: JournalReader, previous: CheckpointRecord | None) -> list[bytes]:
    """The leaf hashes of the entries after `previous`: up to the head, or up to the size asked for,
    all of which must exist."""
    old_size, size = previous.size if previous else 0, command.size
    wanted = range(old_size + 1, size + 1) if size is not None else ()
    if command.known and wanted and all(seq in command.known for seq in wanted):
        return [leaf_hash(canonical_entry(command.known[seq])) for seq in wanted]
    leaves = new_leaf_hashes(journal, command.store_id, old_size, limit=None if size is None else size - old_size)
    if size is not None and len(leaves) < size - old_size:
        raise DomainError(
            "entry_not_found", f"Store {command.store_id} has no journal entry {old_size + len(leaves) + 1}."
        )
    return leaves


def new_leaf_hashes(journal: JournalReader, store_id: str, after_seq: int, limit: int | None = None) -> list[bytes]:
    """Leaf hashes of the entries after `after_seq` (at most `limit`), which must follow it
    without a gap."""
    leaves: list[bytes] = []
    while limit is None or len(leaves) < limit:
        page = journal.entries_after(
            store_id, after_seq + len(leaves), ENTRY_PAGE if limit is None else min(ENTRY_PAGE, limit - len(leaves))
        )
        for entry in page:
            expected = after_seq + len(leaves) + 1
            if entry["seq"] != expected:
                raise RuntimeError(f"store {store_id}: journal seq {expected} is missing; run `tresen verify`")
            leaves.append(leaf_hash(canonical_entry(entry)))
        if len(page) < ENTRY_PAGE:
            return leaves
    return leaves


def canonical_entry(entry: Mapping[str, Any]) -> bytes:
    """An entry's RFC 8785 bytes, through Python's own JSON encoder where the two agree (checked),
    which is many times faster than the pure-Python canonicaliser."""
    return canonical(entry) or canonical_bytes(entry)


def grown_checkpoint(
    store_id: str, previous: CheckpointRecord | None, leaves: list[bytes], signer: Signer, now: datetime
) -> tuple[CheckpointRecord, dict[TileId, list[bytes]]]:
    """The checkpoint over `previous`'s entries and the `leaves` after them, signed; and the tiles
    the leaves complete."""
    old_size = previous.size if previous else 0
    frontier = Frontier(old_size, previous.frontier if previous else ())
    for leaf in leaves:
        frontier.append(leaf)
    tiles = grown_tiles(old_size, dict(previous.edges) if previous else {}, leaves)
    body = Checkpoint(origin(store_id), frontier.size, frontier.root()).body()
    verifier = signer.verifier
    record = CheckpointRecord(
        store_id=store_id,
        origin=origin(store_id),
        size=frontier.size,
        root=frontier.root(),
        key_id=verifier.key_id,
        signed_at=now,
        note=sign_note(body, verifier.name, signer.sign, verifier.key_id),
        frontier=tuple(frontier.hashes),
        edges=edges_after(frontier.size, tiles, previous),
    )
    return record, tiles


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


def register_signing_key(uow: JournalUnitOfWork, now: datetime) -> None:
    """List the signer's key among the public keys (once per process); the keys it replaces are
    retired from now on but stay listed, so their checkpoints still verify."""
    verifier = uow.signer.verifier
    if verifier.key_id in uow.registered_keys:
        return
    uow.journal_writer.list_signing_key(verifier, now)
    uow.registered_keys.add(verifier.key_id)


def public_keys(uow: JournalUnitOfWork) -> list[dict[str, Any]]:
    """Every key checkpoints are signed with, oldest first; this process's own is listed first if
    it is not yet."""
    register_signing_key(uow, uow.now())
    return sorted(uow.journal.signing_keys(), key=lambda key: (key["valid_from"], key["key_id"]))


@dataclass(frozen=True)
class SignGrownCheckpoints:
    """The hourly job: a checkpoint for every store whose journal grew since its latest one."""


def sign_grown(command: SignGrownCheckpoints, uow: JournalUnitOfWork) -> list[CheckpointRecord]:
    """The checkpoints signed, of the stores whose journal grew."""
    return [record for store_id in uow.journal.store_ids() if (record := sign_if_grown(uow, store_id))]


def sign_if_grown(uow: JournalUnitOfWork, store_id: str) -> CheckpointRecord | None:
    """The store's new checkpoint if its journal grew since its latest; None if it did not, or is
    empty. Done twice, the second finds the journal not grown since (or loses the create-only race
    for the same size) and signs nothing."""
    try:
        record, created = sign_checkpoint(SignCheckpoint(store_id), uow)
    except DomainError as nothing:
        if nothing.code != "journal_empty":
            raise
        return None
    return record if created else None
