"""Stores and their products, as the domain sees them (no storage concerns)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A business day runs from 05:00 to 05:00 store time, the hour the nightly closing runs: a bar's
# orders at 01:30 still belong to the evening before.
BUSINESS_DAY_STARTS = time(5, 0)


@dataclass(frozen=True)
class ProductOption:
    id: str
    name: str
    price: int


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    price: int
    vat_rate: str | None  # None for gift cards: a multi-purpose voucher bears no VAT when sold
    available: bool
    kind: str = "item"
    options: tuple[ProductOption, ...] = ()
    position: int = 0
    category: str | None = None  # what the menu groups it under ("Kaffee", "Gebäck")
    description: str | None = None
    stock_tracked: bool = False  # sales take its stock (domain/stock.py): at 0 it is sold out by itself
    low_stock_at: int | None = None  # its stock at or below this is low: `stock.low`, once per crossing
    hidden: bool = False  # off the menu and not orderable (DELETE): its orders keep naming it

    def option(self, option_id: str) -> ProductOption | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Store:
    id: str
    name: str
    currency: str
    timezone: str
    invoice_series: str
    payment_methods: tuple[str, ...]
    online_providers: tuple[str, ...]
    fulfilment_types: tuple[str, ...]
    # weekday → list of ("HH:MM", "HH:MM") intervals; None means always open.
    opening_hours: dict[str, list[tuple[str, str]]] | None = None
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    address: tuple[str, ...] = ()  # postal lines, printed on Z-reports, statements and receipts
    # what a receipt names the store by for VAT (§14 (4) UStG): its Steuernummer, its USt-IdNr.
    tax_number: str | None = None
    vat_id: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def is_open(self, moment: datetime) -> bool:
        if self.opening_hours is None:
            return True
        local = self.local(moment)
        clock = local.strftime("%H:%M")
        intervals = self.opening_hours.get(WEEKDAYS[local.weekday()], [])
        return any(start <= clock < end for start, end in intervals)

    def business_day(self, moment: datetime) -> date:
        local = self.local(moment)
        shifted = local - timedelta(hours=BUSINESS_DAY_STARTS.hour, minutes=BUSINESS_DAY_STARTS.minute)
        return shifted.date()
