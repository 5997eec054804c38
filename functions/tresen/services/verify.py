"""`tresen verify`: recompute each store's journal chain from Firestore and from the archive.

Both copies must be complete, each must chain from seq 1, and they must be identical entry for
entry. The report names the first seq that is missing, reordered or differs, and tells an archive
that is merely behind (entries still in the outbox) from one that disagrees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..domain.journal import canonical_bytes, first_chain_break
from .documents import Documents


@dataclass(frozen=True)
class Verdict:
    store_id: str
    entries: int
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def firestore_entries(docs: Documents, store_id: str) -> list[dict]:
    from ..adapters.firestore_client import SCAN_TIMEOUT

    journal = docs.query(f"stores/{store_id}/journal", order_by=[("seq", False)], timeout=SCAN_TIMEOUT)
    return [entry.data for entry in journal]


def archived_entries(bucket, store_id: str) -> list[dict]:
    blobs = sorted(bucket.list_blobs(prefix=f"journal/{store_id}/"), key=lambda b: b.name)
    return [json.loads(blob.download_as_bytes()) for blob in blobs]


def verify_store(docs: Documents, bucket, store_id: str) -> Verdict:
    if docs.get(f"stores/{store_id}") is None:
        return Verdict(store_id, 0, "no such store")
    live = firestore_entries(docs, store_id)
    archived = archived_entries(bucket, store_id)
    findings = []  # (seq, problem): the report names the lowest seq; at a tie, the first found
    for name, entries in (("Firestore", live), ("archive", archived)):
        broken = first_chain_break(entries)
        if broken:
            findings.append((broken[0], f"{name}: seq {broken[0]}: {broken[1]}"))
    live_by_seq, archived_by_seq = by_seq(live), by_seq(archived)
    both = sorted(live_by_seq.keys() & archived_by_seq.keys())
    differing = next(
        (seq for seq in both if canonical_bytes(live_by_seq[seq]) != canonical_bytes(archived_by_seq[seq])), None
    )
    if differing is not None:
        findings.append((differing, f"seq {differing}: Firestore and archive differ"))
    only_archived = sorted(archived_by_seq.keys() - live_by_seq.keys())
    if only_archived:
        first = only_archived[0]
        findings.append((first, f"seq {first}: missing from Firestore, the archive holds it (`tresen recover`)"))
    only_live = sorted(live_by_seq.keys() - archived_by_seq.keys())
    if only_live:
        first = only_live[0]
        if awaiting_archive(docs, store_id, only_live):
            problem = f"seq {first}: not archived yet: the archive is behind by {len(only_live)} (`tresen sweep`)"
        else:
            problem = f"seq {first}: missing from the archive"
        findings.append((first, problem))
    if findings:
        return Verdict(store_id, len(live), min(findings, key=lambda finding: finding[0])[1])
    return Verdict(store_id, len(live), None)


def by_seq(entries: list[dict]) -> dict[int, dict]:
    return {entry["seq"]: entry for entry in entries if isinstance(entry.get("seq"), int)}


def awaiting_archive(docs: Documents, store_id: str, seqs: list[int]) -> bool:
    """Every entry has its outbox marker: written to Firestore, archive write still to come."""
    from ..adapters.store_writer import outbox_path

    return all(docs.get_all([outbox_path(store_id, seq) for seq in seqs]))


def all_store_ids(docs: Documents) -> list[str]:
    return sorted(store.id for store in docs.query("stores"))
