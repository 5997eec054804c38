"""`tresen verify`: recompute each store's journal chain from Firestore and from the archive.

Both copies must be complete, each must chain from seq 1, and they must be identical entry for
entry. The report names the first seq that is missing, reordered or differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..domain.journal import canonical_bytes, first_chain_break


@dataclass(frozen=True)
class Verdict:
    store_id: str
    entries: int
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def firestore_entries(db, store_id: str) -> list[dict]:
    return [s.to_dict() for s in db.collection(f"stores/{store_id}/journal").order_by("seq").stream()]


def archived_entries(bucket, store_id: str) -> list[dict]:
    blobs = sorted(bucket.list_blobs(prefix=f"journal/{store_id}/"), key=lambda b: b.name)
    return [json.loads(blob.download_as_bytes()) for blob in blobs]


def verify_store(db, bucket, store_id: str) -> Verdict:
    if not db.document(f"stores/{store_id}").get().exists:
        return Verdict(store_id, 0, "no such store")
    live = firestore_entries(db, store_id)
    archived = archived_entries(bucket, store_id)
    for name, entries in (("Firestore", live), ("archive", archived)):
        broken = first_chain_break(entries)
        if broken:
            return Verdict(store_id, len(live), f"{name}: seq {broken[0]}: {broken[1]}")
    for live_entry, archived_entry in zip(live, archived, strict=False):
        if canonical_bytes(live_entry) != canonical_bytes(archived_entry):
            return Verdict(store_id, len(live), f"seq {live_entry['seq']}: Firestore and archive differ")
    if len(live) != len(archived):
        shorter = "archive" if len(archived) < len(live) else "Firestore"
        first_missing = min(len(live), len(archived)) + 1
        return Verdict(store_id, len(live), f"seq {first_missing}: missing from the {shorter}")
    return Verdict(store_id, len(live), None)


def all_store_ids(db) -> list[str]:
    return sorted(ref.id for ref in db.collection("stores").list_documents())
