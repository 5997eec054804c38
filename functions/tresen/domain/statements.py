"""Statements: what a store was paid over some business days, each provider payment and refund
matched to the payout that paid it out, with totals that tie out with the closings of the days.

Built from three things only, so anyone holding the archive and the payouts can rebuild one:
- the journal entries of the period (business days, 05:00 to 05:00 store time, like closings):
  `order.paid` names each provider payment (its id, amount, invoice number), `refund.created` each
  refund and `refund.succeeded` its provider refund id; the sales figures are the closings' own
  (`z_report_figures`), so they add up the same way;
- the payout matches (`payout_matches/{kind}:{id}`: which payout paid an item out, with fee and
  net) and the payouts they name;
- the closings whose business day lies in the period.

The statement's files (JSON, CSV, PDF, DATEV) are listed in a manifest (name, size, SHA-256)
whose hash is signed as a C2SP signed note with the journal's key, so a file handed to an
accountant can be checked against the merchant's published key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .closings import METHODS, z_report_figures
from .events import (
    ClosingCreated,
    OrderPaid,
    Payload,
    Projection,
    RefundCreated,
    RefundFailed,
    RefundFailedV1,
    RefundSucceeded,
)

NOT_PAID_OUT = "not paid out yet"
OTHER_AMOUNT = "the payout reports another amount"
CLAIMED_TWICE = "claimed by two payouts"
REFUND_FAILED = "the provider reversed this refund"
CSV_COLUMNS = (
    "kind",
    "id",
    "order_id",
    "invoice_number",
    "provider",
    "provider_reference",
    "at",
    "amount",
    "fee",
    "net",
    "payout_id",
    "arrival_date",
    "matched",
)


# What `ProviderItems.gather` reads of an entry.
ITEM_FIELDS = (
    "seq",
    "at",
    "type",
    "data.payment_id",
    "data.order_id",
    "data.invoice_number",
    "data.provider",
    "data.amount",
    "data.id",
    "data.provider_amount",
    "data.provider_refund_id",
)
ITEMS = Projection(ITEM_FIELDS)
LISTED_TYPES = frozenset({OrderPaid.TYPE, RefundCreated.TYPE, RefundSucceeded.TYPE, RefundFailed.TYPE})


@dataclass
class ProviderItems:
    """The provider payments and refunds of a period, gathered while its entries stream past."""

    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # payment id → line
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)  # our refund id → line
    failed_refunds: set[str] = field(default_factory=set)
    seqs: list[int] = field(default_factory=list)  # of the entries a closing would cover

    def gather(self, entries: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Pass `entries` through (to the figures), keeping what the statement lists of them."""
        for entry in entries:
            if entry["type"] != ClosingCreated.TYPE:
                self.seqs.append(entry["seq"])
            if entry["type"] in LISTED_TYPES:
                self.keep(entry, ITEMS.read(entry))
            yield entry

    def keep(self, entry: Mapping[str, Any], event: Payload) -> None:
        if isinstance(event, OrderPaid) and event.payment_id:
            self.payments[event.payment_id] = {
                "payment_id": event.payment_id,
                "order_id": event.order_id,
                "invoice_number": event.invoice_number,
                "provider": event.provider,
                "paid_at": entry["at"],
                "amount": event.amount,
            }
        elif isinstance(event, RefundCreated) and event.payment_id and event.provider_amount:
            self.refunds[event.id] = {
                "refund_id": event.id,
                "order_id": event.order_id,
                "payment_id": event.payment_id,
                "invoice_number": None,  # the order's; the service reads it
                "provider": None,  # the payment's; the service reads it
                "provider_refund_id": None,
                "created_at": entry["at"],
                "amount": event.provider_amount,
            }
        elif isinstance(event, RefundSucceeded) and event.id in self.refunds:
            self.refunds[event.id]["provider_refund_id"] = event.provider_refund_id
        elif isinstance(event, RefundFailed | RefundFailedV1):
            self.failed_refunds.add(event.id)


def matched_line(line: dict[str, Any], match: Mapping[str, Any] | None, signed_amount: int) -> dict[str, Any]:
    """The line with its payout's fee, net and id, or None for each if no payout paid it out yet."""
    line = line | {"fee": None, "net": None, "payout_id": None, "arrival_date": None, "matched": False}
    if match is not None:
        line |= {
            "fee": match["fee"],
            "net": match["net"],
            "payout_id": match["payout_id"],
            "arrival_date": match["arrival_date"],
            "matched": match["amount"] == signed_amount,
        }
    return line


def sorted_lines(lines: Iterable[dict[str, Any]], at: str) -> list[dict[str, Any]]:
    return sorted(lines, key=lambda line: (line[at], line.get("payment_id") or "", line.get("refund_id") or ""))


