"""The closings as the closing use cases read them (adapters/closing_store.py keeps them)."""

from __future__ import annotations

from typing import Protocol

from ..domain.closings import Closing
from .journal_ports import JournalReader
from .unit_of_work import UnitOfWork


class ClosingRecords(Protocol):
    def latest(self, store_id: str) -> Closing | None: ...

    def at(self, store_id: str, z_number: int) -> Closing | None: ...

    def page(self, store_id: str, limit: int, after_z: int) -> tuple[list[Closing], bool]:
        """At most `limit` closings after z number `after_z`, oldest first; and whether more follow."""


class ClosingUnitOfWork(UnitOfWork, Protocol):
    closings: ClosingRecords
    journal: JournalReader
