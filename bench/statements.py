"""A statement over a week of 30 000 paid online orders, made through the running stack's API,
against reading those orders bare; and the server's peak memory while it makes it.

The week is loaded into the emulator in bulk, as the use cases leave it: per order its document,
its payment, and its two journal entries (placed, then paid with its sale), chained as the store
writer chains them; two thirds of the payments paid out by a payout a day (its match documents and
the payout). The bare read is the export's paged query over the same orders
(`DocumentBooks.order_pages`), in this process, nothing formatted. The statement reads the week's
journal entries and the payout matches, writes its four files (JSON, CSV, PDF, DATEV) and its
manifest to the bucket, and commits.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from bench.client import api_session, staff_headers
from bench.exports import RssWatch, template_doc

STATEMENT_ORDERS = 30_000
STORE_ID = "statements"
BATCH = 500
LOADERS = 8
FIRST_ORDER_AT = datetime(2026, 6, 1, 6, tzinfo=UTC)  # Monday, 08:00 in Frankfurt
SPACING = timedelta(seconds=19)  # 30 000 orders from Monday 08:00 to Sunday 22:20
FIRST_DAY, LAST_DAY = date(2026, 6, 1), date(2026, 6, 7)
VAT = [{"rate": "7", "net": 542, "tax": 38, "gross": 580}, {"rate": "19", "net": 218, "tax": 42, "gross": 260}]


@dataclass(frozen=True)
class StatementFigures:
    orders: int
    load_s: float
    statement_s: float
    bare_s: float
    rss_before_mb: float
    peak_rss_mb: float
    payments: int
    unmatched: int


def week_of_documents(store) -> list[tuple[str, dict]]:
    """(path, document) of the whole week: orders, payments, journal entries, matches, payouts."""
    from tresen.domain.journal import GENESIS_HASH, JournalEvent, make_entry

    template = template_doc()
    # the template's lines and totals as the journal keeps them (services/orders.py `placed_event`)
    journaled = {
        "lines": [
            {name: line[name] for name in ("product_id", "quantity", "unit_price", "vat_rate", "total", "kind")}
            | {"line_id": line["id"], "options": [option["id"] for option in line["options"]]}
            for line in template["lines"]
        ],
        "totals": template["totals"] | {"vat": list(template["totals"]["vat"])},
        "gift_card_amount": 0,
        "gift_cards": [],
        "cards_sold": [],
        "fulfilment_type": "pickup",
        "customer": {"name": "0" * 64, "email": "0" * 64},  # pseudonyms
    }
    docs: list[tuple[str, dict]] = []
    prev = GENESIS_HASH
    payouts: dict[str, dict] = {}
    for n in range(STATEMENT_ORDERS):
        at = FIRST_ORDER_AT + n * SPACING
        order_id, payment_id, invoice = f"ord_st{n:012d}", f"pay_sbx_st{n:012d}", f"ST-2026-{n + 1:06d}"
        day = store.business_day(at).isoformat()
        docs.append(
            (
                f"orders/{order_id}",
                template
                | {
                    "id": order_id,
                    "store_id": STORE_ID,
                    "number": n + 1,
                    "invoice_number": invoice,
                    "payment": template["payment"] | {"id": payment_id},
                    "created_at": at,
                    "updated_at": at,
                    "business_day": day,
                },
            )
        )
        docs.append(
            (
                f"payments/{payment_id}",
                {
                    "store_id": STORE_ID,
                    "order_id": order_id,
                    "provider": "sandbox",
                    "amount": 840,
                    "currency": "EUR",
                    "created_at": at,
                },
            )
        )
        sale = {
            "payment_method": "online",
            "total": 840,
            "tip": 0,
            "gift_card_amount": 0,
            "giftcards_sold": 0,
            "vat": VAT,
        }
        placed = {
            "order_id": order_id,
            "number": n + 1,
            "business_day": day,
            "status": "awaiting_payment",
            "payment_method": "online",
            "payment_id": payment_id,
            "invoice_number": None,
            "currency": "EUR",
            **journaled,
        }
        paid = {
            "order_id": order_id,
            "payment_id": payment_id,
            "event_id": f"evt_{n}",
            "provider": "sandbox",
            "amount": 840,
            "currency": "EUR",
            "invoice_number": invoice,
            "sale": sale,
        }
        for event, moment in ((JournalEvent("order.placed", placed), at), (JournalEvent("order.paid", paid), at)):
            entry = make_entry(
                store_id=STORE_ID,
                seq=2 * n + (1 if event.type == "order.placed" else 2),
                event=event,
                at=moment.isoformat(timespec="microseconds"),
                actor={"type": "customer"} if event.type == "order.placed" else {"type": "provider"},
                prev_hash=prev,
            )
            prev = entry["hash"]
            docs.append((f"stores/{STORE_ID}/journal/{entry['seq']:012d}", entry))
        if n % 3:
            payout_id = f"po_st_{day}"
            arrival = (date.fromisoformat(day) + timedelta(days=2)).isoformat()
            payout = payouts.setdefault(
                payout_id,
                {
                    "provider": "sandbox",
                    "payout_id": payout_id,
                    "arrival_date": arrival,
                    "amount": 0,
                    "currency": "EUR",
                    "fee": 0,
                    "item_count": 0,
                    "conflicts": [],
                },
            )
            payout["amount"] += 840 - 25
            payout["fee"] += 25
            payout["item_count"] += 1
            docs.append(
                (
                    f"payout_matches/payment:{payment_id}",
                    {
                        "provider": "sandbox",
                        "kind": "payment",
                        "object_id": payment_id,
                        "payment_id": payment_id,
                        "payout_id": payout_id,
                        "arrival_date": arrival,
                        "amount": 840,
                        "fee": 25,
                        "net": 815,
                        "currency": "EUR",
                        "matched_at": at,
                    },
                )
            )
    docs += [(f"payouts/sandbox:{payout_id}", payout) for payout_id, payout in payouts.items()]
    return docs


def load(db, documents: list[tuple[str, dict]]) -> float:
    def write(start: int) -> None:
        batch = db.batch()
        for path, doc in documents[start : start + BATCH]:
            batch.set(db.document(path), doc)
        batch.commit()

    began = time.perf_counter()
    with ThreadPoolExecutor(LOADERS) as pool:
        list(pool.map(write, range(0, len(documents), BATCH)))
    return time.perf_counter() - began


def bare_read(db, store) -> tuple[int, float]:
    from tresen.adapters.finance_store import DocumentBooks
    from tresen.adapters.firestore_documents import FirestoreDocuments
    from tresen.services.exports import local_days

    start, end = local_days(FIRST_DAY, LAST_DAY, store)
    began = time.perf_counter()
    count = sum(len(page) for page in DocumentBooks(FirestoreDocuments(db)).order_pages(store.id, start, end))
    return count, time.perf_counter() - began


def make_statement(api_url: str) -> tuple[dict, float]:
    session = api_session()
    began = time.perf_counter()
    response = session.post(
        f"{api_url}/v1/stores/{STORE_ID}/statements",
        json={"from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat()},
        headers=staff_headers(STORE_ID) | {"Idempotency-Key": str(uuid.uuid4())},  # an owner
        timeout=1200,
    )
    elapsed = time.perf_counter() - began
    response.raise_for_status()
    return response.json(), elapsed


def measure_statements(stack, db, progress=print) -> StatementFigures:
    from tresen.adapters.archive import MemoryArchive
    from tresen.adapters.backend import Backend
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    store = replace(DEMO_STORE, id=STORE_ID)
    seed_store(SeedStore(store, DEMO_PRODUCTS), Backend(db, None, MemoryArchive()))
    load_s = load(db, week_of_documents(store))
    progress(f"   a week of {STATEMENT_ORDERS:,} orders loaded in {load_s:.1f} s")
    orders, bare_s = bare_read(db, store)
    assert orders == STATEMENT_ORDERS, f"the bare read found {orders} orders"
    with RssWatch(stack.process.pid) as rss:
        statement, statement_s = make_statement(stack.url)
    assert statement["counts"]["payments"] == STATEMENT_ORDERS, statement["counts"]
    progress(
        f"   statement {statement_s:.1f} s, bare read {bare_s:.1f} s, "
        f"peak RSS {rss.peak_kb / 1024:.0f} MB (before {rss.before_kb / 1024:.0f} MB)"
    )
    return StatementFigures(
        orders=STATEMENT_ORDERS,
        load_s=load_s,
        statement_s=statement_s,
        bare_s=bare_s,
        rss_before_mb=rss.before_kb / 1024,
        peak_rss_mb=rss.peak_kb / 1024,
        payments=statement["counts"]["payments"],
        unmatched=statement["counts"]["unmatched"],
    )


def record_statements(figures: StatementFigures) -> None:
    from bench.report import Info, Ratio, add_to_results, print_table

    ratios = [
        Ratio(
            "statement_vs_bare_read",
            f"statement over {figures.orders:,} orders (vs reading them bare)",
            figures.statement_s,
            figures.bare_s,
            "s",
            2,
            at_most=True,
        ),
        Ratio(
            "statement_peak_rss_vs_300_mb",
            "server peak RSS while making the statement (vs 300 MB)",
            figures.peak_rss_mb,
            300,
            "MB",
            1,
            at_most=True,
        ),
    ]
    print_table([*ratios, Info("server RSS before the statement (vs 300 MB)", figures.rss_before_mb, 300, "MB")])
    add_to_results(
        {
            "statement_orders": figures.orders,
            "statement_load_s": round(figures.load_s, 3),
            "statement_s": round(figures.statement_s, 3),
            "statement_bare_read_s": round(figures.bare_s, 3),
            "statement_rss_before_mb": round(figures.rss_before_mb, 1),
            "statement_peak_rss_mb": round(figures.peak_rss_mb, 1),
            "statement_unmatched": figures.unmatched,
        },
        ratios,
    )
