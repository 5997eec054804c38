"""Signing the sales taken on site with the store's TSE, after the commits that make them.

A sale paid at the counter is complete when it is placed: its transaction is started and finished
after the order's commit, once the request is answered (the TSE's round trips are not the
customer's wait; a sale whose signing was cut off is taken up by the job). A card payment at a
terminal is started then and finished once the payment succeeded — or canceled with the order.
Each step calls the TSE after the commit, never
inside it (a TSE outage must not hold the store's commits), and records what it answered in a
commit of its own: the order's `tse` with a `tse.signed` entry. A TSE that does not answer within
its timeout leaves the sale `failed` (journaled `tse.failed`, logged as an error: the alert), and
`finish_unsigned_sales` signs it later under the same transaction id, which the TSE signs once.

The store's TSS and each till's client are made on their first sale (journaled for the register of
the store's devices); their ids are derived from the store's and the till's, so a setup cut off
half-way is taken up again.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from ..domain.errors import DomainError
from ..domain.events import TseClientRegistered, TseFailed, TseInstalled, TseSigned
from ..domain.journal import JournalEvent
from ..domain.orders import Order
from ..domain.refunds import paid
from ..domain.tse import (
    FAILED,
    PENDING,
    SIGNED,
    StoreTse,
    TseClient,
    TseTransaction,
    as_record,
    client_of,
    needs_tse,
    process_data,
    qr_code_v0,
    qr_time,
    receipt_of,
    transaction_id,
    tss_id_of,
)
from .documents import Conflict
from .receipt_mail import mail_receipt
from .tse_ports import SignedTransaction, TseRefused, TseUnavailable, TseUnitOfWork
from .unit_of_work import Claims, Plan, Writes

log = logging.getLogger(__name__)
TSE_ACTOR = {"type": "system", "job": "tse"}
STALE_PENDING = timedelta(minutes=2)  # a sale settled this long ago and still unsigned: its signing was cut off


def store_tse(uow: TseUnitOfWork, store_id: str) -> StoreTse:
    """The store's TSS, made and initialized on its first sale on site (journaled `tse.installed`)."""
    found = uow.store_tses.read(store_id)
    if found is None:
        fresh = StoreTse(store_id, tss_id_of(store_id), admin_pin=f"{secrets.randbelow(10**8):08d}")
        writes = Writes(TSE_ACTOR)
        writes.store_tse(fresh)
        try:
            uow.commit_writes(writes)  # the PIN is kept before the TSE is told it
        except Conflict:
            pass  # another sale made it first: its PIN counts
        found = uow.store_tses.read(store_id)
    tse = found[0]
    if tse.installed:
        return tse
    info = uow.tse.ensure_tss(tse.tss_id, tse.admin_pin)

    def installed(current: StoreTse) -> tuple[StoreTse, TseInstalled] | None:
        if current.installed:
            return None
        journaled = TseInstalled(
            tss_id=current.tss_id,
            serial_number=info.serial_number,
            public_key=info.public_key,
            signature_algorithm=info.signature_algorithm,
            log_time_format=info.log_time_format,
        )
        return replace(
            current,
            serial_number=info.serial_number,
            public_key=info.public_key,
            signature_algorithm=info.signature_algorithm,
            log_time_format=info.log_time_format,
            certificate=info.certificate,
            installed_at=info.created_at,
        ), journaled

    return change_tse(uow, store_id, installed)


def change_tse(
    uow: TseUnitOfWork, store_id: str, change: Callable[[StoreTse], tuple[StoreTse, object] | None]
) -> StoreTse:
    """The record as `change` leaves the one read now, with its journal entry; read again and decided
    again if another sale changed it first. `change` answers None where there is nothing to do."""

    def build(_claims: Claims) -> Plan[StoreTse]:
        current, read_at = uow.store_tses.read(store_id)
        changed = change(current)
        writes = Writes(TSE_ACTOR)
        if changed is None:
            return Plan(current, uow.now(), TSE_ACTOR, [], writes)
        tse, journaled = changed
        writes.store_tse(tse, read_at)
        return Plan(tse, uow.now(), TSE_ACTOR, [JournalEvent.of(journaled)], writes)

    return uow.commit(store_id, build).result


def till_client(uow: TseUnitOfWork, tse: StoreTse, workplace_id: str | None) -> tuple[StoreTse, TseClient]:
    """The till's client of the store's TSS, registered on its first sale (journaled)."""
    client_id, serial = client_of(tse.store_id, workplace_id)
    if client_id in tse.clients:
        return tse, tse.clients[client_id]
    uow.tse.ensure_client(tse.tss_id, tse.admin_pin, client_id, serial)
    client = TseClient(client_id, serial, workplace_id, uow.now())

    def registered(current: StoreTse) -> tuple[StoreTse, TseClientRegistered] | None:
        if client_id in current.clients:
            return None
        journaled = TseClientRegistered(client_id=client_id, serial_number=serial, workplace_id=workplace_id)
        return replace(current, clients={**current.clients, client_id: client}), journaled

    updated = change_tse(uow, tse.store_id, registered)
    return updated, updated.clients[client_id]


def workplace_of(uow: TseUnitOfWork, order: Order) -> str | None:
    """The till a sale was taken at: the workplace of its terminal; None for the counter."""
    if order.payment is None or order.payment.terminal_id is None:
        return None
    found = uow.terminals.read(order.payment.terminal_id)
    return found[0].workplace_id if found else None


