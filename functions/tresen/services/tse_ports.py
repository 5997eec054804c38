"""What the TSE use cases need from a technical security system, as a protocol: fiskaly SIGN DE
(adapters/fiskaly.py), or its local stand-in behind `FISKALY_API_BASE` in dev and tests.

Every call is idempotent by ids Tresen chooses (the TSS's, the client's, the transaction's), so a
retry after a lost answer records nothing twice; every call gives up after a few seconds with
`TseUnavailable`, and the sale goes on without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from .terminal_ports import TerminalUnitOfWork

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from ..domain.tse import StoreTse, TseReceipt


class TseUnavailable(ConnectionError):
    """The TSE did not answer in time, or answered that it cannot sign now: the sale is a TSE
    failure ("Ausfall"), finished later."""


class TseRefused(Exception):
    """The TSE refused what was asked (wrong credentials, a request it does not accept): a fault of
    Tresen's or of its configuration, not an outage. The sale goes on as in a failure, and the error
    is logged for an operator."""


@dataclass(frozen=True)
class TssInfo:
    """A store's TSS as the TSE describes it: what the register for the tax office and the DSFinV-K
    `tse.csv` name."""

    tss_id: str
    serial_number: str  # hex: the SHA-256 of its public key, as TR-03153 defines the serial
    public_key: str  # base64
    signature_algorithm: str  # e.g. ecdsa-plain-SHA384
    log_time_format: str  # e.g. unixTime
    certificate: str  # base64 of the TSE's certificate (PEM body), what DSFinV-K's tse.csv holds
    created_at: datetime


@dataclass(frozen=True)
class SignedTransaction:
    """A transaction as the TSE returns it once finished or canceled."""

    number: int
    state: str  # FINISHED | CANCELLED
    signature_counter: int
    signature: str  # base64
    time_start: datetime
    time_end: datetime
    tss_serial: str
    client_serial: str
    public_key: str
    signature_algorithm: str
    log_time_format: str


class TsePort(Protocol):
    def ensure_tss(self, tss_id: str, admin_pin: str) -> TssInfo:
        """The TSS of this id, created and initialized if it is not yet (its admin PIN set to
        `admin_pin`, kept by Tresen); what it is."""

    def ensure_client(self, tss_id: str, admin_pin: str, client_id: str, serial_number: str) -> None:
        """The client (a till) registered with the TSS, if it is not yet."""

    def start(self, tss_id: str, client_id: str, transaction_id: str) -> None:
        """The transaction started (ACTIVE); started before is fine."""

    def finish(self, tss_id: str, client_id: str, transaction_id: str, receipt: TseReceipt | None) -> SignedTransaction:
        """The transaction finished with the receipt's amounts (`None`: CANCELLED), started first if
        it was not; one finished before is returned as it was, never signed again."""


class StoreTses(Protocol):
    def read(self, store_id: str) -> tuple[StoreTse, Any] | None:
        """The store's TSS record with the version read, or None before its first sale on site."""


class TseUnitOfWork(TerminalUnitOfWork, Protocol):
    tse: TsePort | None  # None: this deployment signs no sales (dev and tests only)
    store_tses: StoreTses
