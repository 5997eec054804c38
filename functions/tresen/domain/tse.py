"""The technical security system (TSE, KassenSichV): what a sale taken on site is signed with.

A sale paid at the counter (`on_site`) or by card at a terminal (`card_present`) is a transaction of
the store's TSE: started when the order is placed, finished with its amounts per VAT rate and per
payment type when it is paid — or canceled. The TSE answers with its signature and counter, which
the order, its receipt and the journal carry; the receipt shows them as the DSFinV-K "V0" QR code.
Online sales need none (§146a AO concerns the till). A TSE that cannot be reached never stops a
sale: the sale is marked `failed` (a TSE failure, "Ausfall") and finished when it is back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .orders import Order

SIGNED_METHODS = ("on_site", "card_present")  # the sales a TSE signs
# fiskaly SIGN DE's VAT categories (DSFinV-K's USt-Schlüssel 1–5 in this order)
VAT_CATEGORIES = {"19": "NORMAL", "7": "REDUCED_1", "10.7": "SPECIAL_RATE_1", "5.5": "SPECIAL_RATE_2", "0": "NULL"}
PAYMENT_TYPES = {"on_site": "CASH", "card_present": "NON_CASH"}
PROCESS_TYPE = "Kassenbeleg-V1"
FINISHED, CANCELLED = "FINISHED", "CANCELLED"
# tse_status of an order: `pending` until its transaction is finished, `signed` once the TSE signed
# its end, `failed` while the TSE could not be reached (the job finishes it)
PENDING, SIGNED, FAILED = "pending", "signed", "failed"
TRANSACTION_IDS = uuid.UUID("5d3b2f7e-8c1a-4c59-9a53-2f0e4b6c7d10")  # namespace of the transactions' ids


@dataclass(frozen=True)
class TseReceipt:
    """What a finished transaction records of the sale: gross amounts per VAT category and per
    payment type, in cents (a canceled sale records none)."""

    amounts_per_vat_rate: tuple[tuple[str, int], ...]  # (NORMAL | REDUCED_1 | …, cents)
    amounts_per_payment_type: tuple[tuple[str, int], ...]  # (CASH | NON_CASH, cents)


@dataclass(frozen=True)
class TseTransaction:
    """A transaction as the TSE finished it: the data the receipt, the order and the journal carry."""

    tss_serial: str
    client_id: str  # the TSE client's serial number: the till it was recorded at
    transaction_number: int
    signature_counter: int
    start: datetime
    end: datetime
    signature: str  # base64
    signature_algorithm: str  # e.g. ecdsa-plain-SHA384
    log_time_format: str  # e.g. unixTime
    public_key: str  # base64
    state: str  # FINISHED | CANCELLED
    process_data: str  # the DSFinV-K "Vorgangsdaten" it signed
    qr_code: str  # the DSFinV-K "V0" receipt code


def needs_tse(order: Order) -> bool:
    return order.payment_method in SIGNED_METHODS


def transaction_id(order_id: str) -> str:
    """The TSE transaction's id, ours and derived from the order's: a retry names the same one."""
    return str(uuid.uuid5(TRANSACTION_IDS, order_id))


def receipt_of(order: Order) -> TseReceipt:
    """The sale's gross amounts per VAT category — the goods after discount; a tip and gift cards
    sold bear no VAT (`NULL`) — and per payment type: what the till or the terminal took, and gift
    cards redeemed as `NON_CASH`. Both add up to the order's total."""
    by_category: dict[str, int] = {}
    for line in order.totals.vat:
        category = VAT_CATEGORIES[line.rate]
        by_category[category] = by_category.get(category, 0) + line.gross
    untaxed = order.totals.tip + order.totals.giftcards_sold
    if untaxed:
        by_category["NULL"] = by_category.get("NULL", 0) + untaxed
    by_type: dict[str, int] = {}
    for kind, amount in ((PAYMENT_TYPES[order.payment_method], order.amount_due), ("NON_CASH", order.gift_card_amount)):
        if amount:
            by_type[kind] = by_type.get(kind, 0) + amount
    categories = tuple(
        (category, by_category[category]) for category in VAT_CATEGORIES.values() if category in by_category
    )
    return TseReceipt(categories, tuple(sorted(by_type.items())))


