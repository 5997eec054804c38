"""The CSV export of 100 000 orders through the running stack's HTTP endpoint: its speed against a
bare stream of the same documents read the same way (the same paged query, unformatted, in this
process), and the server's peak memory while it streams.

The orders are written straight into the emulator in batches of 500, each the document
`place_order` writes for a paid online order (built from the domain's own order and
`order_to_doc`), with its own id, number, invoice number, payment and time: placing 100 000
orders through the API would take the bench far longer and measure something else. The bare
stream runs first, then the export, ROUNDS times, and the better run of each counts. One round by
default: the emulator scans the whole collection for every page, so a pass over 100 000 orders
takes minutes (both sides alike; on Firestore a page costs what it returns).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.client import api_session, staff_headers

EXPORT_ORDERS = 100_000
BATCH = 500  # documents per commit: Firestore's limit per batch
LOADERS = 8
ROUNDS = 1
STORE_ID = "exports"
FIRST_ORDER_AT = datetime(2026, 3, 2, 8, tzinfo=UTC)
SPACING = timedelta(seconds=3)  # 100 000 orders over three and a half days
FIRST_DAY, LAST_DAY = date(2026, 3, 1), date(2026, 3, 7)
RSS_SAMPLE_S = 0.01


@dataclass(frozen=True)
class ExportFigures:
    orders: int
    load_s: float
    export_rows: int
    export_bytes: int
    export_rows_per_s: float
    bare_rows_per_s: float
    rss_before_mb: float
    peak_rss_mb: float


def template_doc() -> dict:
    """A paid online order as `place_order` and the payment webhook leave its document."""
    from tresen.adapters.repository import order_to_doc
    from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest, PaymentRef, new_order, price_cart
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE

    request = OrderRequest(
        items=(CartItem("croissant", 2), CartItem("cappuccino", 1, ("oat",))),
        fulfilment=Fulfilment("pickup"),
        customer=Customer("Bench", "bench@example.com"),
        payment_method="online",
    )
    cart = price_cart({p.id: p for p in DEMO_PRODUCTS}, request.items, tip=0)
    store = replace(DEMO_STORE, id=STORE_ID)
    placed = new_order(
        order_id="ord_template",
        store=store,
        request=request,
        cart=cart,
        number=1,
        now=FIRST_ORDER_AT,
        payment=PaymentRef("pay_sbx_template", "sandbox", "requires_payment"),
    )
    paid = replace(placed, status="paid", payment_status="paid", expires_at=None, invoice_number="EXP-2026-000001")
    return order_to_doc(paid, access_token_hash="0" * 64)


def order_doc(template: dict, n: int, store) -> tuple[str, dict]:
    """The n-th order: the template with its own id, number, invoice, payment and time."""
    at = FIRST_ORDER_AT + n * SPACING
    order_id = f"ord_{n:020d}"
    return order_id, template | {
        "id": order_id,
        "number": n + 1,
        "invoice_number": f"EXP-2026-{n + 1:06d}",
        "payment": template["payment"] | {"id": f"pay_sbx_{n:020d}"},
        "created_at": at,
        "updated_at": at,
        "business_day": store.business_day(at).isoformat(),
    }


def load_orders(db, store) -> float:
    """Seconds to write EXPORT_ORDERS order documents, in batches of BATCH from LOADERS threads."""
    template = template_doc()

    def write_batch(start: int) -> None:
        batch = db.batch()
        for n in range(start, min(start + BATCH, EXPORT_ORDERS)):
            order_id, doc = order_doc(template, n, store)
            batch.set(db.document(f"orders/{order_id}"), doc)
        batch.commit()

    began = time.perf_counter()
    with ThreadPoolExecutor(LOADERS) as pool:
        list(pool.map(write_batch, range(0, EXPORT_ORDERS, BATCH)))
    return time.perf_counter() - began


class RssWatch:
    """The peak resident memory of a process while it runs: its VmHWM, reset first where the kernel
    allows (/proc/PID/clear_refs, "5"), and VmRSS sampled every 10 ms in case it does not."""

    def __init__(self, pid: int):
        self.status = Path(f"/proc/{pid}/status")
        self.clear_refs = Path(f"/proc/{pid}/clear_refs")
        self.before_kb = self.read("VmRSS")
        self.sampled_kb = self.before_kb
        self.hwm_reset = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss", daemon=True)

    def read(self, field: str) -> int:
        for line in self.status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise RuntimeError(f"no {field} in {self.status}")

    def _sample(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_S):
            self.sampled_kb = max(self.sampled_kb, self.read("VmRSS"))

    def __enter__(self) -> RssWatch:
        try:
            self.clear_refs.write_text("5")
            self.hwm_reset = True
        except OSError:
            pass
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.sampled_kb = max(self.sampled_kb, self.read("VmRSS"))

    @property
    def peak_kb(self) -> int:
        return max(self.sampled_kb, self.read("VmHWM")) if self.hwm_reset else self.sampled_kb


def export_csv(api_url: str) -> tuple[int, int, float]:
    """(rows, bytes, seconds) of the CSV export of the whole range, read as it streams."""
    session = api_session()
    began = time.perf_counter()
    with session.get(
        f"{api_url}/v1/stores/{STORE_ID}/export/orders",
        params={"format": "csv", "from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat()},
        headers=staff_headers(STORE_ID),
        stream=True,
        timeout=600,
    ) as response:
        response.raise_for_status()
        lines = size = 0
        for chunk in response.iter_content(chunk_size=1 << 16):
            lines += chunk.count(b"\n")
            size += len(chunk)
    return lines - 1, size, time.perf_counter() - began  # the header is not a row


def bare_stream(db, store) -> tuple[int, float]:
    """(documents, seconds): the export's own paged query over the same range, nothing formatted."""
    from tresen.adapters.finance_store import DocumentBooks
    from tresen.adapters.firestore_documents import FirestoreDocuments
    from tresen.services.exports import local_days

    start, end = local_days(FIRST_DAY, LAST_DAY, store)
    began = time.perf_counter()
    count = sum(len(page) for page in DocumentBooks(FirestoreDocuments(db)).order_pages(store.id, start, end))
    return count, time.perf_counter() - began


