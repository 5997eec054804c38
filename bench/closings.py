"""Closing a day of 5 000 orders (15 000 journal entries) against reading those entries bare.

The day is loaded into the stack's emulator in bulk batches (entries chained exactly as the
store writer chains them: order placed with its sale, accepted, completed), not order by order.
Each store is read bare, then closed, alternately, so that a busy spell hits both alike.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, replace

ORDERS = 5_000
STORES = 3
BATCH = 500


@dataclass(frozen=True)
class ClosingFigures:
    entries: int
    close_s: list[float]
    read_s: list[float]


def day_of_entries(store_id: str, orders: int) -> list[dict]:
    from tresen.domain.journal import GENESIS_HASH, JournalEvent, make_entry

    entries, prev = [], GENESIS_HASH
    actor, staff = {"type": "customer"}, {"type": "staff", "uid": "bench", "role": "staff"}
    for n in range(1, orders + 1):
        order_id = f"ord_bench{n:07d}"
        vat = [{"rate": "7", "net": 542, "tax": 38, "gross": 580}, {"rate": "19", "net": 218, "tax": 42, "gross": 260}]
        sale = {"payment_method": "on_site", "total": 840, "tip": 0, "gift_card_amount": 0, "giftcards_sold": 0}
        placed = {
            "order_id": order_id,
            "number": n,
            "business_day": "2026-11-23",
            "status": "placed",
            "payment_method": "on_site",
            "payment_id": None,
            "invoice_number": f"BENCH-2026-{n:06d}",
            "currency": "EUR",
            "lines": [
                {
                    "line_id": "L1",
                    "product_id": "croissant",
                    "quantity": 2,
                    "unit_price": 290,
                    "vat_rate": "7",
                    "total": 580,
                    "kind": "item",
                    "options": [],
                },
                {
                    "line_id": "L2",
                    "product_id": "espresso",
                    "quantity": 1,
                    "unit_price": 260,
                    "vat_rate": "19",
                    "total": 260,
                    "kind": "item",
                    "options": [],
                },
            ],
            "totals": {"subtotal": 840, "discount": 0, "tip": 0, "total": 840, "vat": vat, "giftcards_sold": 0},
            "gift_card_amount": 0,
            "gift_cards": [],
            "cards_sold": [],
            "fulfilment_type": "pickup",
            "customer": {"name": "0" * 64, "email": "0" * 64},  # pseudonyms
            "sale": sale | {"vat": vat},
        }
        events = [
            (JournalEvent("order.placed", placed), actor),
            (JournalEvent("order.accepted", {"order_id": order_id, "from": "placed", "to": "accepted"}), staff),
            (JournalEvent("order.completed", {"order_id": order_id, "from": "ready", "to": "completed"}), staff),
        ]
        for event, who in events:
            entry = make_entry(
                store_id=store_id,
                seq=len(entries) + 1,
                event=event,
                at="2026-11-23T12:00:00+00:00",
                actor=who,
                prev_hash=prev,
            )
            entries.append(entry)
            prev = entry["hash"]
    return entries


def load(db, store_id: str, entries: list[dict]) -> None:
    for start in range(0, len(entries), BATCH):
        batch = db.batch()
        for entry in entries[start : start + BATCH]:
            batch.create(db.document(f"stores/{store_id}/journal/{entry['seq']:012d}"), entry)
        batch.commit()


def measure_closings(db) -> ClosingFigures:
    from tresen.adapters.archive import MemoryArchive
    from tresen.adapters.backend import Backend
    from tresen.adapters.firestore_client import SCAN_TIMEOUT
    from tresen.services.closings import CloseStore, close_store
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    backend = Backend(db, None, MemoryArchive())  # the archive writes are not what is timed
    stores = [f"close{int(time.time())}{i}" for i in range(STORES)]
    count = 0
    for store_id in stores:
        seed_store(SeedStore(replace(DEMO_STORE, id=store_id), DEMO_PRODUCTS), backend)
        entries = day_of_entries(store_id, ORDERS)
        count = len(entries)
        load(db, store_id, entries)
    close_s, read_s = [], []
    for store_id in stores:
        started = time.perf_counter()
        read = backend.docs.query(f"stores/{store_id}/journal", order_by=[("seq", False)], timeout=SCAN_TIMEOUT)
        read_s.append(time.perf_counter() - started)
        assert len(read) == count
        started = time.perf_counter()
        closing = close_store(CloseStore(store_id, {"type": "bench"}), backend)
        close_s.append(time.perf_counter() - started)
        assert closing.counts["sales"] == ORDERS and closing.sales.gross == ORDERS * 840
    backend.archive.drain()
    return ClosingFigures(count, close_s, read_s)


def record_closings(figures: ClosingFigures) -> None:
    from bench.report import Ratio, add_to_results, print_table

    close_s, read_s = statistics.median(figures.close_s), statistics.median(figures.read_s)
    ratio = Ratio(
        "closing_vs_bare_read",
        f"closing {ORDERS:,} orders / {figures.entries:,} entries (vs reading them bare)",
        close_s,
        read_s,
        "s",
        1.5,
        at_most=True,
    )
    print_table([ratio])
    add_to_results({"closing_s": round(close_s, 3), "closing_bare_read_s": round(read_s, 3)}, [ratio])
