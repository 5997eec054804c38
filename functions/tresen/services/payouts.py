"""Payouts: a provider's `payout.paid`, its items matched to payments and refunds exactly once.

The sandbox lists a payout's items in the event; for Stripe they are the payout's balance
transactions, asked of Stripe (paginated) when the event comes. The match records are created in
chunks below the 500 writes one commit may hold, each create-only; the payout's record and the
event's are committed last, together. So a crash between chunks leaves matches that a retry finds
already made (same payout: nothing to do) and completes; a replayed or second event for the same
payout finds the payout kept and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..domain import payouts as po
from .documents import Conflict
from .finance_ports import FinanceUnitOfWork, PayoutListing, Record
from .payments import EventOutcome, event_record
from .provider_refunds import PROVIDER
from .unit_of_work import RetryLater, Writes

log = logging.getLogger(__name__)
CHUNK = 400  # match records per commit: below the 500 writes one commit may hold
COMMIT_ATTEMPTS = 3


@dataclass(frozen=True)
class RecordPayout:
    provider: str
    event_id: str  # of the provider's `payout.paid`
    payout: dict[str, Any]  # as the event tells it: `items`, or None where they are to be asked for
    store_id: str | None = None  # the store whose connected account paid it out (Stripe Connect)


def record_payout(command: RecordPayout, uow: FinanceUnitOfWork) -> EventOutcome:
    """Keep a paid-out payout and match its items, once per payout whatever events come."""
    provider, payout, now = command.provider, command.payout, uow.now()
    if uow.provider_events.seen(provider, command.event_id):
        return EventOutcome(duplicate=True)
    writes = Writes(PROVIDER)
    writes.event_seen(provider, command.event_id, event_record("payout.paid", "processed", now))
    if not uow.payouts.exists(provider, payout["payout_id"]):  # a second event for it only acknowledges
        items, others = payout_items(uow, provider, payout, command.store_id)
        conflicts = match_all(uow, provider, payout, items, now)
        writes.payout(po.payout_record(provider, payout, items, others, conflicts, now))
    try:
        uow.commit_writes(writes)
    except Conflict:
        return EventOutcome(duplicate=True)
    return EventOutcome()


def payout_items(
    uow: FinanceUnitOfWork, provider: str, payout: dict[str, Any], store_id: str | None
) -> tuple[list[po.PayoutItem], int]:
    """(items, other transactions) of the payout: from the event, or asked of the provider (on the
    store's account, where a store's account paid it out)."""
    if payout.get("items") is not None:
        return po.sandbox_items(payout["items"]), 0
    listing: PayoutListing = uow.provider(provider, store_id)  # a provider whose events name no items lists them
    return po.stripe_items(listing.payout_transactions(payout["payout_id"]))


def match_all(
    uow: FinanceUnitOfWork, provider: str, payout: dict, items: list[po.PayoutItem], now: datetime
) -> list[dict]:
    """Create each item's match, chunk by chunk; the items another payout already claims are
    returned as conflicts (and logged), never overwritten."""
    conflicts: list[dict] = []
    for start in range(0, len(items), CHUNK):
        conflicts += match_chunk(uow, provider, payout, items[start : start + CHUNK], now)
    for conflict in conflicts:
        log.warning(
            "payout %s of %s: %s %s is already matched to payout %s",
            payout["payout_id"],
            provider,
            conflict["kind"],
            conflict["object_id"],
            conflict["claimed_by"],
        )
    return conflicts


def match_chunk(
    uow: FinanceUnitOfWork, provider: str, payout: dict, items: list[po.PayoutItem], now: datetime
) -> list[dict]:
    for _ in range(COMMIT_ATTEMPTS):
        writes, conflicts = Writes(PROVIDER), []
        for item, claimed_by in zip(items, uow.payouts.claims(items), strict=True):
            if claimed_by is None:
                writes.payout_match(item.kind, item.object_id, po.match_record(provider, payout, item, now))
            elif claimed_by != payout["payout_id"]:
                conflicts.append({"kind": item.kind, "object_id": item.object_id, "claimed_by": claimed_by})
        if not writes.ops:
            return conflicts
        try:
            uow.commit_writes(writes)
            return conflicts
        except Conflict:  # another delivery matched some of them meanwhile: look again
            continue
    raise RetryLater(f"payout {payout['payout_id']}: its matches kept changing")  # 503: the provider retries


def store_payouts(
    uow: FinanceUnitOfWork, store_id: str, first: date, last: date, ours: frozenset[str] = frozenset()
) -> Iterator[tuple[Record, list[Record]]]:
    """(payout, its items of this store) for each payout that arrived on first..last and paid out
    something of the store's. A provider account may pay out several stores, so an item is the
    store's by its payment (`ours`: payments known to be, which need not be read again; a payment
    not known yet is no one's)."""
    for payout in uow.payouts.arrived_between(first, last):
        items = uow.payouts.matches_of(payout["provider"], payout["payout_id"])
        unknown = {item["payment_id"] for item in items} - ours
        found = uow.books.payments(sorted(unknown)) if unknown else {}
        of_store = ours | {payment_id for payment_id, payment in found.items() if payment.store_id == store_id}
        mine = [item for item in items if item["payment_id"] in of_store]
        if mine:
            yield payout, mine
