"""Proofs an outsider checks against the signed checkpoints (checkpoints.py): that an entry is in
the tree a checkpoint signs, that a later checkpoint extends an earlier one, and, for a customer,
that each of their order's entries is in the signed books.

A proof is answered from the checkpoint's frontier and the tiles kept beside it (domain/tiles.py):
it reads the checkpoint and one tile per level, never the entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.errors import DomainError, FieldError
from ..domain.journal import canonical_bytes
from ..domain.tlog_proof import format_tlog_proof
from .journal_ports import CheckpointRecord, JournalUnitOfWork
from .order_views import customer_order


def checkpoint_of(uow: JournalUnitOfWork, store_id: str, tree_size: int | None = None) -> CheckpointRecord:
    """The checkpoint at `tree_size`, or the latest: what a proof is given against."""
    if tree_size is None:
        found = uow.journal.latest_checkpoint(store_id)
        if found is None:
            raise DomainError("not_checkpointed", f"No checkpoint of store {store_id} has been signed yet.")
        return found
    found = uow.journal.checkpoint_at(store_id, tree_size)
    if found is None:
        raise DomainError("checkpoint_not_found", f"Store {store_id} has no checkpoint at size {tree_size}.")
    return found


@dataclass(frozen=True)
class EntryProof:
    entry: dict[str, Any]
    leaf_index: int
    tree_size: int
    proof: list[bytes]


def entry_with_proof(uow: JournalUnitOfWork, store_id: str, seq: int, tree_size: int | None) -> EntryProof:
    """Entry `seq` and its inclusion proof in the checkpoint at `tree_size` (or the latest)."""
    checkpoint = checkpoint_of(uow, store_id, tree_size)
    entry = uow.journal.entry(store_id, seq)
    if entry is None:
        raise DomainError("entry_not_found", f"Store {store_id} has no journal entry {seq}.")
    if seq > checkpoint.size:
        raise DomainError(
            "not_checkpointed", f"Entry {seq} is not covered by the checkpoint at size {checkpoint.size}."
        )
    proof = checkpoint.tree(uow.journal).inclusion_proof(seq - 1, checkpoint.size)
    return EntryProof(entry, seq - 1, checkpoint.size, proof)


def consistency(uow: JournalUnitOfWork, store_id: str, old_size: int, new_size: int) -> list[bytes]:
    """The proof that the checkpoint at `new_size` extends the one at `old_size` (both must exist)."""
    if old_size > new_size:
        raise DomainError(
            "validation_failed",
            "`from` must not be larger than `to`.",
            [FieldError("from", f"larger than to ({new_size})")],
        )
    checkpoint_of(uow, store_id, old_size)
    newer = checkpoint_of(uow, store_id, new_size)
    return newer.tree(uow.journal).consistency_proof(old_size, new_size)


@dataclass(frozen=True)
class OrderProof:
    seq: int
    type: str
    proof: str  # C2SP tlog-proof text; its `extra` line carries the entry's RFC 8785 bytes


def order_proofs(uow: JournalUnitOfWork, order_id: str, token: str | None) -> list[OrderProof]:
    """A tlog-proof for each journal entry of the order that the latest checkpoint covers: with
    the merchant's public key, anyone holding it can check the order is in the books."""
    order = customer_order(uow, order_id, token)
    checkpoint = uow.journal.latest_checkpoint(order.store_id)
    covered = sorted(
        (
            entry
            for entry in uow.journal.entries_of_order(order.store_id, order.id)
            if checkpoint and entry["seq"] <= checkpoint.size
        ),
        key=lambda entry: entry["seq"],
    )
    if not covered:
        raise DomainError("not_checkpointed", "No signed checkpoint covers this order's journal entries yet.")
    tree = checkpoint.tree(uow.journal)
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
