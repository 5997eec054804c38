"""Payouts: which payments and refunds a provider's payout paid out, with each one's fee and net.

A payout's items become match records, one per payment or refund, named by the provider's own id
(`payment:{payment id}`, `refund:{provider refund id}`). A match does not need the payment to be
known: a payout may arrive before the payment's own webhook, and the statement joins the two by
id whenever it is made. An item is matched to at most one payout: its record is created once, and a
second payout claiming it is a conflict, kept on that payout for an operator, never an overwrite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PAYMENT, REFUND = "payment", "refund"
# Stripe balance transaction types: what a charge and a refund leave on the balance; the payout's
# own transaction is the payout itself; anything else (adjustments, Stripe's own fees) is listed
# on the payout but matches nothing of ours.
STRIPE_PAYMENT_TYPES = ("charge", "payment")
STRIPE_REFUND_TYPES = ("refund", "payment_refund")
STRIPE_PAYOUT_TYPE = "payout"
MAX_CONFLICTS_KEPT = 100  # on the payout document, which must stay well below 1 MiB


@dataclass(frozen=True)
class PayoutItem:
    kind: str  # payment | refund
    object_id: str  # our payment id (the provider's payment id) or the provider's refund id
    payment_id: str
    amount: int  # signed: a refund is negative
    fee: int

    @property
    def net(self) -> int:
        return self.amount - self.fee


def match_id(kind: str, object_id: str) -> str:
    return f"{kind}:{object_id}"


def sandbox_items(items: Iterable[Mapping[str, Any]]) -> list[PayoutItem]:
    """The sandbox's `items`: a payment, or with `refund_id` a refund of that payment."""
    return [
        PayoutItem(
            REFUND if item.get("refund_id") else PAYMENT,
            item.get("refund_id") or item["payment_id"],
            item["payment_id"],
            item["amount"],
            item["fee"],
        )
        for item in items
    ]


def stripe_items(transactions: Iterable[Mapping[str, Any]]) -> tuple[list[PayoutItem], int]:
    """(items, other transactions): a payout's balance transactions, their `source` expanded."""
    items, others = [], 0
    for transaction in transactions:
        kind, source = transaction["type"], transaction.get("source") or {}
        if kind == STRIPE_PAYOUT_TYPE:
            continue
        intent = source.get("payment_intent") if isinstance(source, Mapping) else None
        if kind in STRIPE_PAYMENT_TYPES and intent:
            items.append(PayoutItem(PAYMENT, intent, intent, transaction["amount"], transaction["fee"]))
        elif kind in STRIPE_REFUND_TYPES and intent:
            items.append(PayoutItem(REFUND, source["id"], intent, transaction["amount"], transaction["fee"]))
        else:
            others += 1
    return items, others


def match_record(provider: str, payout: Mapping[str, Any], item: PayoutItem, now: Any) -> dict[str, Any]:
    return {
        "provider": provider,
        "kind": item.kind,
        "object_id": item.object_id,
        "payment_id": item.payment_id,
        "payout_id": payout["payout_id"],
        "arrival_date": payout["arrival_date"],
        "amount": item.amount,
        "fee": item.fee,
        "net": item.net,
        "currency": payout["currency"],
        "matched_at": now,
    }


def payout_record(
    provider: str, payout: Mapping[str, Any], items: list[PayoutItem], others: int, conflicts: list[dict], now: Any
) -> dict[str, Any]:
    """The payout as kept: the provider's figures and a summary of its items (they live in their
    match records, so a payout of ten thousand items still fits a document)."""
    return {
        "provider": provider,
        "payout_id": payout["payout_id"],
        "arrival_date": payout["arrival_date"],
        "amount": payout["amount"],
        "currency": payout["currency"],
        "fee": sum(item.fee for item in items),
        "item_count": len(items),
        "other_transactions": others,
        "conflicts": conflicts[:MAX_CONFLICTS_KEPT],
        "conflict_count": len(conflicts),
        "received_at": now,
    }