def statement_lines(
    items: ProviderItems,
    payment_matches: Mapping[str, Mapping[str, Any]],
    refund_matches: Mapping[str, Mapping[str, Any]],
) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """(payments, refunds, unmatched, mismatched): every provider item once in its list, and those
    not paid out, or paid out with another amount, once more in theirs. A refund is money back,
    so its payout item is negative."""
    payments, refunds, unmatched, mismatched = [], [], [], []
    for kind, lines, key in (("payment", payments, "payment_id"), ("refund", refunds, "refund_id")):
        found = items.payments if kind == "payment" else items.refunds
        for line in found.values():
            signed = line["amount"] if kind == "payment" else -line["amount"]
            by_provider = line[key] if kind == "payment" else line["provider_refund_id"] or ""
            match = (payment_matches if kind == "payment" else refund_matches).get(by_provider)
            line = matched_line(line, match, signed)
            lines.append(line)
            if match is None:
                unmatched.append({"kind": kind, "id": line[key], "amount": signed, "reason": NOT_PAID_OUT})
            elif not line["matched"]:
                mismatched.append(problem(kind, line, signed, match["amount"], OTHER_AMOUNT))
            if kind == "refund" and line["refund_id"] in items.failed_refunds:
                mismatched.append(problem(kind, line, signed, None, REFUND_FAILED))
    return sorted_lines(payments, "paid_at"), sorted_lines(refunds, "created_at"), unmatched, mismatched


def problem(kind: str, line: Mapping[str, Any], expected: int, reported: int | None, reason: str) -> dict:
    item_id = line["payment_id"] if kind == "payment" else line["refund_id"]
    return {
        "kind": kind,
        "id": item_id,
        "payout_id": line["payout_id"],
        "expected": expected,
        "reported": reported,
        "reason": reason,
    }


def conflicts_of(payouts: Iterable[Mapping[str, Any]], items: ProviderItems) -> list[dict[str, Any]]:
    """Items of this statement that a second payout also claimed (the provider's records differ)."""
    ours = {"payment": set(items.payments), "refund": {r["provider_refund_id"] for r in items.refunds.values()}}
    return [
        {
            "kind": conflict["kind"],
            "id": conflict["object_id"],
            "payout_id": payout["payout_id"],
            "expected": None,
            "reported": None,
            "reason": f"{CLAIMED_TWICE} ({conflict['claimed_by']} and {payout['payout_id']})",
        }
        for payout in payouts
        for conflict in payout.get("conflicts") or ()
        if conflict["object_id"] in ours.get(conflict["kind"], ())
    ]