def qr_time(moment: datetime) -> str:
    """A time as the V0 code writes it: UTC, ISO 8601 to the millisecond (`2026-12-06T08:41:02.000Z`)."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}" if cents >= 0 else f"-{euros(-cents)}"


def process_data(receipt: TseReceipt) -> str:
    """DSFinV-K's process data of a Kassenbeleg-V1: `Beleg^` the gross per VAT category (19 %, 7 %,
    10.7 %, 5.5 %, 0 %) joined by `_`, `^` each payment as `amount:Bar` or `amount:Unbar`."""
    gross = dict(receipt.amounts_per_vat_rate)
    amounts = "_".join(euros(gross.get(category, 0)) for category in VAT_CATEGORIES.values())
    kinds = {"CASH": "Bar", "NON_CASH": "Unbar"}
    payments = "_".join(f"{euros(amount)}:{kinds[kind]}" for kind, amount in receipt.amounts_per_payment_type)
    return f"Beleg^{amounts}^{payments}"


def qr_code_v0(
    client_id: str,
    process: str,
    transaction_number: int,
    signature_counter: int,
    start: str,
    end: str,
    signature_algorithm: str,
    log_time_format: str,
    signature: str,
    public_key: str,
) -> str:
    """The DSFinV-K receipt code (Anhang I "V0"): the TSE's data in one line, `;`-separated, that a
    tax auditor scans from the receipt and checks against the TSE's public key."""
    fields = (
        "V0",
        client_id,
        PROCESS_TYPE,
        process,
        str(transaction_number),
        str(signature_counter),
        start,
        end,
        signature_algorithm,
        log_time_format,
        signature,
        public_key,
    )
    return ";".join(fields)


def as_record(transaction: TseTransaction) -> Mapping[str, object]:
    """The transaction as the order and its journal entry keep it (times in RFC 3339, UTC)."""
    return {
        "tss_serial": transaction.tss_serial,
        "client_id": transaction.client_id,
        "transaction_number": transaction.transaction_number,
        "signature_counter": transaction.signature_counter,
        "start": transaction.start.isoformat(),
        "end": transaction.end.isoformat(),
        "signature": transaction.signature,
        "signature_algorithm": transaction.signature_algorithm,
        "log_time_format": transaction.log_time_format,
        "public_key": transaction.public_key,
        "state": transaction.state,
        "process_data": transaction.process_data,
        "qr_code": transaction.qr_code,
    }


@dataclass(frozen=True)
class TseClient:
    """A till registered with the store's TSS."""

    client_id: str
    serial_number: str
    workplace_id: str | None  # None: the store's counter (orders of the ordering page paid there)
    registered_at: datetime


@dataclass(frozen=True)
class StoreTse:
    """The store's TSS: made once, on the first sale that needs it. `admin_pin` is Tresen's secret for
    administering it (registering clients), readable by no client of the database."""

    store_id: str
    tss_id: str
    admin_pin: str
    serial_number: str | None = None  # None until the TSE said it: the TSS is being set up
    public_key: str | None = None
    signature_algorithm: str | None = None
    log_time_format: str | None = None
    certificate: str | None = None
    installed_at: datetime | None = None
    clients: Mapping[str, TseClient] = field(default_factory=dict)

    @property
    def installed(self) -> bool:
        return self.serial_number is not None


def tss_id_of(store_id: str) -> str:
    return str(uuid.uuid5(TRANSACTION_IDS, f"tss:{store_id}"))


def client_of(store_id: str, workplace_id: str | None) -> tuple[str, str]:
    """(the client's id, its serial number) of a till: a workplace, or the store's counter. A TSE's
    client serial is an ASN.1 PrintableString of at most 70 characters: no `_`."""
    till = workplace_id or "counter"
    serial = re.sub(r"[^A-Za-z0-9.-]", "-", f"tresen-{store_id}-{till}")[:70]
    return str(uuid.uuid5(TRANSACTION_IDS, f"client:{store_id}:{till}")), serial
