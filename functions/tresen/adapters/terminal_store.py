"""Workplaces, card terminals and shifts in the document store.

`stores/{store}/workplaces/{wp}` (with the shift open on it), `stores/{store}/shifts/{shift}` (with
its reconciliation once closed) and `terminals/{terminal}`: top level, because a terminal is named
by its own id where no store is (the sandbox's simulated reader); removed ones are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from ..domain.terminals import (
    BrandTotal,
    CardTotals,
    Mismatch,
    Shift,
    Terminal,
    TerminalCheck,
    TerminalReconciliation,
    Workplace,
)
from ..services.documents import Documents
from .repository import as_aware

TERMINALS = "terminals"


def workplace_path(store_id: str, workplace_id: str) -> str:
    return f"stores/{store_id}/workplaces/{workplace_id}"


def shift_path(store_id: str, shift_id: str) -> str:
    return f"stores/{store_id}/shifts/{shift_id}"


def terminal_path(terminal_id: str) -> str:
    return f"{TERMINALS}/{terminal_id}"


def workplace_to_doc(workplace: Workplace) -> dict[str, Any]:
    return asdict(workplace)


def workplace_from_doc(doc: Mapping[str, Any]) -> Workplace:
    return Workplace(**{**doc, "created_at": as_aware(doc["created_at"])})


def terminal_to_doc(terminal: Terminal) -> dict[str, Any]:
    return asdict(terminal)


def terminal_from_doc(doc: Mapping[str, Any]) -> Terminal:
    check = doc.get("last_check")
    return Terminal(
        **{
            **doc,
            "registered_at": as_aware(doc["registered_at"]),
            "removed_at": as_aware(doc["removed_at"]) if doc.get("removed_at") else None,
            "last_check": TerminalCheck(check["status"], as_aware(check["checked_at"]), check["detail"])
            if check
            else None,
        }
    )


def shift_to_doc(shift: Shift) -> dict[str, Any]:
    return asdict(shift) | {"matched": shift.matched if shift.closed_at else None}


def totals_from(doc: Mapping[str, Any]) -> CardTotals:
    brands = {brand: BrandTotal(**figures) for brand, figures in doc["by_brand"].items()}
    return CardTotals(doc["count"], doc["amount"], brands)


def reconciliation_from(doc: Mapping[str, Any]) -> TerminalReconciliation:
    return TerminalReconciliation(
        doc["terminal_id"],
        totals_from(doc["provider"]),
        totals_from(doc["tresen"]),
        tuple(Mismatch(**mismatch) for mismatch in doc["mismatches"]),
    )


def shift_from_doc(doc: Mapping[str, Any]) -> Shift:
    return Shift(
        id=doc["id"],
        store_id=doc["store_id"],
        workplace_id=doc["workplace_id"],
        opened_at=as_aware(doc["opened_at"]),
        opened_by=doc["opened_by"],
        journal_from=doc["journal_from"],
        closed_at=as_aware(doc["closed_at"]) if doc.get("closed_at") else None,
        closed_by=doc.get("closed_by"),
        terminals=tuple(reconciliation_from(terminal) for terminal in doc.get("terminals") or ()),
    )


class DocumentWorkplaces:
    """services/terminal_ports.py `Workplaces`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str, workplace_id: str) -> tuple[Workplace, Any] | None:
        found = self._docs.get(workplace_path(store_id, workplace_id))
        return (workplace_from_doc(found.data), found.version) if found else None

    def of_store(self, store_id: str) -> list[Workplace]:
        found = self._docs.query(f"stores/{store_id}/workplaces")
        return sorted((workplace_from_doc(doc.data) for doc in found), key=lambda wp: (wp.name, wp.id))


class DocumentTerminals:
    """services/terminal_ports.py `Terminals`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, terminal_id: str) -> tuple[Terminal, Any] | None:
        found = self._docs.get(terminal_path(terminal_id))
        return (terminal_from_doc(found.data), found.version) if found else None

    def at_workplace(self, store_id: str, workplace_id: str) -> list[Terminal]:
        # equality filters only: Firestore serves them from its single-field indexes
        where = [("store_id", "==", store_id), ("workplace_id", "==", workplace_id), ("removed_at", "==", None)]
        found = [terminal_from_doc(doc.data) for doc in self._docs.query(TERMINALS, where=where)]
        return sorted(found, key=lambda terminal: (terminal.registered_at, terminal.id))

    def of_store(self, store_id: str) -> list[Terminal]:
        found = [
            terminal_from_doc(doc.data) for doc in self._docs.query(TERMINALS, where=[("store_id", "==", store_id)])
        ]
        return sorted(found, key=lambda terminal: (terminal.registered_at, terminal.id))


class DocumentShifts:
    """services/terminal_ports.py `Shifts`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str, shift_id: str) -> tuple[Shift, Any] | None:
        found = self._docs.get(shift_path(store_id, shift_id))
        return (shift_from_doc(found.data), found.version) if found else None

    def of_workplace(self, store_id: str, workplace_id: str, limit: int) -> list[Shift]:
        found = self._docs.query(
            f"stores/{store_id}/shifts",
            where=[("workplace_id", "==", workplace_id)],
            order_by=[("opened_at", True)],  # the composite index (workplace_id, opened_at desc)
            limit=limit,
        )
        return [shift_from_doc(doc.data) for doc in found]
