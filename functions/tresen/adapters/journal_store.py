"""Where the journal store lives in the documents, and reading it (services/journal_ports.py
`JournalReader`): `stores/{store}/journal/{seq}` for each entry, `stores/{store}/checkpoints/{size}`
and `stores/{store}/tiles/{tile}` for the signed checkpoints and their tiles, `journal_keys/{key id}`
for the signing keys, and `archive_outbox/…` for what is committed but not archived yet."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from ..domain.journal import GENESIS_HASH, PLATFORM_JOURNAL
from ..domain.merkle import HASH_SIZE
from ..domain.tiles import TileId
from ..services.documents import Documents
from ..services.journal_ports import CheckpointRecord, Entry, JournalHead, OutboxMarker, StoredCheckpoint
from .firestore_client import SCAN_TIMEOUT
from .repository import store_path

CHECKPOINT_NAME = re.compile(r"[0-9]{12,20}")


def journal_path(store_id: str, seq: int) -> str:
    return f"stores/{store_id}/journal/{seq:012d}"


def journal_collection(store_id: str) -> str:
    return f"stores/{store_id}/journal"


def checkpoint_path(store_id: str, size: int) -> str:
    return f"stores/{store_id}/checkpoints/{size:012d}"


def checkpoint_collection(store_id: str) -> str:
    return f"stores/{store_id}/checkpoints"


def tile_path(store_id: str, tile: TileId) -> str:
    return f"stores/{store_id}/tiles/{tile.name}"


SIGNING_KEYS = "journal_keys"


def signing_key_path(key_id: bytes) -> str:
    return f"{SIGNING_KEYS}/{key_id.hex()}"


OUTBOX = "archive_outbox"


def outbox_path(store_id: str, seq: int) -> str:
    return f"{OUTBOX}/{store_id}:{seq:012d}"


def checkpoint_outbox_path(store_id: str, size: int) -> str:
    return f"{OUTBOX}/{store_id}:checkpoint:{size:012d}"


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


def size_named(name: str) -> int | None:
    """The size a checkpoint's name says (`{size:012d}`, of a document or an archived note), None
    if it is no such name."""
    if not CHECKPOINT_NAME.fullmatch(name):
        return None
    size = int(name)
    return size if name == f"{size:012d}" else None


class JournalRecords:
    """The journal store's reader over the documents."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def head(self, store_id: str) -> JournalHead:
        newest = self._docs.query(journal_collection(store_id), order_by=[("seq", True)], limit=1)
        return JournalHead(newest[0].data["seq"], newest[0].data["hash"]) if newest else JournalHead(0, GENESIS_HASH)

    def entry(self, store_id: str, seq: int) -> Entry | None:
        found = self._docs.get(journal_path(store_id, seq)) if seq >= 1 else None
        return found.data if found else None

    def entries(self, store_id: str) -> list[Entry]:
        found = self._docs.query(journal_collection(store_id), order_by=[("seq", False)], timeout=SCAN_TIMEOUT)
        return [doc.data for doc in found]

    def entries_between(self, store_id: str, first: int, last: int) -> list[Entry]:
        found = self._docs.query(
            journal_collection(store_id),
            where=[("seq", ">=", first), ("seq", "<=", last)],
            order_by=[("seq", False)],
            timeout=SCAN_TIMEOUT,
        )
        return [doc.data for doc in found]

    def entries_after(self, store_id: str, seq: int, limit: int) -> list[Entry]:
        found = self._docs.query(
            journal_collection(store_id),
            where=[("seq", ">", seq)],
            order_by=[("seq", False)],
            limit=limit,
            timeout=SCAN_TIMEOUT,
        )
        return [doc.data for doc in found]

    def entries_of_order(self, store_id: str, order_id: str) -> list[Entry]:
        found = self._docs.query(journal_collection(store_id), where=[("data.order_id", "==", order_id)])
        return [doc.data for doc in found]

    def entries_of_type(self, store_id: str, entry_type: str) -> list[Entry]:
        # sorted here: ordered by seq in the query, it would need a composite index for a rare read
        found = self._docs.query(journal_collection(store_id), where=[("type", "==", entry_type)])
        return sorted((doc.data for doc in found), key=lambda entry: entry["seq"])

    def latest_checkpoint(self, store_id: str) -> CheckpointRecord | None:
        found = self._docs.query(checkpoint_collection(store_id), order_by=[("size", True)], limit=1)
        return record_from_doc(found[0].data) if found else None

    def checkpoint_at(self, store_id: str, size: int) -> CheckpointRecord | None:
        found = self._docs.get(checkpoint_path(store_id, size)) if size > 0 else None
        return record_from_doc(found.data) if found else None

    def checkpoint_before(self, store_id: str, size: int) -> CheckpointRecord | None:
        found = self._docs.query(
            checkpoint_collection(store_id), where=[("size", "<", size)], order_by=[("size", True)], limit=1
        )
        return record_from_doc(found[0].data) if found else None

    def checkpoints(self, store_id: str, limit: int, after_size: int = 0) -> tuple[list[CheckpointRecord], bool]:
        found = self._docs.query(
            checkpoint_collection(store_id),
            where=[("size", ">", after_size)],
            order_by=[("size", False)],
            limit=limit + 1,
        )
        return [record_from_doc(doc.data) for doc in found[:limit]], len(found) > limit

    def stored_checkpoints(self, store_id: str) -> list[StoredCheckpoint]:
        found = self._docs.query(checkpoint_collection(store_id))
        return [StoredCheckpoint(doc.path, size_named(doc.id), doc.data) for doc in found]

    def tile(self, store_id: str, tile: TileId) -> list[bytes] | None:
        found = self._docs.get(tile_path(store_id, tile))
        return split_hashes(found.data["hashes"]) if found else None

    def signing_keys(self) -> list[dict[str, Any]]:
        return [doc.data for doc in self._docs.query(SIGNING_KEYS)]

    def outbox_due(self, at_or_before: datetime) -> list[OutboxMarker]:
        # The whole outbox, filtered here: it holds only what is not archived yet, and a filter on
        # `at` would need its single-field index, a write hot spot at every order's commit
        # (docs/operations.md "Indexes and write hot spots").
        markers = self._docs.query(OUTBOX, timeout=SCAN_TIMEOUT)
        return [
            OutboxMarker(marker.data["store_id"], marker.data.get("seq"), marker.data.get("checkpoint"))
            for marker in markers
            if marker.data.get("at") is not None and marker.data["at"] <= at_or_before  # as the filter was
        ]

    def awaiting_archive(self, store_id: str, seqs: Collection[int]) -> bool:
        return all(self._docs.get_all([outbox_path(store_id, seq) for seq in seqs]))

    def checkpoints_awaiting_archive(self, store_id: str, sizes: Collection[int]) -> bool:
        return all(self._docs.get_all([checkpoint_outbox_path(store_id, size) for size in sizes]))

    def store_ids(self) -> list[str]:
        """Every store's, and the platform's own once it has an entry (its journal has no store document)."""
        stores = {store.id for store in self._docs.query("stores")}
        if self._docs.get(journal_path(PLATFORM_JOURNAL, 1)) is not None:
            stores.add(PLATFORM_JOURNAL)
        return sorted(stores)

    def store_ids_after(self, after: str | None, limit: int) -> list[str]:
        """The next `limit` of `store_ids` in id order after `after` (from the first if None), one
        page of the stores collection read by name only. The platform's journal takes its place in
        the order when it falls inside the page, and costs a read only then."""
        page = self._docs.query(
            "stores",
            order_by=[("__name__", False)],
            start_after={"__name__": after} if after is not None else None,
            limit=limit,
            fields=[],
        )
        ids = [store.id for store in page]
        inside = (after is None or after < PLATFORM_JOURNAL) and (len(ids) < limit or ids[-1] > PLATFORM_JOURNAL)
        if inside and PLATFORM_JOURNAL not in ids and self._docs.get(journal_path(PLATFORM_JOURNAL, 1)) is not None:
            ids = sorted([*ids, PLATFORM_JOURNAL])[:limit]
        return ids

    def has_store(self, store_id: str) -> bool:
        if store_id == PLATFORM_JOURNAL:
            return self._docs.get(journal_path(store_id, 1)) is not None
        return self._docs.get(store_path(store_id)) is not None
