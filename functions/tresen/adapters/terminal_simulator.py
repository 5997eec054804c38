"""The sandbox's card readers (dev mode): a provider of simulated terminals, kept in the database so
that every API instance sees the same reader.

It behaves as Stripe Terminal does where it matters: one action at a time per reader, a payment
sent to the reader waits there until a card is presented (`POST /v1/sandbox/terminals/{id}/present`
is the customer tapping it), a declined card leaves the payment open for another try, a cancel
after the customer paid changes nothing, and the outcome reaches Tresen by a signed webhook
(`payment.succeeded` / `payment.failed` with the terminal and the card's brand), asynchronously and
more than once if need be. Its batch — the charges each reader took — is what a shift's close
reconciles against; a sale typed on the terminal by itself lands there and nowhere else.

`sandbox_readers/{terminal}` holds a reader's connection and its action; `sandbox_reader_payments/
{payment}` each payment with its outcome.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..domain.catalog import Store
from ..domain.terminals import ProviderCharge, TerminalRegistration, Workplace
from ..services.documents import Conflict, Documents
from ..services.terminal_ports import (
    CardPresentRequest,
    CardPresentState,
    ReaderCheck,
    RegisteredReader,
    TerminalRefused,
)
from . import sandbox_sender
from .clock import new_id

READERS, PAYMENTS = "sandbox_readers", "sandbox_reader_payments"
DECLINED = "The card was declined."
PROCESSING, SUCCEEDED, FAILED, CANCELED = "processing", "succeeded", "failed", "canceled"


@dataclass(frozen=True)
class SandboxReaders:
    """services/terminal_ports.py `CardReader` (provider `sandbox`) and `TerminalSimulator`. The
    reader's id is Tresen's terminal id: the simulator is addressed by it."""

    docs: Documents
    provider = "sandbox"
    payment_provider = "sandbox"

    def register(
        self, store: Store, workplace: Workplace, terminal_id: str, registration: TerminalRegistration
    ) -> RegisteredReader:
        batch = self.docs.batch()
        batch.set(f"{READERS}/{terminal_id}", {"online": True, "action": None, "store_id": store.id})
        batch.commit()
        return RegisteredReader(terminal_id, None)

    def unregister(self, reader_id: str) -> None:
        batch = self.docs.batch()
        batch.delete(f"{READERS}/{reader_id}")
        batch.commit()

    def check(self, reader_id: str) -> ReaderCheck:
        reader = self.docs.get(f"{READERS}/{reader_id}")
        if reader is None:
            return ReaderCheck("offline", "the simulated reader is not registered")
        online = reader.data["online"]
        return ReaderCheck(
            "online" if online else "offline", "simulated reader, " + ("connected" if online else "switched off")
        )

    def create_payment(self, request: CardPresentRequest) -> str:
        payment_id = new_id("pay_sbxt_")
        batch = self.docs.batch()
        batch.create(
            f"{PAYMENTS}/{payment_id}",
            {
                "reader_id": request.terminal_id,
                "order_id": request.order_id,
                "amount": request.amount,
                "currency": request.currency,
                "status": PROCESSING,
                "brand": None,
                "error": None,
                "charged_at": None,
            },
        )
        batch.commit()
        return payment_id

    def present(self, reader_id: str, payment_id: str) -> None:
        reader = self.docs.get(f"{READERS}/{reader_id}")
        if reader is None or not reader.data["online"]:
            raise TerminalRefused("terminal_offline", "The simulated reader is offline.")
        action = reader.data["action"]
        if action == payment_id:
            return  # sent before: the reader is asking for it already
        if action is not None:
            raise TerminalRefused("terminal_busy", "The simulated reader is taking another payment.")
        self._set_action(reader, payment_id)

    def _set_action(self, reader: Any, payment_id: str | None) -> None:
        batch = self.docs.batch()
        batch.update(reader.path, {"action": payment_id}, reader.version)
        try:
            batch.commit()
        except Conflict:
            raise TerminalRefused("terminal_busy", "The simulated reader is taking another payment.") from None

    def cancel(self, reader_id: str, payment_id: str) -> CardPresentState:
        payment = self.docs.get(f"{PAYMENTS}/{payment_id}")
        if payment is None:
            raise LookupError(f"no sandbox payment {payment_id}")
        if payment.data["status"] in (SUCCEEDED, CANCELED):
            return state_of(payment_id, payment.data)
        reader = self.docs.get(f"{READERS}/{reader_id}")
        batch = self.docs.batch()
        if reader is not None and reader.data["action"] == payment_id:
            batch.update(reader.path, {"action": None}, reader.version)
        batch.update(payment.path, {"status": CANCELED}, payment.version)
        try:
            batch.commit()
        except Conflict:  # the customer tapped meanwhile: what the payment is now
            return self.state(payment_id)
        return CardPresentState(payment_id, CANCELED)

    def state(self, payment_id: str) -> CardPresentState:
        payment = self.docs.get(f"{PAYMENTS}/{payment_id}")
        if payment is None:
            raise LookupError(f"no sandbox payment {payment_id}")
        return state_of(payment_id, payment.data)

    def in_progress(self, reader_id: str) -> str | None:
        reader = self.docs.get(f"{READERS}/{reader_id}")
        return reader.data["action"] if reader else None

    def charges(self, reader_id: str, since: datetime, until: datetime) -> list[ProviderCharge]:
        found = self.docs.query(PAYMENTS, where=[("reader_id", "==", reader_id), ("status", "==", SUCCEEDED)])
        charges = [
            ProviderCharge(doc.id, doc.data["amount"], doc.data["currency"], doc.data["brand"], doc.data["charged_at"])
            for doc in found
        ]
        return [charge for charge in charges if since <= as_utc(charge.at) <= until]

    # -- what a customer does at the reader (services/terminal_ports.py `TerminalSimulator`)

    def present_card(
        self, terminal_id: str, brand: str, approve: bool, amount: int | None, report: bool
    ) -> dict[str, Any]:
        reader = self.docs.get(f"{READERS}/{terminal_id}")
        if reader is None:
            raise TerminalRefused("not_found", f"No simulated reader {terminal_id!r}.")
        payment_id = reader.data["action"]
        if payment_id is None:
            if amount is None:
                raise TerminalRefused("no_payment_pending", "The reader is not asking for a payment: send one first.")
            return self._sale_by_itself(terminal_id, brand, amount)
        payment = self.docs.get(f"{PAYMENTS}/{payment_id}")
        now = datetime.now(UTC)
        outcome = (
            {"status": SUCCEEDED, "brand": brand, "charged_at": now, "error": None}
            if approve
            else {"status": FAILED, "brand": brand, "error": DECLINED}
        )
        batch = self.docs.batch()
        batch.update(reader.path, {"action": None}, reader.version)
        batch.update(payment.path, outcome, payment.version)
        try:
            batch.commit()
        except Conflict:
            raise TerminalRefused("terminal_busy", "The payment changed meanwhile: present the card again.") from None
        data = payment.data | outcome
        if report:
            sandbox_sender.send_later(reader_event(payment_id, terminal_id, data))
        return {
            "terminal_id": terminal_id,
            "payment_id": payment_id,
            "status": data["status"],
            "brand": brand,
            "amount": data["amount"],
        }

    def _sale_by_itself(self, terminal_id: str, brand: str, amount: int) -> dict[str, Any]:
        """A sale typed on the terminal itself: the provider holds it, Tresen never hears of it."""
        payment_id = new_id("pay_sbxt_")
        batch = self.docs.batch()
        batch.create(
            f"{PAYMENTS}/{payment_id}",
            {
                "reader_id": terminal_id,
                "order_id": None,
                "amount": amount,
                "currency": "EUR",
                "status": SUCCEEDED,
                "brand": brand,
                "error": None,
                "charged_at": datetime.now(UTC),
            },
        )
        batch.commit()
        return {
            "terminal_id": terminal_id,
            "payment_id": payment_id,
            "status": SUCCEEDED,
            "brand": brand,
            "amount": amount,
        }

    def set_connection(self, terminal_id: str, online: bool) -> None:
        reader = self.docs.get(f"{READERS}/{terminal_id}")
        if reader is None:
            raise TerminalRefused("not_found", f"No simulated reader {terminal_id!r}.")
        batch = self.docs.batch()
        batch.update(reader.path, {"online": online})
        batch.commit()


def state_of(payment_id: str, data: dict[str, Any]) -> CardPresentState:
    succeeded = data["status"] == SUCCEEDED
    return CardPresentState(
        payment_id,
        data["status"],
        data["amount"] if succeeded else None,
        data["currency"] if succeeded else None,
        data["brand"],
        data["error"],
    )


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reader_event(payment_id: str, terminal_id: str, payment: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's webhook of a reader's outcome: as its checkout's, with the terminal and the card."""
    succeeded = payment["status"] == SUCCEEDED
    data = {
        "payment_id": payment_id,
        "amount": payment["amount"],
        "currency": payment["currency"],
        "terminal_id": terminal_id,
        "brand": payment["brand"],
    }
    if not succeeded:
        data["error"] = payment["error"]
    kind = "payment.succeeded" if succeeded else "payment.failed"
    return {"id": new_id("evt_sbx_"), "type": kind, "created": int(time.time()), "data": data}
