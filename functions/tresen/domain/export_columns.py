"""What the exports say about an object: each kind's column set, the row of one object, and which
objects a journal entry changed (what the change feed answers for that entry). No I/O: the
service reads the documents, this maps them.

A row is the same in every format: one object of a JSON page's `data`, one JSONL line, one CSV row
(CSV writes an empty cell for null and compact JSON for an object). Amounts are integer cents;
times are RFC 3339 in the store's time zone, to the second, as everywhere in the API; VAT has a
column per rate and part (net_7, vat_7, gross_7, net_19, …) so that a spreadsheet sums a rate
without parsing anything.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .events import CardActivity, CardBlockChunkActivated, Projection, RefundRecord
from .giftcards import Activity, Card
from .money import VAT_RATES, VatLine
from .orders import Order
from .payments import PaymentRecord
from .refunds import Refund

Row = dict[str, Any]
KINDS = ("orders", "payments", "refunds", "giftcard-activities", "journal")

VAT_COLUMNS: dict[str, Any] = {f"{part}_{rate}": int for rate in VAT_RATES for part in ("net", "vat", "gross")}

# Each kind's columns in order, with the type of their values (the JSON page's schema is made from
# these; tests check that every row has exactly these keys, in this order).
COLUMNS: dict[str, dict[str, Any]] = {
    "orders": {
        "id": str,
        "number": int,
        "business_day": str,
        "created_at": str,
        "updated_at": str,
        "status": str,
        "payment_status": str,
        "payment_method": str,
        "provider": str | None,
        "payment_id": str | None,
        "invoice_number": str | None,
        "fulfilment": str,
        "currency": str,
        "subtotal": int,
        "discount": int,
        "tip": int,
        "giftcards_sold": int,
        "total": int,
        **VAT_COLUMNS,
        "gift_card_amount": int,
        "amount_due": int,
        "refunded_amount": int,
    },
    "payments": {
        "id": str,
        "order_id": str,
        "order_number": int,
        "created_at": str,
        "provider": str,
        "status": str,
        "order_status": str,
        "amount": int,
        "currency": str,
        "invoice_number": str | None,
        "last_error": str | None,
    },
    "refunds": {
        "id": str,
        "order_id": str,
        "payment_id": str | None,
        "created_at": str,
        "provider": str,
        "to": str,
        "status": str,
        "reason": str,
        "currency": str,
        "amount": int,
        "provider_amount": int,
        "giftcard_amount": int,
        **VAT_COLUMNS,
        "untaxed": int,
        "provider_refund_id": str | None,
    },
    "giftcard-activities": {
        "card_id": str,
        "last4": str,
        "n": int,
        "type": str,
        "at": str,
        "currency": str,
        "amount": int,
        "balance_change": int,
        "balance_after": int,
        "order_id": str | None,
        "refund_id": str | None,
        "auth_code": str | None,
        "reason": str | None,
        "linked_card_id": str | None,
        "actor_type": str | None,
        "actor_id": str | None,
    },
    "journal": {
        "seq": int,
        "at": str,
        "type": str,
        "v": int | None,
        "actor": dict[str, Any],
        "data": dict[str, Any],
        "prev_hash": str,
        "hash": str,
    },
}


# The GoBD data export's further tables, beside the feed's kinds: the same kind of definitions, so
# that its index.xml describes every CSV from the columns it was written with.
RECORD_COLUMNS: dict[str, dict[str, Any]] = {
    **COLUMNS,
    "order-lines": {
        "order_id": str,
        "invoice_number": str | None,
        "line_id": str,
        "product_id": str,
        "name": str,
        "kind": str,
        "quantity": int,
        "unit_price": int,
        "vat_rate": str | None,
        "total": int,
        "options": str,
    },
    "closings": {
        "z_number": int,
        "business_day": str,
        "closed_at": str,
        "first_seq": int,
        "last_seq": int,
        "currency": str,
        **VAT_COLUMNS,
        "payments_on_site": int,
        "payments_online": int,
        "payments_giftcard": int,
        "payments_card_present": int,
        "tips": int,
        "refunds": int,
        "voids": int,
        "discounts": int,
        "giftcards_sold": int,
        "giftcards_redeemed": int,
        "checkpoint_size": int,
        "previous_hash": str,
        "hash": str,
    },
    "payouts": {
        "provider": str,
        "payout_id": str,
        "arrival_date": str,
        "currency": str,
        "amount": int,
        "fee": int,
        "item_count": int,
        "store_items": int,
        "store_amount": int,
        "store_fee": int,
    },
}
DAY_COLUMNS = ("business_day", "arrival_date")  # YYYY-MM-DD; every other time is RFC 3339 text


def order_line_rows(order: Order) -> list[Row]:
    return [
        {
            "order_id": order.id,
            "invoice_number": order.invoice_number,
            "line_id": line.id,
            "product_id": line.product_id,
            "name": line.name,
            "kind": line.kind,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "vat_rate": line.vat_rate,
            "total": line.total,
            "options": ", ".join(option.name for option in line.options),
        }
        for line in order.lines
    ]


def closing_row(closing: Mapping[str, Any]) -> Row:
    return {
        "z_number": closing["z_number"],
        "business_day": closing["business_day"],
        "closed_at": closing["closed_at"],
        "first_seq": closing["first_seq"],
        "last_seq": closing["last_seq"],
        "currency": closing["currency"],
        **vat_cells(VatLine(**row) for row in closing["vat"]),
        **{f"payments_{method}": amount for method, amount in closing["payments"].items()},
        "tips": closing["tips"],
        "refunds": closing["refunds"]["amount"],
        "voids": closing["voids"]["amount"],
        "discounts": closing["discounts"]["amount"],
        "giftcards_sold": closing["giftcards"]["sold"],
        "giftcards_redeemed": closing["giftcards"]["redeemed"],
        "checkpoint_size": closing["checkpoint"]["size"],
        "previous_hash": closing["previous_hash"],
        "hash": closing["hash"],
    }


def payout_row(payout: Mapping[str, Any], items: Iterable[Mapping[str, Any]]) -> Row:
    """A payout with the part of it that is one store's (a provider account may serve several)."""
    items = list(items)
    return {
        "provider": payout["provider"],
        "payout_id": payout["payout_id"],
        "arrival_date": payout["arrival_date"],
        "currency": payout["currency"],
        "amount": payout["amount"],
        "fee": payout.get("fee", 0),
        "item_count": payout.get("item_count", 0),
        "store_items": len(items),
        "store_amount": sum(item["amount"] for item in items),
        "store_fee": sum(item["fee"] for item in items),
    }