def payout_rows(payouts: Iterable[Mapping[str, Any]], lines: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each payout that paid out an item of the statement: the provider's figures, and how many of
    its items are this store's (a payout may also pay out other stores of the same account)."""
    ours: dict[str, int] = {}
    for line in lines:
        if line["payout_id"]:
            ours[line["payout_id"]] = ours.get(line["payout_id"], 0) + 1
    rows = [
        {
            "provider": payout["provider"],
            "payout_id": payout["payout_id"],
            "arrival_date": payout["arrival_date"],
            "amount": payout["amount"],
            "fee": payout.get("fee", 0),
            "items": ours.get(payout["payout_id"], 0),
        }
        for payout in payouts
    ]
    return sorted(rows, key=lambda row: (row["arrival_date"], row["payout_id"]))


def provider_totals(payments: list[Mapping], refunds: list[Mapping]) -> dict[str, int]:
    paid = sum(line["amount"] for line in payments)
    refunded = sum(line["amount"] for line in refunds)
    lines = [*payments, *refunds]
    fees = sum(line["fee"] or 0 for line in lines)
    paid_out = sum(line["net"] for line in lines if line["payout_id"])
    return {
        "payments": paid,
        "refunds": refunded,
        "fees": fees,
        "net": paid - refunded - fees,
        "paid_out": paid_out,
        "not_paid_out": paid - refunded - fees - paid_out,
    }


def book_totals(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The figures a statement compares with its closings: what was taken per method and rate."""
    return {
        "payments": dict(figures["payments"]),
        "vat": figures["vat"],
        "tips": figures["tips"],
        "giftcards_sold": figures["giftcards"]["sold"],
        "refunds": {"amount": figures["refunds"]["amount"], "by_method": dict(figures["refunds"]["by_method"])},
    }


def closings_summary(closings: list[Mapping[str, Any]], seqs: list[int], totals: Mapping[str, Any]) -> dict:
    """Which closings the period's figures tie out with, and whether they cover it exactly: every
    entry of the period in one of them, and nothing of theirs outside it."""
    if not closings:
        return {
            "z_numbers": [],
            "first_seq": None,
            "last_seq": None,
            "covered": False,
            "note": "no closing falls in the period: its figures are not closed yet",
            "payments": None,
            "ties_out": False,
        }
    closings = sorted(closings, key=lambda c: c["z_number"])
    first, last = closings[0]["first_seq"], closings[-1]["last_seq"]
    contiguous = all(a["last_seq"] + 1 == b["first_seq"] for a, b in zip(closings, closings[1:], strict=False))
    covered = contiguous and bool(seqs) and first <= min(seqs) and max(seqs) <= last
    closed = sum_closings(closings)
    ties = covered and closed == book_totals_comparable(totals)
    z_numbers = [c["z_number"] for c in closings]
    span = f"Z {z_numbers[0]}–{z_numbers[-1]}" if len(z_numbers) > 1 else f"Z {z_numbers[0]}"
    if covered:
        note = f"{span} cover every entry of the period"
    else:
        after = [seq for seq in seqs if seq > last]
        note = (
            f"{span} do not cover entries {after[0]}–{after[-1]} of the period (not closed yet)"
            if after
            else f"{span} do not cover the period exactly"
        )
    return {
        "z_numbers": z_numbers,
        "first_seq": first,
        "last_seq": last,
        "covered": covered,
        "note": note,
        "payments": closed["payments"],
        "ties_out": ties,
    }


def sum_closings(closings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    payments = dict.fromkeys(METHODS, 0)
    refunds = dict.fromkeys(METHODS, 0)
    tips = sold = 0
    for closing in closings:
        for method in payments:  # a closing made before card terminals has no card_present
            payments[method] += closing["payments"].get(method, 0)
            refunds[method] += closing["refunds"]["by_method"].get(method, 0)
        tips += closing["tips"]
        sold += closing["giftcards"]["sold"]
    return {"payments": payments, "refunds": refunds, "tips": tips, "giftcards_sold": sold}


def book_totals_comparable(totals: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "payments": totals["payments"],
        "refunds": totals["refunds"]["by_method"],
        "tips": totals["tips"],
        "giftcards_sold": totals["giftcards_sold"],
    }


def build_statement(
    head: Mapping[str, Any],
    items: ProviderItems,
    figures: Mapping[str, Any],
    matches: tuple[Mapping[str, Mapping], Mapping[str, Mapping]],
    payouts: list[Mapping[str, Any]],
    closings: list[Mapping[str, Any]],
) -> dict[str, Any]:
    """The whole statement: `head` (id, store_id, from, to, created_at, currency, store) and its lines."""
    payments, refunds, unmatched, mismatched = statement_lines(items, *matches)
    totals = book_totals(figures) | {"provider": provider_totals(payments, refunds)}
    return {
        **head,
        "payments": payments,
        "refunds": refunds,
        "unmatched": unmatched,
        "mismatched": mismatched + conflicts_of(payouts, items),
        "payouts": payout_rows(payouts, [*payments, *refunds]),
        "totals": totals,
        "closings": closings_summary(closings, items.seqs, totals),
    }


def statement_figures(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The closings' figures over the period's entries, leaving out closings themselves."""
    return z_report_figures(entry for entry in entries if entry["type"] != ClosingCreated.TYPE)


def csv_rows(statement: Mapping[str, Any]) -> list[list[Any]]:
    """One row per provider payment and refund (refunds negative), in CSV_COLUMNS order."""
    rows = []
    for line in statement["payments"]:
        rows.append(
            [
                "payment",
                line["payment_id"],
                line["order_id"],
                line["invoice_number"],
                line["provider"],
                line["payment_id"],
                line["paid_at"],
                line["amount"],
                *payout_cells(line),
            ]
        )
    for line in statement["refunds"]:
        rows.append(
            [
                "refund",
                line["refund_id"],
                line["order_id"],
                line["invoice_number"],
                line.get("provider"),
                line["provider_refund_id"],
                line["created_at"],
                -line["amount"],
                *payout_cells(line),
            ]
        )
    return rows


def payout_cells(line: Mapping[str, Any]) -> list[Any]:
    return [line["fee"], line["net"], line["payout_id"], line["arrival_date"], "true" if line["matched"] else "false"]


def statement_json(statement: Mapping[str, Any]) -> bytes:
    return (json.dumps(statement, ensure_ascii=False, indent=1) + "\n").encode()


def file_entry(name: str, content: bytes) -> dict[str, Any]:
    return {"name": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def manifest_bytes(statement_id: str, store_id: str, period: tuple[str, str], files: list[dict]) -> bytes:
    """manifest.json: what a downloaded file must hash to. Sorted keys, so it is written one way."""
    manifest = {"statement_id": statement_id, "store_id": store_id, "from": period[0], "to": period[1], "files": files}
    return (json.dumps(manifest, sort_keys=True, indent=1) + "\n").encode()


def manifest_note_text(origin: str, statement_id: str, manifest: bytes) -> str:
    """The signed note's text: the store's journal origin, the statement, and the manifest's
    SHA-256 (base64, as a checkpoint writes its root)."""
    digest = base64.b64encode(hashlib.sha256(manifest).digest()).decode()
    return f"{origin}\nstatement {statement_id}\n{digest}\n"
