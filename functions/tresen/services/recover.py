"""`tresen recover`: bring journal entries Firestore lost back from the archive.

After a restore from a backup (or an emulator that crashed), the archive can hold entries beyond
Firestore's journal head; the store then takes no writes (unit_of_work.JournalRecoveryNeeded).
The archive's copy must chain whole from seq 1 and agree with every entry Firestore still has;
then each missing entry is created again in Firestore, exactly as archived, and the invoice
numbers they issued are claimed again so none is issued twice. The business documents those
entries describe (an order, a refund) may be gone or older: they are listed for a person to
resolve, never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.errors import DomainError
from ..domain.journal import canonical_bytes, first_chain_break
from .journal_ports import Entry, JournalUnitOfWork, NumberClaim
from .order_ports import OrderUnitOfWork
from .unit_of_work import INVOICE_NUMBERS, Counter


class RecoveryRefused(RuntimeError):
    """The archive cannot be trusted as it is, or the two copies already forked: a person decides."""


@dataclass(frozen=True)
class RecoverJournal:
    """Restore the store's journal entries that the archive holds and Firestore lost."""

    store_id: str


@dataclass
class Recovery:
    restored: list[int] = field(default_factory=list)
    invoices_claimed: list[str] = field(default_factory=list)
    to_resolve: list[str] = field(default_factory=list)  # one line per business document to look at


def recover_journal(command: RecoverJournal, uow: JournalUnitOfWork) -> Recovery:
    store_id = command.store_id
    archived = [json.loads(raw) for _, raw in sorted(uow.archived.entries(store_id).by_number.items())]
    broken = first_chain_break(archived)
    if broken:
        raise RecoveryRefused(f"the archive's chain breaks at seq {broken[0]}: {broken[1]}")
    live, kept = by_seq(uow.journal.entries(store_id)), by_seq(archived)
    forked = next(
        (seq for seq in sorted(live.keys() & kept.keys()) if canonical_bytes(live[seq]) != canonical_bytes(kept[seq])),
        None,
    )
    if forked is not None:
        raise RecoveryRefused(f"seq {forked} differs between Firestore and the archive: the journal forked")
    recovery = Recovery()
    for seq in sorted(kept.keys() - live.keys()):
        entry = kept[seq]
        invoice = entry["data"].get("invoice_number") if isinstance(entry.get("data"), dict) else None
        if uow.journal_writer.restore_entry(store_id, entry, invoice_claim(entry, invoice) if invoice else None):
            recovery.invoices_claimed.append(invoice)
        recovery.restored.append(seq)
        recovery.to_resolve += lost_documents(uow, store_id, entry)
    return recovery


def by_seq(entries: list[Entry]) -> dict[int, Entry]:
    return {entry["seq"]: entry for entry in entries if isinstance(entry.get("seq"), int)}


def invoice_claim(entry: Entry, invoice: str) -> NumberClaim:
    """The invoice number `…-{year}-{n}` an entry issued, as its counter's claim."""
    year, n = invoice.rsplit("-", 2)[-2:]
    return NumberClaim(Counter(INVOICE_NUMBERS, year), int(n), entry["data"].get("order_id"), entry["at"])


def lost_documents(uow: OrderUnitOfWork, store_id: str, entry: Entry) -> list[str]:
    """The documents an entry speaks of that Firestore no longer has, or has in an older state."""
    data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
    kind, seq = entry.get("type", ""), entry.get("seq")
    found = []
    order_id = data.get("order_id")
    if order_id:
        try:
            order, _ = uow.orders.read_in_store(store_id, order_id)
        except DomainError:
            found.append(f"seq {seq} {kind}: order {order_id} is missing")
        else:
            if order.updated_at < datetime.fromisoformat(entry["at"].replace("Z", "+00:00")):
                found.append(f"seq {seq} {kind}: order {order_id} is older than this entry ({order.status})")
    if kind.startswith("refund.") and data.get("id") and uow.refunds.read(data["id"]) is None:
        found.append(f"seq {seq} {kind}: refund {data['id']} is missing")
    return found
