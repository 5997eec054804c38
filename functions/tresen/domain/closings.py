"""Closings (Kassenabschluss, Z-report): every figure computed from the journal entries of the
closing's range alone, so anyone holding the archive recomputes a Z-report and finds it equal.

What the entries must carry for that, and where it is recognised:
- **A sale** is recognised where its invoice number is issued: `order.placed` of an order paid at
  placement (on site, or gift cards covering all of it) or `order.paid` (online). That entry
  carries `data.sale` (`sale_record`): the payment method, the total, the tip, the gift cards that
  paid, the gift cards sold and the VAT per rate of the order as sold. An online order placed in
  one period and paid in the next is a sale of the next.
- **Voids and discounts** (of unpaid orders) carry `data.reduced_by`, what they took off the total;
  a discount also its VAT split (`data.vat`, since promotions came).
- **A promotion's discount** is part of its sale (`sale.promotion`: the discount per VAT rate, already
  out of the sale's total and VAT): `discounts` counts it with the sale, so a promotion on an order
  that is never paid counts nowhere.
- **Refunds**: `refund.created` carries the amount, its VAT split and how it was paid out
  (`provider_amount` back the way the order was paid, `giftcard_amount` onto a card, and the
  order's payment method in `method`).
- **A provider refund that fails** gives its money back: its `refund.failed` entry carries
  `data.failed_refund` (`failed_refund_record`), and the closing whose range holds that entry adds
  it back under `failed_refunds`, per VAT rate and method, whichever closing counted the refund. So
  the closings together show the money that really moved.
- **Gift cards** sold at the counter are `giftcard.activate` entries without an order (paid at
  the counter); gift cards redeemed are `giftcard.redeem` and `giftcard.capture` entries.
- **Cards at a terminal** (`card_present`) are a payment method of their own: the sale names the
  card's brand (`card_brand`), and `card_brands` counts and sums the card payments per brand, so
  the brands add up to `payments.card_present`. A refund to a card counts under its method in
  `refunds.by_method`, not under a brand: its entry names its order, not the card, and the sale it
  refunds may lie in an earlier closing's range, which this closing does not read.

Gift cards are multi-purpose vouchers: selling one is a liability, not revenue, and redeeming one
is a payment method of the sale it pays for. Tips are passed through to staff, not revenue.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

import rfc8785

from .catalog import Store
from .journal import GENESIS_HASH
from .money import VatLine, split_by_rate, vat_breakdown, vat_records
from .orders import Order
from .refunds import VOUCHERS, Refund

ON_SITE, ONLINE, GIFTCARD, CARD_PRESENT = "on_site", "online", "giftcard", "card_present"
METHODS = (ON_SITE, ONLINE, GIFTCARD, CARD_PRESENT)
UNKNOWN_BRAND = "unknown"  # a card whose brand the terminal did not tell
COUNTS = (
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
FIRST_PREVIOUS_HASH = GENESIS_HASH

# What `z_report` reads of an entry: a long read of entries asks for these only.
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
    "data.failed_refund",
)


# -- What the entries carry for the closing -----------------------------------------------------


def sale_record(order: Order) -> dict[str, Any]:
    """What the invoice of `order` sold, as its journal entry keeps it for the closing; a card taken
    at a terminal with its brand and the terminal."""
    card = order.payment if order.payment and order.payment.terminal_id else None
    return {
        "payment_method": order.payment_method,
        "total": order.totals.total,
        "tip": order.totals.tip,
        "gift_card_amount": order.gift_card_amount,
        "giftcards_sold": order.totals.giftcards_sold,
        "vat": vat_records(order.totals.vat),
        **({"card_brand": card.brand or "unknown", "terminal_id": card.terminal_id} if card else {}),
        **({"promotion": promotion_record(order)} if order.promotion else {}),
    }


def promotion_record(order: Order) -> dict[str, Any]:
    """The promotion given on a sale, as its entry keeps it for the closing: its discount per VAT
    rate (already out of the sale's total and VAT)."""
    given = order.promotion
    return {"id": given.id, "discount": given.discount, "vat": vat_records(vat_breakdown(given.by_rate.items()))}


def failed_refund_record(refund: Refund, method: str) -> dict[str, Any]:
    """What a provider refund that failed gives back, as its `refund.failed` entry keeps it for the
    closing: the part that was to go back through the provider, the way the order was paid
    (`method`), and that part's VAT. What went onto gift cards stands, so a refund paid back partly
    onto cards gives back its VAT in proportion (largest remainder, to the cent), like a refund by
    amount is split; the share of gift cards sold in the order keeps its proportion and bears none."""
    gross = {line.rate: line.gross for line in refund.vat}
    shares = gross | {VOUCHERS: refund.amount - sum(gross.values())}
    given_back = split_by_rate(refund.provider_amount, shares)
    taxed = [(rate, part) for rate, part in given_back.items() if rate != VOUCHERS and part]
    return {"method": method, "amount": refund.provider_amount, "vat": vat_records(vat_breakdown(taxed))}


# -- The Z-report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VatTotal:
    """Gross, net and tax over all VAT rates."""

    gross: int
    net: int
    tax: int


@dataclass(frozen=True)
class RefundFigures:
    """Refunds made, or (as `failed_refunds`) provider refunds that failed and gave their money back:
    how many, how much, per VAT rate, and per way the money went (or came back)."""

    count: int
    amount: int
    vat: tuple[VatLine, ...]
    by_method: Mapping[str, int]


@dataclass(frozen=True)
class Reductions:
    """Voids or discounts of unpaid orders: how many, and what they took off."""

    count: int
    amount: int


@dataclass(frozen=True)
class Discounts(Reductions):
    """Discounts: staff's on unpaid orders (when given) and promotions' (with their sale), and
    their amount per VAT rate."""

    vat: tuple[VatLine, ...] = ()


@dataclass(frozen=True)
class GiftCardFigures:
    sold: int  # a liability (multi-purpose vouchers), not revenue
    redeemed: int


@dataclass(frozen=True)
class CardPayments:
    """The card payments at a terminal of one brand: how many, and what they took."""

    count: int
    amount: int


@dataclass(frozen=True)
class ZReport:
    """Every figure of a Z-report (cents)."""

    counts: Mapping[str, int]
    sales: VatTotal
    vat: tuple[VatLine, ...]  # the sales per rate
    payments: Mapping[str, int]
    tips: int
    refunds: RefundFigures
    failed_refunds: RefundFigures
    voids: Reductions
    discounts: Discounts
    giftcards: GiftCardFigures
    card_brands: Mapping[str, CardPayments]  # the card_present payments per brand

    def as_dict(self) -> dict[str, Any]:
        """The figures as a closing's document and its `closing.created` entry hold them."""
        return {
            "counts": dict(self.counts),
            "sales": {"gross": self.sales.gross, "net": self.sales.net, "tax": self.sales.tax},
            "vat": vat_records(self.vat),
            "payments": dict(self.payments),
            "tips": self.tips,
            "refunds": _refund_figures_dict(self.refunds),
            "failed_refunds": _refund_figures_dict(self.failed_refunds),
            "voids": {"count": self.voids.count, "amount": self.voids.amount},
            "discounts": {
                "count": self.discounts.count,
                "amount": self.discounts.amount,
                "vat": vat_records(self.discounts.vat),
            },
            "giftcards": {"sold": self.giftcards.sold, "redeemed": self.giftcards.redeemed},
            "card_brands": {
                brand: {"count": paid.count, "amount": paid.amount} for brand, paid in sorted(self.card_brands.items())
            },
        }


def _refund_figures_dict(figures: RefundFigures) -> dict[str, Any]:
    return {
        "count": figures.count,
        "amount": figures.amount,
        "vat": vat_records(figures.vat),
        "by_method": dict(figures.by_method),
    }


class _VatSums:
    """Gross, net and tax added up per rate."""

    def __init__(self) -> None:
        self._by_rate: dict[str, dict[str, int]] = {}

    def add(self, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            sums = self._by_rate.setdefault(str(record["rate"]), {"gross": 0, "net": 0, "tax": 0})
            for part in sums:
                sums[part] += record[part]

    def lines(self) -> tuple[VatLine, ...]:
        return tuple(VatLine(rate, **self._by_rate[rate]) for rate in sorted(self._by_rate, key=float))


class _RefundSums:
    """Refunds (or failed refunds) as they are added up, entry by entry."""

    def __init__(self) -> None:
        self.count = self.amount = 0
        self.vat = _VatSums()
        self.by_method = dict.fromkeys(METHODS, 0)

    def add(self, amount: int, vat: Iterable[Mapping[str, Any]], by_method: Mapping[str, int]) -> None:
        self.count += 1
        self.amount += amount
        self.vat.add(vat)
        for method, part in by_method.items():
            self.by_method[method] += part

    def figures(self) -> RefundFigures:
        return RefundFigures(self.count, self.amount, self.vat.lines(), self.by_method)


def z_report(entries: Iterable[Mapping[str, Any]]) -> ZReport:
    """Every figure of a Z-report over these journal entries (the closing's range, in seq order)."""
    counts: dict[str, int] = defaultdict(int)
    payments = dict.fromkeys(METHODS, 0)
    sales_vat, discounts_vat, refunds, failed_refunds = _VatSums(), _VatSums(), _RefundSums(), _RefundSums()
    money = defaultdict(int)  # tips, voids, discounts, gift cards sold and redeemed
    card_counts: dict[str, int] = defaultdict(int)  # card_present payments per brand
    card_amounts: dict[str, int] = defaultdict(int)
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
            if kind == "order.discounted":
                discounts_vat.add(data.get("vat") or ())
        elif kind == "refund.created":
            paid_back = {data["method"]: data.get("provider_amount", 0), GIFTCARD: data.get("giftcard_amount", 0)}
            refunds.add(data["amount"], data.get("vat") or (), paid_back)
        elif kind == "refund.failed" and data.get("failed_refund"):
            given_back = data["failed_refund"]
            failed_refunds.add(given_back["amount"], given_back["vat"], {given_back["method"]: given_back["amount"]})
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
            if sale["payment_method"] == CARD_PRESENT:
                brand = sale.get("card_brand") or UNKNOWN_BRAND
                card_counts[brand] += 1
                card_amounts[brand] += sale["total"] - by_card
            money["tips"] += sale["tip"]
            if sale["giftcards_sold"]:
                counts["giftcards_sold"] += 1
                money["giftcards_sold"] += sale["giftcards_sold"]
            sales_vat.add(sale["vat"])
            if sale.get("promotion"):
                counts["discounts"] += 1
                money["discounts"] += sale["promotion"]["discount"]
                discounts_vat.add(sale["promotion"]["vat"])
    counts["refunds"] = refunds.count
    vat = sales_vat.lines()
    return ZReport(
        counts={name: counts[name] for name in COUNTS},
        sales=VatTotal(**{part: sum(getattr(line, part) for line in vat) for part in ("gross", "net", "tax")}),
        vat=vat,
        payments=payments,
        tips=money["tips"],
        refunds=refunds.figures(),
        failed_refunds=failed_refunds.figures(),
        voids=Reductions(counts["voids"], money["voids"]),
        discounts=Discounts(counts["discounts"], money["discounts"], discounts_vat.lines()),
        giftcards=GiftCardFigures(money["giftcards_sold"], money["giftcards_redeemed"]),
        card_brands={brand: CardPayments(card_counts[brand], card_amounts[brand]) for brand in sorted(card_counts)},
    )


def z_report_figures(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`z_report` in the form a closing's document holds it."""
    return z_report(entries).as_dict()


# -- The closing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosingCheckpoint:
    """The signed checkpoint of the journal at the closing's last entry, as the closing shows it."""

    origin: str
    size: int
    root: str  # base64
    key_id: str  # hex
    note: str  # the C2SP signed note


@dataclass(frozen=True)
class Closing(ZReport):
    """A closing: the Z-report of the journal entries `first_seq`..`last_seq`, the signed checkpoint
    at `last_seq`, and the chain of closings (`previous_hash`, and its own `hash`)."""

    store_id: str
    z_number: int
    business_day: str  # YYYY-MM-DD: of the period's last entry
    closed_at: str  # RFC 3339, store time
    closed_by: Mapping[str, Any]
    first_seq: int
    last_seq: int
    currency: str
    checkpoint: ClosingCheckpoint
    previous_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """The closing as its document and its `closing.created` entry hold it (and as hashed)."""
        return {
            "store_id": self.store_id,
            "z_number": self.z_number,
            "business_day": self.business_day,
            "closed_at": self.closed_at,
            "closed_by": dict(self.closed_by),
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "currency": self.currency,
            **super().as_dict(),
            "checkpoint": {
                "origin": self.checkpoint.origin,
                "size": self.checkpoint.size,
                "root": self.checkpoint.root,
                "key_id": self.checkpoint.key_id,
                "note": self.checkpoint.note,
            },
            "previous_hash": self.previous_hash,
            "hash": self.hash,
        }


def closing_of(
    entries: Sequence[Mapping[str, Any]],
    *,
    previous: Closing | None,
    store: Store,
    closed_at: str,
    closed_by: Mapping[str, Any],
    checkpoint: ClosingCheckpoint,
) -> Closing:
    """The closing of `entries` (every entry after `previous`, in seq order), with `checkpoint` at
    the last of them, numbered after `previous` and chained to it."""
    report = z_report(entries)
    unhashed = Closing(
        **{field.name: getattr(report, field.name) for field in fields(ZReport)},
        store_id=store.id,
        z_number=previous.z_number + 1 if previous else 1,
        # the business day of the period's last entry: a closing at night closes the day before
        business_day=store.business_day(datetime.fromisoformat(entries[-1]["at"])).isoformat(),
        closed_at=closed_at,
        closed_by=dict(closed_by),
        first_seq=entries[0]["seq"],
        last_seq=entries[-1]["seq"],
        currency=store.currency,
        checkpoint=checkpoint,
        previous_hash=previous.hash if previous else FIRST_PREVIOUS_HASH,
        hash="",
    )
    return replace(unhashed, hash=closing_hash(unhashed.as_dict()))


def closing_hash(closing: Mapping[str, Any]) -> str:
    """SHA-256 over the RFC 8785 bytes of the closing without its own `hash`: the next closing
    names it, so closings chain like the journal they summarise."""
    return hashlib.sha256(rfc8785.dumps({k: v for k, v in closing.items() if k != "hash"})).hexdigest()


# -- Closings stored before the current shape ---------------------------------------------------


def in_current_shape(closing: Mapping[str, Any]) -> dict[str, Any]:
    """A stored closing (its document, or its `closing.created` entry's data) as closings are made
    now. Closings made before failed refunds were added back call the tax of their VAT rows and of
    `sales` `vat`, and have no `failed_refunds`: read as `tax`, and as none. Closings made before
    card terminals have no `card_present` method and no `card_brands`: read as 0, and as none.
    Closings made before promotions have no VAT split of their discounts: read as none.
    Their `hash` stays the one over what they hold. Whatever else a closing holds is left as it is,
    so that recomputing its figures still finds what does not add up."""
    shaped = dict(closing)
    shaped["sales"] = _tax_named(shaped.get("sales"))
    shaped["vat"] = _rows_tax_named(shaped.get("vat"))
    if isinstance(shaped.get("refunds"), Mapping):
        shaped["refunds"] = {**shaped["refunds"], "vat": _rows_tax_named(shaped["refunds"].get("vat"))}
    shaped.setdefault("failed_refunds", {"count": 0, "amount": 0, "vat": [], "by_method": dict.fromkeys(METHODS, 0)})
    shaped["payments"] = _with_card_present(shaped.get("payments"))
    for name in ("refunds", "failed_refunds"):
        if isinstance(shaped.get(name), Mapping):
            shaped[name] = {**shaped[name], "by_method": _with_card_present(shaped[name].get("by_method"))}
    shaped.setdefault("card_brands", {})
    if isinstance(shaped.get("discounts"), Mapping):
        shaped["discounts"] = {"vat": [], **shaped["discounts"]}
    return shaped


def _with_card_present(amounts: Any) -> Any:
    if not isinstance(amounts, Mapping) or CARD_PRESENT in amounts:
        return amounts
    return {**amounts, CARD_PRESENT: 0}


def _rows_tax_named(rows: Any) -> Any:
    return [_tax_named(row) for row in rows] if isinstance(rows, list) else rows


def _tax_named(row: Any) -> Any:
    if not isinstance(row, Mapping) or "vat" not in row:
        return row
    return {("tax" if key == "vat" else key): value for key, value in row.items()}


def closing_from_dict(closing: Mapping[str, Any]) -> Closing:
    """A stored closing, of any shape it was stored in."""
    data = in_current_shape(closing)
    return Closing(
        counts=dict(data["counts"]),
        sales=VatTotal(**data["sales"]),
        vat=_vat_lines(data["vat"]),
        payments=dict(data["payments"]),
        tips=data["tips"],
        refunds=_refund_figures(data["refunds"]),
        failed_refunds=_refund_figures(data["failed_refunds"]),
        voids=Reductions(**data["voids"]),
        discounts=Discounts(
            data["discounts"]["count"], data["discounts"]["amount"], _vat_lines(data["discounts"]["vat"])
        ),
        giftcards=GiftCardFigures(**data["giftcards"]),
        card_brands={brand: CardPayments(**paid) for brand, paid in data["card_brands"].items()},
        store_id=data["store_id"],
        z_number=data["z_number"],
        business_day=data["business_day"],
        closed_at=data["closed_at"],
        closed_by=dict(data["closed_by"]),
        first_seq=data["first_seq"],
        last_seq=data["last_seq"],
        currency=data["currency"],
        checkpoint=ClosingCheckpoint(**data["checkpoint"]),
        previous_hash=data["previous_hash"],
        hash=data["hash"],
    )


def _vat_lines(rows: Iterable[Mapping[str, Any]]) -> tuple[VatLine, ...]:
    return tuple(VatLine(row["rate"], row["net"], row["tax"], row["gross"]) for row in rows)


def _refund_figures(data: Mapping[str, Any]) -> RefundFigures:
    return RefundFigures(data["count"], data["amount"], _vat_lines(data["vat"]), dict(data["by_method"]))