def start_sale(uow: TseUnitOfWork, order: Order) -> None:
    """A card payment placed: its transaction started. Best effort: the finish starts it if this
    could not (what fails here is the finish's to record)."""
    if uow.tse is None:
        return
    try:
        tse = store_tse(uow, order.store_id)
        tse, client = till_client(uow, tse, workplace_of(uow, order))
        uow.tse.start(tse.tss_id, client.client_id, transaction_id(order.id))
    except (TseUnavailable, TseRefused) as error:
        log.warning("order %s: the TSE did not start its transaction: %s", order.id, error)


def sign_placed(uow: TseUnitOfWork, order: Order) -> None:
    """A sale just placed: one complete at once (paid at the counter, or by gift cards) signed, one
    awaiting its card at a terminal started."""
    if paid(order):
        sign_sale(uow, order)
    else:
        start_sale(uow, order)


def sign_sale(uow: TseUnitOfWork, order: Order) -> Order:
    """The sale's transaction finished (paid) or canceled, its signature recorded on the order; a TSE
    that does not answer leaves it `failed`. An order still awaiting its payment, or signed, is left."""
    if uow.tse is None or not needs_tse(order) or order.tse_status not in (PENDING, FAILED):
        return order
    settled = paid(order)
    if not settled and order.status != "canceled":
        return order
    try:
        tse = store_tse(uow, order.store_id)
        tse, client = till_client(uow, tse, workplace_of(uow, order))
        receipt = receipt_of(order) if settled else None
        signed = uow.tse.finish(tse.tss_id, client.client_id, transaction_id(order.id), receipt)
    except (TseUnavailable, TseRefused) as error:
        log.error("TSE failure: order %s of store %s is not signed: %s", order.id, order.store_id, error)
        return record_failure(uow, order, str(error))
    data = process_data(receipt) if receipt else "Beleg^0.00_0.00_0.00_0.00_0.00^"
    return record_signature(uow, order, transaction_of(signed, client.serial_number, data))


def transaction_of(signed: SignedTransaction, client_serial: str, process: str) -> TseTransaction:
    start, end = qr_time(signed.time_start), qr_time(signed.time_end)
    code = qr_code_v0(
        client_serial,
        process,
        signed.number,
        signed.signature_counter,
        start,
        end,
        signed.signature_algorithm,
        signed.log_time_format,
        signed.signature,
        signed.public_key,
    )
    return TseTransaction(
        tss_serial=signed.tss_serial,
        client_id=client_serial,
        transaction_number=signed.number,
        signature_counter=signed.signature_counter,
        start=signed.time_start,
        end=signed.time_end,
        signature=signed.signature,
        signature_algorithm=signed.signature_algorithm,
        log_time_format=signed.log_time_format,
        public_key=signed.public_key,
        state=signed.state,
        process_data=process,
        qr_code=code,
    )


def on_order(
    uow: TseUnitOfWork, order: Order, change: Callable[[Order], Order | None], journaled: object | None
) -> Order:
    """Commit `change(order as read now)` on the order with `journaled`, unless `change` says None."""

    def build(_claims: Claims) -> Plan[Order]:
        current, read_at = uow.orders.read_in_store(order.store_id, order.id)
        changed = change(current)
        writes = Writes(TSE_ACTOR)
        events = []
        if changed is not None:
            writes.order(changed, read_at)
            events = [JournalEvent.of(journaled)] if journaled else []
            if current.tse_status == PENDING:  # the receipt waited for its TSE's answer
                mail_receipt(uow.catalog.get(order.store_id)[0], changed, writes)
        return Plan(changed or current, uow.now(), TSE_ACTOR, events, writes)

    return uow.commit(order.store_id, build).result


def record_signature(uow: TseUnitOfWork, order: Order, transaction: TseTransaction) -> Order:
    record = dict(as_record(transaction))
    journaled = TseSigned(order_id=order.id, transaction_id=transaction_id(order.id), **record)

    def signed(current: Order) -> Order | None:
        if current.tse_status == SIGNED:
            return None  # recorded by another attempt
        return replace(current, tse=record, tse_status=SIGNED)

    return on_order(uow, order, signed, journaled)


def record_failure(uow: TseUnitOfWork, order: Order, reason: str) -> Order:
    journaled = TseFailed(order_id=order.id, transaction_id=transaction_id(order.id), reason=reason[:500])

    def failed(current: Order) -> Order | None:
        if current.tse_status in (SIGNED, FAILED):
            return None  # one failure is recorded once, however often the job tries
        return replace(current, tse_status=FAILED)

    return on_order(uow, order, failed, journaled)


def finish_unsigned_sales(uow: TseUnitOfWork, limit: int = 200) -> dict[str, int]:
    """The job: every sale the TSE could not sign (`failed`), or whose signing was cut off (settled
    a while ago, still `pending`), signed now. `{signed, failed}`: how many it signed, how many are
    still waiting for the TSE."""
    counts = {"signed": 0, "failed": 0}
    due = uow.now() - STALE_PENDING
    # oldest first: the TSE's counters follow the order of the sales where it can
    for order in sorted(uow.orders.unsigned_sales(limit), key=lambda order: (order.created_at, order.id)):
        if order.tse_status == PENDING and order.updated_at > due:
            continue  # its own request is signing it
        try:
            signed = sign_sale(uow, order)
        except DomainError as error:
            log.error("order %s: its sale could not be signed: %s", order.id, error)
            counts["failed"] += 1
            continue
        if signed.tse_status in (SIGNED, FAILED):
            counts["signed" if signed.tse_status == SIGNED else "failed"] += 1
    return counts
