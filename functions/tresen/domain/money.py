"""Money in integer cents and the German VAT split.

Menu prices are gross (B2C). VAT is computed once per rate over the order's gross sum for that
rate — never per line and summed — so that net + tax == gross for every rate and the rates add up
to the taxable total exactly. Net is rounded half up to the cent; tax is the remainder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

VAT_RATES = ("7", "19")


@dataclass(frozen=True)
class VatLine:
    rate: str
    net: int
    tax: int
    gross: int


def vat_records(lines) -> list[dict[str, int | str]]:
    """VAT lines as the journal and the documents keep them."""
    return [{"rate": v.rate, "net": v.net, "tax": v.tax, "gross": v.gross} for v in lines]


def net_of(gross: int, rate_percent: int) -> int:
    """Net amount of a gross amount, rounded half up to the cent (integers only, no floats)."""
    divisor = 100 + rate_percent
    return (gross * 100 * 2 + divisor) // (2 * divisor)


def vat_breakdown(gross_by_rate: Iterable[tuple[str, int]]) -> list[VatLine]:
    """One line per rate, in ascending rate order, over the summed gross amounts of that rate."""
    sums: dict[str, int] = {}
    for rate, gross in gross_by_rate:
        sums[rate] = sums.get(rate, 0) + gross
    lines = []
    for rate in sorted(sums, key=int):
        gross = sums[rate]
        net = net_of(gross, int(rate))
        lines.append(VatLine(rate=rate, net=net, tax=gross - net, gross=gross))
    return lines


def split_by_rate(amount: int, gross_by_rate: dict[str, int]) -> dict[str, int]:
    """`amount` in proportion to the gross per rate; the parts add up to `amount` exactly.

    Anything beyond the goods (a tip) is refunded outside VAT under the rate "0"."""
    goods = sum(gross_by_rate.values())
    taxable = min(amount, goods)
    parts = {rate: taxable * gross // goods for rate, gross in gross_by_rate.items()} if goods else {}
    remainders = (
        sorted(gross_by_rate, key=lambda r: (taxable * gross_by_rate[r]) % goods, reverse=True) if goods else []
    )
    for rate in remainders[: taxable - sum(parts.values())]:
        parts[rate] += 1
    if amount > taxable:
        parts["0"] = amount - taxable
    return parts
