"""A TSE in memory, for the use-case tests on the in-memory backend: it keeps TSSs, clients and
transactions as fiskaly does — ids chosen by the caller, a finished transaction returned as it was,
a signature counter ascending per TSS — and can be switched off (`down`), or lose an answer, to try
a TSE failure. Its
"signature" is a SHA-384 digest of what it signs: it proves nothing, and says so in its algorithm."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..domain.tse import CANCELLED, FINISHED, TseReceipt, process_data
from ..services.tse_ports import SignedTransaction, TseUnavailable, TssInfo

ALGORITHM = "memory-SHA384"  # not a signature: a digest, for tests only


@dataclass
class MemoryTransaction:
    client_id: str
    number: int
    started: datetime
    signed: SignedTransaction | None = None


@dataclass
class MemoryTse:
    """services/tse_ports.py `TsePort` in memory."""

    down: bool = False
    lose_next_answer: bool = False  # the next finish signs, but its answer is lost on the way back
    tsss: dict[str, TssInfo] = field(default_factory=dict)
    clients: dict[tuple[str, str], str] = field(default_factory=dict)  # (tss, client) → serial number
    transactions: dict[tuple[str, str], MemoryTransaction] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)  # per TSS: signatures made
    signings: int = 0  # how many times a transaction's end was signed, over all TSSs

    def _answering(self) -> None:
        if self.down:
            raise TseUnavailable("the TSE did not answer within 5 s")

    def _count(self, tss_id: str) -> int:
        self.counters[tss_id] = self.counters.get(tss_id, 0) + 1
        return self.counters[tss_id]

    def ensure_tss(self, tss_id: str, admin_pin: str) -> TssInfo:
        self._answering()
        if tss_id not in self.tsss:
            public_key = base64.b64encode(hashlib.sha384(tss_id.encode()).digest()).decode()
            serial = hashlib.sha256(base64.b64decode(public_key)).hexdigest()
            self.tsss[tss_id] = TssInfo(tss_id, serial, public_key, ALGORITHM, "unixTime", "", datetime.now(UTC))
        return self.tsss[tss_id]

    def ensure_client(self, tss_id: str, admin_pin: str, client_id: str, serial_number: str) -> None:
        self._answering()
        self.clients.setdefault((tss_id, client_id), serial_number)

    def start(self, tss_id: str, client_id: str, transaction_id: str) -> None:
        self._answering()
        if (tss_id, transaction_id) not in self.transactions:
            number = sum(1 for tss, _ in self.transactions if tss == tss_id) + 1
            self._count(tss_id)
            self.transactions[tss_id, transaction_id] = MemoryTransaction(client_id, number, datetime.now(UTC))

    def finish(self, tss_id: str, client_id: str, transaction_id: str, receipt: TseReceipt | None) -> SignedTransaction:
        self._answering()
        self.start(tss_id, client_id, transaction_id)
        transaction = self.transactions[tss_id, transaction_id]
        if transaction.signed is None:
            tss = self.tsss[tss_id]
            counter = self._count(tss_id)
            signed_data = f"{transaction.number};{counter};{process_data(receipt) if receipt else ''}".encode()
            self.signings += 1
            transaction.signed = SignedTransaction(
                number=transaction.number,
                state=FINISHED if receipt else CANCELLED,
                signature_counter=counter,
                signature=base64.b64encode(hashlib.sha384(signed_data).digest()).decode(),
                time_start=transaction.started,
                time_end=datetime.now(UTC),
                tss_serial=tss.serial_number,
                client_serial=self.clients[tss_id, client_id],
                public_key=tss.public_key,
                signature_algorithm=ALGORITHM,
                log_time_format="unixTime",
            )
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise TseUnavailable("the TSE's answer was lost")
        return transaction.signed