def local_time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).replace(microsecond=0).isoformat() if moment else None


def vat_cells(lines: Iterable[VatLine]) -> Row:
    """net, vat and gross of every rate, 0 for a rate the lines do not have."""
    by_rate = {line.rate: line for line in lines}
    cells: Row = {}
    for rate in VAT_RATES:
        line = by_rate.get(rate)
        cells[f"net_{rate}"] = line.net if line else 0
        cells[f"vat_{rate}"] = line.tax if line else 0
        cells[f"gross_{rate}"] = line.gross if line else 0
    return cells


def order_row(order: Order, zone: ZoneInfo) -> Row:
    """total = gross of every rate + tip + giftcards_sold (gift cards sold bear no VAT)."""
    totals, payment = order.totals, order.payment
    return {
        "id": order.id,
        "number": order.number,
        "business_day": order.business_day.isoformat(),
        "created_at": local_time(order.created_at, zone),
        "updated_at": local_time(order.updated_at, zone),
        "status": order.status,
        "payment_status": order.payment_status,
        "payment_method": order.payment_method,
        "provider": payment.provider if payment else None,
        "payment_id": payment.id if payment else None,
        "invoice_number": order.invoice_number,
        "fulfilment": order.fulfilment.type,
        "currency": order.currency,
        "subtotal": totals.subtotal,
        "discount": totals.discount,
        "tip": totals.tip,
        "giftcards_sold": totals.giftcards_sold,
        "total": totals.total,
        **vat_cells(totals.vat),
        "gift_card_amount": order.gift_card_amount,
        "amount_due": order.amount_due,
        "refunded_amount": order.refunded_amount,
    }