def measure_exports(stack, db, progress=print) -> ExportFigures:
    from tresen.adapters.archive import MemoryArchive
    from tresen.adapters.backend import Backend
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    store = replace(DEMO_STORE, id=STORE_ID)
    seed_store(SeedStore(store, DEMO_PRODUCTS), Backend(db, None, MemoryArchive()))
    load_s = load_orders(db, store)
    progress(f"   {EXPORT_ORDERS:,} orders loaded in {load_s:.1f} s")
    pid = stack.process.pid  # `tresen dev` serves the API from its own process
    export_rates, bare_rates, peaks = [], [], []
    rows = size = 0
    rss_before_kb = 0
    for round_ in range(1, ROUNDS + 1):
        documents, bare_s = bare_stream(db, store)
        assert documents == EXPORT_ORDERS, f"the bare stream read {documents} documents"
        bare_rates.append(documents / bare_s)
        with RssWatch(pid) as rss:
            rows, size, export_s = export_csv(stack.url)
        assert rows == EXPORT_ORDERS, f"the export has {rows} rows"
        export_rates.append(rows / export_s)
        peaks.append(rss.peak_kb)
        rss_before_kb = rss_before_kb or rss.before_kb
        progress(
            f"   round {round_}: export {rows / export_s:,.0f} rows/s, bare stream {documents / bare_s:,.0f} rows/s, "
            f"peak RSS {rss.peak_kb / 1024:.0f} MB (before {rss.before_kb / 1024:.0f} MB, VmHWM reset: {rss.hwm_reset})"
        )
    return ExportFigures(
        orders=EXPORT_ORDERS,
        load_s=load_s,
        export_rows=rows,
        export_bytes=size,
        export_rows_per_s=max(export_rates),
        bare_rows_per_s=max(bare_rates),
        rss_before_mb=rss_before_kb / 1024,
        peak_rss_mb=max(peaks) / 1024,
    )


def export_ratios(figures: ExportFigures) -> list:
    from bench.report import Ratio

    return [
        Ratio(
            "export_csv_vs_bare_stream_rows_per_s",
            f"CSV export of {figures.orders:,} orders (vs bare stream)",
            figures.export_rows_per_s,
            figures.bare_rows_per_s,
            "rows/s",
            0.7,
            at_most=False,
        ),
        Ratio(
            "export_rss_before_vs_200_mb",
            "server RSS before the export (vs 200 MB)",  # what earlier work (a statement) left behind
            figures.rss_before_mb,
            200,
            "MB",
            1,
            at_most=True,
        ),
        Ratio(
            "export_peak_rss_vs_200_mb",
            "server peak RSS during the export (vs 200 MB)",
            figures.peak_rss_mb,
            200,
            "MB",
            1,
            at_most=True,
        ),
    ]


def record_exports(figures: ExportFigures) -> None:
    from bench.report import add_to_results, print_table

    ratios = export_ratios(figures)
    print_table(ratios)
    add_to_results(
        {
            "export_orders": figures.orders,
            "export_load_s": round(figures.load_s, 3),
            "export_rows": figures.export_rows,
            "export_bytes": figures.export_bytes,
            "export_rows_per_s": round(figures.export_rows_per_s, 1),
            "export_bare_stream_rows_per_s": round(figures.bare_rows_per_s, 1),
            "export_rss_before_mb": round(figures.rss_before_mb, 1),
            "export_peak_rss_mb": round(figures.peak_rss_mb, 1),
        },
        ratios,
    )


def main() -> int:
    """`python -m bench.exports`: this step alone, on a stack of its own; `--record` adds it to results.json."""
    import sys

    from tests.stack import RunningStack

    from bench.run import firestore_client

    with RunningStack() as stack:
        figures = measure_exports(stack, firestore_client(stack))
    if "--record" in sys.argv[1:]:
        record_exports(figures)
    else:
        from bench.report import print_table

        print_table(export_ratios(figures))
    return 0 if all(ratio.meets_target for ratio in export_ratios(figures)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
