"""The register of a store's cash-register system for the tax office (§146a (4) AO): each workplace
(till), each card terminal and the TSE, with serial numbers and the days each was acquired and
decommissioned — what the owner reports through ELSTER within a month of every change."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.terminals import Terminal, Workplace
from ..domain.tse import StoreTse
from .order_ports import catalog_or_404
from .tse_ports import TseUnitOfWork


@dataclass(frozen=True)
class CashRegisterReport:
    store_id: str
    workplaces: tuple[Workplace, ...]
    terminals: tuple[Terminal, ...]  # removed ones too, with the day they went
    tse: StoreTse | None  # None until the store's first sale on site


def cash_register_report(uow: TseUnitOfWork, store_id: str) -> CashRegisterReport:
    catalog_or_404(uow, store_id)
    found = uow.store_tses.read(store_id)
    tse = found[0] if found and found[0].installed else None
    return CashRegisterReport(
        store_id,
        tuple(uow.workplaces.of_store(store_id)),
        tuple(uow.terminals.of_store(store_id)),
        tse,
    )