def payment_row(payment: PaymentRecord, order: Order, zone: ZoneInfo) -> Row:
    """A provider's payment, with where it stands: our payment record keeps what it is to charge,
    its order whether it was paid, refunded or did not match."""
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "order_number": order.number,
        "created_at": local_time(payment.created_at, zone),
        "provider": payment.provider,
        "status": order.payment_status,
        "order_status": order.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "invoice_number": order.invoice_number,
        "last_error": order.last_payment_error,
    }


def refund_row(refund: Refund, currency: str, zone: ZoneInfo) -> Row:
    """amount = gross of every rate + untaxed (a refunded tip, and the share of gift cards sold)."""
    taxed = sum(line.gross for line in refund.vat if line.rate in VAT_RATES)
    return {
        "id": refund.id,
        "order_id": refund.order_id,
        "payment_id": refund.payment_id,
        "created_at": local_time(refund.created_at, zone),
        "provider": refund.provider,
        "to": refund.to,
        "status": refund.status,
        "reason": refund.reason,
        "currency": currency,
        "amount": refund.amount,
        "provider_amount": refund.provider_amount,
        "giftcard_amount": refund.giftcard_amount,
        **vat_cells(refund.vat),
        "untaxed": refund.amount - taxed,
        "provider_refund_id": refund.provider_refund_id,
    }


def activity_row(activity: Activity, card: Card, actor: Mapping[str, Any] | None, zone: ZoneInfo) -> Row:
    return {
        "card_id": card.id,
        "last4": card.last4,
        "n": activity.n,
        "type": activity.type,
        "at": local_time(activity.at, zone),
        "currency": card.currency,
        "amount": activity.amount,
        "balance_change": activity.balance_change,
        "balance_after": activity.balance_after,
        "order_id": activity.order_id,
        "refund_id": activity.refund_id,
        "auth_code": activity.auth_code,
        "reason": activity.reason,
        "linked_card_id": activity.linked_card_id,
        **actor_cells(actor),
    }


def actor_cells(actor: Mapping[str, Any] | None) -> Row:
    """Who: a staff member's uid, an API key's id, or the job that acted."""
    actor = actor or {}
    return {"actor_type": actor.get("type"), "actor_id": actor.get("uid") or actor.get("key_id") or actor.get("job")}


def journal_row(entry: Mapping[str, Any]) -> Row:
    """The entry as it is hashed and signed, `at` included (in UTC, as stored): a row can be checked
    against the verifiable journal byte for byte (`v` null: version 1, whose entries have none)."""
    return {column: entry.get(column) if column == "v" else entry[column] for column in COLUMNS["journal"]}


# What `objects_changed` reads of an entry; and the types that can name refunds or card activities,
# so that a feed of those reads no other entry's data.
NAMING = Projection(("data.order_id", "data.id", "data.card_id", "data.n", "data.cards"))
NAMED_IN = {"refunds": "refund.", "giftcard-activities": "giftcard."}


def objects_changed(kind: str, entry: Mapping[str, Any]) -> list[Hashable]:
    """The objects of `kind` that a journal entry changed, as the feed names them: an order id
    (orders; payments, found through their order), a refund id, (card id, ledger n), or the seq.

    Every change to an order, payment or refund is journaled in the same commit with an entry
    naming it (a payment's amount moves with its order's, and its status is its order's), so
    naming an object too often costs a read but naming it too rarely would lose an update: every
    entry with an `order_id` counts for its order.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    if kind == "journal":
        return [entry["seq"]]
    if not entry["type"].startswith(NAMED_IN.get(kind, "")):
        return []
    event = NAMING.read(entry)
    if kind in ("orders", "payments"):
        order_id = getattr(event, "order_id", None)  # of every type that declares one
        return [order_id] if order_id else []
    if kind == "refunds":
        return [event.id] if isinstance(event, RefundRecord) else []
    if isinstance(event, CardBlockChunkActivated):
        # one entry for a chunk of a block: each of its cards was issued with ledger activity 1
        return [(card.card_id, 1) for card in event.cards]
    return [(event.card_id, event.n)] if isinstance(event, CardActivity) else []
