"""Writing the journal store beside the appends (services/journal_ports.py `JournalWriter`): signed
checkpoints with their tiles, the listed signing keys, and entries restored from the archive.

Every write is create-only where the thing written is numbered (a checkpoint's size, a tile, an
entry's seq, a counter's number): a concurrent writer that got there first has written the same, or
the caller hears of it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..domain.signed_note import Verifier, encode_base64
from ..domain.tiles import TileId
from ..services.documents import Conflict, Documents
from ..services.journal_ports import CheckpointRecord, Entry, NumberClaim
from .journal_store import (
    SIGNING_KEYS,
    checkpoint_outbox_path,
    checkpoint_path,
    journal_path,
    record_to_doc,
    signing_key_path,
    tile_path,
)
from .store_writer import counter_path

WRITES_PER_BATCH = 400  # Firestore takes at most 500 writes in one commit


class JournalWriter:
    def __init__(self, docs: Documents):
        self._docs = docs

    def add_checkpoint(self, record: CheckpointRecord, tiles: Mapping[TileId, list[bytes]]) -> bool:
        tile_docs = [(tile_path(record.store_id, tile), {"hashes": b"".join(hashes)}) for tile, hashes in tiles.items()]
        try:
            self._commit_checkpoint(record, tile_docs)
        except Conflict:
            # Another signer got there first: with this very checkpoint, or with some of its tiles
            # (which then hold the same hashes; _create_tiles checks).
            if self._docs.get(checkpoint_path(record.store_id, record.size)) is not None:
                return False
            self._create_tiles(tile_docs)
            self._commit_checkpoint(record, [])
        return True

    def _commit_checkpoint(self, record: CheckpointRecord, tile_docs: list[tuple[str, dict]]) -> None:
        """Tiles first (a checkpoint never names tiles that are not there), then the checkpoint with
        its archive outbox marker."""
        while len(tile_docs) > WRITES_PER_BATCH - 2:
            self._create_tiles(tile_docs[:WRITES_PER_BATCH])
            tile_docs = tile_docs[WRITES_PER_BATCH:]
        batch = self._docs.batch()
        for path, data in tile_docs:
            batch.create(path, data)
        batch.create(checkpoint_path(record.store_id, record.size), record_to_doc(record))
        batch.create(
            checkpoint_outbox_path(record.store_id, record.size),
            {"store_id": record.store_id, "checkpoint": record.size, "at": record.signed_at},
        )
        batch.commit()

    def _create_tiles(self, tile_docs: list[tuple[str, dict]]) -> None:
        batch = self._docs.batch()
        for path, data in tile_docs:
            batch.create(path, data)
        try:
            batch.commit()
        except Conflict:
            for path, data in tile_docs:
                existing = self._docs.get(path)
                if existing is None:
                    single = self._docs.batch()
                    single.create(path, data)
                    single.commit()
                elif existing.data["hashes"] != data["hashes"]:
                    raise RuntimeError(
                        f"{path} holds other hashes than this journal gives: run `tresen verify`"
                    ) from None

    def list_signing_key(self, verifier: Verifier, now: datetime) -> None:
        if self._docs.get(signing_key_path(verifier.key_id)) is not None:
            return
        batch = self._docs.batch()
        batch.set(signing_key_path(verifier.key_id), listed_key(verifier, now))
        for key in self._docs.query(SIGNING_KEYS, where=[("valid_to", "==", None)]):
            if key.data["key_id"] != verifier.key_id.hex():
                batch.update(key.path, {"valid_to": now})
        batch.commit()

    def restore_entry(self, store_id: str, entry: Entry, claim: NumberClaim | None) -> bool:
        batch = self._docs.batch()
        batch.create(journal_path(store_id, entry["seq"]), entry)
        claimed = claim is not None and self._docs.get(counter_path(store_id, claim.counter, claim.n)) is None
        if claimed:
            batch.create(
                counter_path(store_id, claim.counter, claim.n),
                {"scope": claim.counter.scope, "n": claim.n, "ref": claim.ref, "at": claim.at},
            )
        batch.commit()
        return claimed


def listed_key(verifier: Verifier, now: datetime) -> dict[str, Any]:
    return {
        "key_id": verifier.key_id.hex(),
        "name": verifier.name,
        "vkey": verifier.vkey,
        "public_key": encode_base64(verifier.public_key),
        "valid_from": now,
        "valid_to": None,
    }
