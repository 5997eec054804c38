"""Payouts: a provider's `payout.paid`, its items matched to payments and refunds exactly once.

The sandbox lists a payout's items in the event; for Stripe they are the payout's balance
transactions, asked of Stripe (paginated) when the event comes. The match records are created in
chunks below Firestore's 500 writes per commit, each create-only; the payout document and the
event's record are committed last, together. So a crash between chunks leaves matches that a
retry finds already made (same payout: nothing to do) and completes; a replayed or second event for
the same payout finds the payout document and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from ..adapters import repository as repo
from ..adapters.backend import Backend
from ..adapters.payments import provider
from .unit_of_work import RetryLater
from .unit_of_work import Writes
from ..adapters.records import payout_path
from ..domain import payouts as po
from .documents import Conflict, Documents
from .order_changes import PROVIDER
from .payments import EventOutcome, event_record

log = logging.getLogger(__name__)
CHUNK = 400  # match records per commit: below Firestore's 500 writes per batch
COMMIT_ATTEMPTS = 3
READ_CHUNK = 500  # documents per batched read


def match_path(kind: str, object_id: str) -> str:
    return f"payout_matches/{po.match_id(kind, object_id)}"


def payout_items(provider_name: str, payout: dict[str, Any]) -> tuple[list[po.PayoutItem], int]:
    """(items, other transactions) of the payout: from the event, or asked of the provider."""
    if payout.get("items") is not None:
        return po.sandbox_items(payout["items"]), 0
    return po.stripe_items(provider(provider_name).payout_transactions(payout["payout_id"]))


def record_payout(backend: Backend, provider_name: str, event_id: str, payout: dict[str, Any]) -> EventOutcome:
    """Keep a paid-out payout and match its items, once per payout whatever events come."""
    docs, now = backend.docs, backend.now()
    if repo.event_seen(docs, provider_name, event_id):
        return EventOutcome(duplicate=True)
    writes = Writes(PROVIDER)
    writes.event_seen(provider_name, event_id, event_record("payout.paid", "processed", now))
    if docs.get(payout_path(provider_name, payout["payout_id"])) is None:  # a second event for it only acknowledges
        items, others = payout_items(provider_name, payout)
        conflicts = match_all(docs, provider_name, payout, items, now)
        writes.payout(po.payout_record(provider_name, payout, items, others, conflicts, now))
    try:
        backend.commit_writes(writes)
    except Conflict:
        return EventOutcome(duplicate=True)
    return EventOutcome()


def match_all(docs: Documents, provider_name: str, payout: dict, items: list[po.PayoutItem], now) -> list[dict]:
    """Create each item's match, chunk by chunk; the items another payout already claims are
    returned as conflicts (and logged), never overwritten."""
    conflicts: list[dict] = []
    for start in range(0, len(items), CHUNK):
        conflicts += match_chunk(docs, provider_name, payout, items[start : start + CHUNK], now)
    for conflict in conflicts:
        log.warning(
            "payout %s of %s: %s %s is already matched to payout %s",
            payout["payout_id"],
            provider_name,
            conflict["kind"],
            conflict["object_id"],
            conflict["claimed_by"],
        )
    return conflicts


def match_chunk(docs: Documents, provider_name: str, payout: dict, items: list[po.PayoutItem], now) -> list[dict]:
    for _ in range(COMMIT_ATTEMPTS):
        existing = docs.get_all([match_path(item.kind, item.object_id) for item in items])
        batch, conflicts, pending = docs.batch(), [], 0
        for item, found in zip(items, existing, strict=True):
            if found is None:
                batch.create(match_path(item.kind, item.object_id), po.match_record(provider_name, payout, item, now))
                pending += 1
            elif found.data["payout_id"] != payout["payout_id"]:
                conflicts.append(
                    {"kind": item.kind, "object_id": item.object_id, "claimed_by": found.data["payout_id"]}
                )
        if not pending:
            return conflicts
        try:
            batch.commit()
            return conflicts
        except Conflict:  # another delivery matched some of them meanwhile: look again
            continue
    raise RetryLater(f"payout {payout['payout_id']}: its matches kept changing")  # 503: the provider retries


def matches_for(docs: Documents, kind: str, object_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """object id → its match record, for those a payout has paid out; read READ_CHUNK at a time,
    so that a statement of thirty thousand payments makes many reads each well within its deadline."""
    ids = list(dict.fromkeys(object_ids))
    matched = {}
    for start in range(0, len(ids), READ_CHUNK):
        chunk = ids[start : start + READ_CHUNK]
        found = docs.get_all([match_path(kind, object_id) for object_id in chunk])
        matched.update({object_id: doc.data for object_id, doc in zip(chunk, found, strict=True) if doc is not None})
    return matched


def payouts_between(docs: Documents, first: date, last: date) -> list[dict[str, Any]]:
    """Payouts that arrived on the days first..last, oldest first (every provider)."""
    found = docs.query(
        "payouts",
        where=[("arrival_date", ">=", first.isoformat()), ("arrival_date", "<=", last.isoformat())],
        order_by=[("arrival_date", False)],
    )
    return [doc.data for doc in found]


def matches_of_payout(docs: Documents, provider_name: str, payout_id: str) -> list[dict[str, Any]]:
    found = docs.query("payout_matches", where=[("provider", "==", provider_name), ("payout_id", "==", payout_id)])
    return [doc.data for doc in found]


def store_payouts(
    docs: Documents, store_id: str, first: date, last: date, ours: frozenset[str] = frozenset()
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(payout, its items of this store) for each payout that arrived on first..last and paid out
    something of the store's. A provider account may pay out several stores, so an item is the
    store's by its payment (`ours`: payments known to be, which need not be read again; a payment
    not known yet is no one's)."""
    for payout in payouts_between(docs, first, last):
        items = matches_of_payout(docs, payout["provider"], payout["payout_id"])
        unknown = sorted({item["payment_id"] for item in items} - ours)
        found = docs.get_all([repo.payment_path(payment_id) for payment_id in unknown]) if unknown else []
        of_store = ours | {
            pid for pid, doc in zip(unknown, found, strict=True) if doc and doc.data["store_id"] == store_id
        }
        mine = [item for item in items if item["payment_id"] in of_store]
        if mine:
            yield payout, mine
