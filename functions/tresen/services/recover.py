"""`tresen recover`: bring journal entries Firestore lost back from the archive.

After a restore from a backup (or an emulator that crashed), the archive can hold entries beyond
Firestore's journal head; the store then takes no writes (store_writer.JournalRecoveryNeeded).
The archive's copy must chain whole from seq 1 and agree with every entry Firestore still has;
then each missing entry is created again in Firestore, exactly as archived, and the invoice
numbers they issued are claimed again so none is issued twice. The business documents those
entries describe (an order, a refund) may be gone or older: they are listed for a person to
resolve, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .unit_of_work import Counter
from ..adapters.store_writer import counter_path, journal_path
from ..domain.journal import canonical_bytes, first_chain_break
from .documents import Documents
from .verify import archived_entries, by_seq, firestore_entries

INVOICE = "invoice_numbers"


class RecoveryRefused(RuntimeError):
    """The archive cannot be trusted as it is, or the two copies already forked: a person decides."""


@dataclass
class Recovery:
    restored: list[int] = field(default_factory=list)
    invoices_claimed: list[str] = field(default_factory=list)
    to_resolve: list[str] = field(default_factory=list)  # one line per business document to look at


def recover_store(docs: Documents, bucket, store_id: str) -> Recovery:
    archived = archived_entries(bucket, store_id)
    broken = first_chain_break(archived)
    if broken:
        raise RecoveryRefused(f"the archive's chain breaks at seq {broken[0]}: {broken[1]}")
    live, kept = by_seq(firestore_entries(docs, store_id)), by_seq(archived)
    both = sorted(live.keys() & kept.keys())
    forked = next((seq for seq in both if canonical_bytes(live[seq]) != canonical_bytes(kept[seq])), None)
    if forked is not None:
        raise RecoveryRefused(f"seq {forked} differs between Firestore and the archive: the journal forked")
    recovery = Recovery()
    for seq in sorted(kept.keys() - live.keys()):
        entry = kept[seq]
        batch = docs.batch()
        batch.create(journal_path(store_id, seq), entry)
        invoice = entry["data"].get("invoice_number") if isinstance(entry.get("data"), dict) else None
        if invoice and not invoice_claimed(docs, store_id, invoice):
            year, n = invoice.rsplit("-", 2)[-2:]
            batch.create(
                counter_path(store_id, Counter(INVOICE, year), int(n)),
                {"scope": year, "n": int(n), "ref": entry["data"].get("order_id"), "at": entry["at"]},
            )
            recovery.invoices_claimed.append(invoice)
        batch.commit()
        recovery.restored.append(seq)
        recovery.to_resolve += lost_documents(docs, entry)
    return recovery


def invoice_claimed(docs: Documents, store_id: str, invoice: str) -> bool:
    year, n = invoice.rsplit("-", 2)[-2:]
    return docs.get(counter_path(store_id, Counter(INVOICE, year), int(n))) is not None


def lost_documents(docs: Documents, entry: dict) -> list[str]:
    """The documents an entry speaks of that Firestore no longer has, or has in an older state."""
    data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
    kind, seq = entry.get("type", ""), entry.get("seq")
    found = []
    order_id = data.get("order_id")
    if order_id:
        order = docs.get(f"orders/{order_id}")
        if order is None:
            found.append(f"seq {seq} {kind}: order {order_id} is missing")
        elif order.data["updated_at"] < datetime.fromisoformat(entry["at"].replace("Z", "+00:00")):
            found.append(f"seq {seq} {kind}: order {order_id} is older than this entry ({order.data['status']})")
    if kind.startswith("refund.") and data.get("id") and docs.get(f"refunds/{data['id']}") is None:
        found.append(f"seq {seq} {kind}: refund {data['id']} is missing")
    return found
