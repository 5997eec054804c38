"""What a decision about an existing order amounts to: the pure result every use case that changes
an order returns (payment events, staff transitions, expiry, refunds, corrections)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .journal import JournalEvent
from .money import VatLine
from .orders import Order
from .refunds import ReportedRefund


@dataclass(frozen=True)
class OrderChange:
    order: Order | None  # None: nothing changes (the event or request is journaled, if at all)
    journal: tuple[JournalEvent, ...] = ()
    refund_amount: int = 0  # to pay back through the provider (or at the counter) right after the commit
    refund_reason: str = ""
    refund_vat: tuple[VatLine, ...] = ()  # per rate of the refunded amount, when known
    refund_lines: dict[str, int] = field(default_factory=dict)  # line id → quantity, for refunds by lines
    restock: bool = False  # the refunded lines' units go back to the store's stock (domain/stock.py)
    assign_invoice: bool = False  # the order became paid: it gets the next invoice number now
    # the refund was made at the provider (its dashboard): the money has left already, so nothing is
    # sent and no gift card is credited; the refund is keyed by the provider's id
    provider_refund: ReportedRefund | None = None
