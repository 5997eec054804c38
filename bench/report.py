"""The verdicts: ratios against their targets, figures for context, and bench/results.json."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass

from tests.stack import ROOT

from bench.client import CLIENTS, Throughput
from bench.giftcards import REDEEMS, Redeems
from bench.latency import Latency
from bench.webhook_storm import Storm

RESULTS = ROOT / "bench" / "results.json"


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile: always one of the measured values, never an interpolation."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Measurements:
    latency: Latency
    one_store: Throughput
    many_stores: Throughput
    import_main_s: dict[str, float]  # entry point → seconds
    import_baseline_s: float
    storm: Storm
    redeems: Redeems


@dataclass(frozen=True)
class Ratio:
    name: str
    label: str
    value: float
    baseline: float
    unit: str
    target: float
    at_most: bool  # the ratio must be <= target (else >= target)

    @property
    def ratio(self) -> float:
        return self.value / self.baseline

    @property
    def meets_target(self) -> bool:
        return self.ratio <= self.target if self.at_most else self.ratio >= self.target

    @property
    def target_text(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.target:g}"


@dataclass(frozen=True)
class Info:
    """A figure printed for context, without a target of its own."""

    label: str
    value: float
    baseline: float
    unit: str


def print_table(rows: list[Ratio | Info]) -> None:
    header = ("figure", "value", "baseline", "ratio", "target", "met")
    lines = [header]
    for row in rows:
        baseline = f"{row.baseline:.2f} {row.unit}"
        if isinstance(row, Ratio):
            verdict = (f"{row.ratio:.2f}", row.target_text, "yes" if row.meets_target else "NO")
        else:
            verdict = (f"{row.value / row.baseline:.2f}", "", "")
        lines.append((row.label, f"{row.value:.2f} {row.unit}", baseline, *verdict))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))


def results_json(figures: dict[str, float | int], ratios: list[Ratio]) -> dict:
    return {
        "figures": figures,
        "ratios": {
            r.name: {
                "value": round(r.ratio, 4),
                "numerator": round(r.value, 4),
                "denominator": round(r.baseline, 4),
                "unit": r.unit,
                "target": r.target,
                "comparison": "<=" if r.at_most else ">=",
                "meets_target": r.meets_target,
            }
            for r in ratios
        },
        "meets_all_targets": all(r.meets_target for r in ratios),
    }


def report(m: Measurements) -> None:
    order_ms, write_ms = m.latency.order_ms, m.latency.write_ms
    one, many = m.one_store, m.many_stores
    distinct_cards, single_card = m.redeems.distinct_cards, m.redeems.single_card
    latency_ratio = Ratio(
        "order_p50_vs_write_p50",
        "order latency p50 (vs doc write)",
        percentile(order_ms, 50),
        percentile(write_ms, 50),
        "ms",
        2.5,  # two round trips (the idempotency claim, the commit) and little else
        at_most=True,
    )
    throughput_ratio = Ratio(
        "one_store_vs_many_stores_throughput",
        f"throughput 1 store (vs {CLIENTS} stores)",
        one.per_s,
        many.per_s,
        "orders/s",
        0.5,
        at_most=False,
    )
    import_ratio = Ratio(
        "import_main_vs_baseline",
        "import main, customer_api (vs ff + firestore)",
        m.import_main_s["customer_api"] * 1000,
        m.import_baseline_s * 1000,
        "ms",
        1.0,
        at_most=True,
    )
    storm_ratio = Ratio(
        "storm_deliveries_vs_orders_per_s",
        f"webhook storm deliveries/s (vs orders/s, {CLIENTS} stores)",
        m.storm.deliveries_per_s,
        many.per_s,
        "/s",
        1.0,  # a delivery changes one order, as placing one creates it
        at_most=False,
    )
    ratios = [latency_ratio, throughput_ratio, import_ratio, storm_ratio]
    print()
    print_table(
        [
            latency_ratio,
            Info("order latency p95 (vs doc write)", percentile(order_ms, 95), percentile(write_ms, 95), "ms"),
            throughput_ratio,
            Info(
                f"p95 under load, 1 store (vs {CLIENTS} stores)",
                percentile(one.latencies_ms, 95),
                percentile(many.latencies_ms, 95),
                "ms",
            ),
            import_ratio,
            *(
                Info(f"import main, {entry} (vs ff + firestore)", seconds * 1000, m.import_baseline_s * 1000, "ms")
                for entry, seconds in m.import_main_s.items()
                if entry != "customer_api"
            ),
            storm_ratio,
            Info(
                "webhook storm p95 (vs order p95 under load)",
                percentile(m.storm.latencies_ms, 95),
                percentile(many.latencies_ms, 95),
                "ms",
            ),
            Info(
                f"redeems/s, 1 card (vs {REDEEMS} cards)",
                single_card.per_s,
                distinct_cards.per_s,
                "/s",
            ),
            Info(
                f"redeem p95, 1 card (vs {REDEEMS} cards)",
                percentile(single_card.latencies_ms, 95),
                percentile(distinct_cards.latencies_ms, 95),
                "ms",
            ),
        ]
    )

    failures = {
        "latency_non_201": m.latency.order_failures,
        "one_store_non_201": one.failures,
        "many_stores_non_201": many.failures,
        "storm_non_200": m.storm.failures,
        "distinct_cards_non_200": distinct_cards.failures,
        "single_card_non_200": single_card.failures,
    }
    for name, count in failures.items():
        if count:
            print(f"warning: {count} requests did not answer as expected ({name})")
    print_unexpected(
        {"one_store": one, "many_stores": many, "distinct_cards": distinct_cards, "single_card": single_card}
    )
    if not m.redeems.single_card_balance_adds_up:
        print(
            f"ERROR: the single card lost {m.redeems.single_card_drop_cents} cents, "
            f"but its successful redeems took {m.redeems.single_card_taken_cents}"
        )

    timings = {
        "order_p50_ms": percentile(order_ms, 50),
        "order_p95_ms": percentile(order_ms, 95),
        "write_p50_ms": percentile(write_ms, 50),
        "write_p95_ms": percentile(write_ms, 95),
        "one_store_orders_per_s": one.per_s,
        "one_store_p95_ms": percentile(one.latencies_ms, 95),
        "many_stores_orders_per_s": many.per_s,
        "many_stores_p95_ms": percentile(many.latencies_ms, 95),
        "import_main_median_ms": m.import_main_s["customer_api"] * 1000,
        **{f"import_main_{entry}_median_ms": seconds * 1000 for entry, seconds in m.import_main_s.items()},
        "import_baseline_median_ms": m.import_baseline_s * 1000,
        "storm_deliveries": len(m.storm.latencies_ms),
        "storm_deliveries_per_s": m.storm.deliveries_per_s,
        "storm_p95_ms": percentile(m.storm.latencies_ms, 95),
        "distinct_cards_redeems_per_s": distinct_cards.per_s,
        "distinct_cards_redeem_p95_ms": percentile(distinct_cards.latencies_ms, 95),
        "single_card_redeems_per_s": single_card.per_s,
        "single_card_redeem_p95_ms": percentile(single_card.latencies_ms, 95),
        "single_vs_distinct_cards_redeems_per_s": single_card.per_s / distinct_cards.per_s,
    }
    balance_check = {
        "single_card_balance_drop_cents": m.redeems.single_card_drop_cents,
        "single_card_redeemed_cents": m.redeems.single_card_taken_cents,
        "single_card_balance_adds_up": m.redeems.single_card_balance_adds_up,
    }
    figures = {name: round(value, 3) for name, value in timings.items()} | failures | balance_check
    RESULTS.write_text(json.dumps(results_json(figures, ratios), indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


def add_to_results(figures: dict[str, float | int], ratios: list[Ratio]) -> None:
    """Adds a later step's figures and ratios to bench/results.json, which `report` wrote."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"figures": {}, "ratios": {}}
    written = results_json(figures, ratios)
    data["figures"].update(written["figures"])
    data["ratios"].update(written["ratios"])
    data["meets_all_targets"] = all(ratio["meets_target"] for ratio in data["ratios"].values())
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def print_unexpected(runs: dict[str, Throughput]) -> None:
    for name, run in runs.items():
        for answer, count in Counter(run.unexpected).most_common():
            print(f"  {name}: {count} x {answer}")
