"""Closings (Kassenabschluss, Z-report): every figure computed from the journal entries of the
closing's range alone, so anyone holding the archive recomputes a Z-report and finds it equal.

What the entries must carry for that, and where it is recognised:
- **A sale** is recognised where its invoice number is issued: `order.placed` of an order paid at
  placement (on site, or gift cards covering all of it) or `order.paid` (online). That entry
  carries `data.sale` (`sale_record`): the payment method, the total, the tip, the gift cards that
  paid, the gift cards sold and the VAT per rate of the order as sold. An online order placed in
  one period and paid in the next is a sale of the next.
- **Voids and discounts** (of unpaid orders) carry `data.reduced_by`, what they took off the total.
- **Refunds**: `refund.created` carries the amount, its VAT split and how it was paid out
  (`provider_amount` back the way the order was paid, `giftcard_amount` onto a card, and the
  order's payment method in `method`). A provider refund that fails later is not subtracted yet.
- **Gift cards** sold at the counter are `giftcard.activate` entries without an order (paid at
  the counter); gift cards redeemed are `giftcard.redeem` and `giftcard.capture` entries.

Gift cards are multi-purpose vouchers: selling one is a liability, not revenue, and redeeming one
is a payment method of the sale it pays for. Tips are passed through to staff, not revenue.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import rfc8785

from .journal import GENESIS_HASH
from .money import vat_records
from .orders import Order

ON_SITE, ONLINE, GIFTCARD = "on_site", "online", "giftcard"


# What `z_report_figures` reads of an entry: a long read of entries asks for these only.
FIGURE_FIELDS = (
    "type",
    "data.sale",
    "data.payment_method",
    "data.order_id",
    "data.amount",
    "data.method",
    "data.provider_amount",
    "data.giftcard_amount",
    "data.vat",
    "data.reduced_by",
)


def sale_record(order: Order) -> dict[str, Any]:
    """What the invoice of `order` sold, as its journal entry keeps it for the closing."""
    return {
        "payment_method": order.payment_method,
        "total": order.totals.total,
        "tip": order.totals.tip,
        "gift_card_amount": order.gift_card_amount,
        "giftcards_sold": order.totals.giftcards_sold,
        "vat": vat_records(order.totals.vat),
    }


def _vat_rows(by_rate: Mapping[str, dict[str, int]]) -> list[dict[str, Any]]:
    return [{"rate": rate, **by_rate[rate]} for rate in sorted(by_rate, key=lambda rate: float(rate))]


def _add_vat(into: dict[str, dict[str, int]], records: Iterable[Mapping[str, Any]]) -> None:
    for record in records:
        row = into.setdefault(str(record["rate"]), {"gross": 0, "net": 0, "vat": 0})
        row["gross"] += record["gross"]
        row["net"] += record["net"]
        row["vat"] += record["tax"]


def z_report_figures(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Every figure of a Z-report over these journal entries (the closing's range, in seq order)."""
    counts: dict[str, int] = defaultdict(int)
    payments: dict[str, int] = {ON_SITE: 0, ONLINE: 0, GIFTCARD: 0}
    sales_vat: dict[str, dict[str, int]] = {}
    refund_vat: dict[str, dict[str, int]] = {}
    refunds_by_method: dict[str, int] = {ON_SITE: 0, ONLINE: 0, GIFTCARD: 0}
    money = defaultdict(int)  # tips, refunds, voids, discounts, gift cards sold and redeemed
    for entry in entries:
        kind, data = entry["type"], entry["data"]
        if kind == "order.placed":
            counts["orders_placed"] += 1
            counts["orders_on_site"] += data.get("payment_method") == ON_SITE
        elif kind in ("order.canceled", "order.rejected"):
            counts[kind.removeprefix("order.")] += 1
        elif kind in ("order.voided", "order.discounted"):
            name = "voids" if kind == "order.voided" else "discounts"
            counts[name] += 1
            money[name] += data.get("reduced_by", 0)
        elif kind == "refund.created":
            counts["refunds"] += 1
            money["refunds"] += data["amount"]
            refunds_by_method[data["method"]] += data.get("provider_amount", 0)
            refunds_by_method[GIFTCARD] += data.get("giftcard_amount", 0)
            _add_vat(refund_vat, data.get("vat") or ())
        elif kind == "giftcard.activate" and not data.get("order_id"):
            counts["giftcards_sold"] += 1
            money["giftcards_sold"] += data["amount"]
            payments[ON_SITE] += data["amount"]  # paid at the counter
        elif kind in ("giftcard.redeem", "giftcard.capture"):
            counts["giftcards_redeemed"] += 1
            money["giftcards_redeemed"] += data["amount"]
        sale = data.get("sale")
        if sale:
            counts["sales"] += 1
            by_card = sale["gift_card_amount"]
            payments[sale["payment_method"]] += sale["total"] - by_card
            payments[GIFTCARD] += by_card
            money["tips"] += sale["tip"]
            if sale["giftcards_sold"]:
                counts["giftcards_sold"] += 1
                money["giftcards_sold"] += sale["giftcards_sold"]
            _add_vat(sales_vat, sale["vat"])
    vat_rows = _vat_rows(sales_vat)
    return {
        "counts": {
            name: counts[name]
            for name in (
                "orders_placed",
                "orders_on_site",
                "sales",
                "canceled",
                "rejected",
                "refunds",
                "voids",
                "discounts",
                "giftcards_sold",
                "giftcards_redeemed",
            )
        },
        "sales": {key: sum(row[key] for row in vat_rows) for key in ("gross", "net", "vat")},
        "vat": vat_rows,
        "payments": payments,
        "tips": money["tips"],
        "refunds": {
            "count": counts["refunds"],
            "amount": money["refunds"],
            "vat": _vat_rows(refund_vat),
            "by_method": refunds_by_method,
        },
        "voids": {"count": counts["voids"], "amount": money["voids"]},
        "discounts": {"count": counts["discounts"], "amount": money["discounts"]},
        "giftcards": {"sold": money["giftcards_sold"], "redeemed": money["giftcards_redeemed"]},
    }


def closing_hash(closing: Mapping[str, Any]) -> str:
    """SHA-256 over the RFC 8785 bytes of the closing without its own `hash`: the next closing
    names it, so closings chain like the journal they summarise."""
    return hashlib.sha256(rfc8785.dumps({k: v for k, v in closing.items() if k != "hash"})).hexdigest()


FIRST_PREVIOUS_HASH = GENESIS_HASH
