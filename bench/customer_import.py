"""A customer list of 100 000 rows imported through the running stack's API, against writing the same
documents bare; and the server's peak memory while it imports.

The list is what a shop exports: names with umlauts, e-mail, a German mobile number, a birthday, the
newsletter column; every row a new customer. The import (a real run) reads it, decides each row
against the store (two batched reads a chunk) and commits chunk by chunk with its progress. The
bare baseline writes the same documents — each record and its two contact claims, in commits of the
same size, one after the other as the import does — from this process, deciding nothing.
"""

from __future__ import annotations

import io
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bench.client import api_session, staff_headers
from bench.exports import RssWatch

IMPORT_ROWS = 100_000
STORE_ID = "customers"
BARE_STORE_ID = "customers-bare"
POLL_S = 0.5


@dataclass(frozen=True)
class ImportFigures:
    rows: int
    csv_bytes: int
    import_s: float
    bare_s: float
    rss_before_mb: float
    peak_rss_mb: float


def customer_list() -> bytes:
    """The list as Windows-1252 with `;`, as spreadsheet programs in Germany save it."""
    lines = ["Vorname;Nachname;E-Mail;Telefon;Geburtstag;Newsletter"]
    for n in range(IMPORT_ROWS):
        lines.append(
            f"Jörg{n};Müller-Lüdenscheidt;kunde{n}@example.com;0171 {1_000_000 + n:07d};"
            f"{1 + n % 28:02d}.{1 + n % 12:02d}.{1950 + n % 50};{'ja' if n % 3 else 'nein'}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def import_list(api_url: str, csv: bytes) -> float:
    """Seconds from posting the list to the import saying `done`."""
    session = api_session()
    headers = staff_headers(STORE_ID) | {"Content-Type": "text/csv", "Idempotency-Key": str(uuid.uuid4())}
    began = time.perf_counter()
    started = session.post(f"{api_url}/v1/stores/{STORE_ID}/customer-imports", data=csv, headers=headers, timeout=120)
    assert started.status_code == 202, started.text
    path = f"{api_url}/v1/stores/{STORE_ID}/customer-imports/{started.json()['import_id']}"
    while (state := session.get(path, headers=staff_headers(STORE_ID), timeout=30).json())["status"] == "running":
        time.sleep(POLL_S)
    elapsed = time.perf_counter() - began
    assert (state["status"], state["create"], state["errors"]) == ("done", IMPORT_ROWS, 0), state
    return elapsed


def bare_writes(db, csv: bytes) -> float:
    """Seconds to write what the import writes, in the same commits, deciding nothing."""
    from tresen.adapters.customer_store import contact_path, customer_path, customer_to_doc
    from tresen.adapters.repository import pii_key_path
    from tresen.domain.customer_csv import read_customer_csv
    from tresen.domain.customers import Customer, record_contact_keys
    from tresen.services.customer_imports import CHUNK_ROWS

    pii_key = db.document(pii_key_path(BARE_STORE_ID)).get().to_dict()["pii_key"]
    _, rows = read_customer_csv(io.BytesIO(csv))
    began = time.perf_counter()
    batch, in_batch = db.batch(), 0
    for n, row in enumerate(rows):
        now = datetime.now(UTC)
        fields = replace(row.fields, email_marketing=None)
        customer = Customer(f"cus_bare{n:010d}", BARE_STORE_ID, fields, None, (), 1, now, now)
        batch.set(db.document(customer_path(BARE_STORE_ID, customer.id)), customer_to_doc(customer))
        for key in record_contact_keys(pii_key, fields):
            batch.set(db.document(contact_path(BARE_STORE_ID, key)), {"customer_id": customer.id})
        in_batch += 1
        if in_batch == CHUNK_ROWS:
            batch.commit()
            batch, in_batch = db.batch(), 0
    if in_batch:
        batch.commit()
    return time.perf_counter() - began


def measure_customer_import(stack, db, progress=print) -> ImportFigures:
    from tresen.adapters.archive import MemoryArchive
    from tresen.adapters.backend import Backend
    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    for store_id in (STORE_ID, BARE_STORE_ID):
        seed_store(SeedStore(replace(DEMO_STORE, id=store_id), DEMO_PRODUCTS), Backend(db, None, MemoryArchive()))
    csv = customer_list()
    bare_s = bare_writes(db, csv)
    progress(f"   bare: {IMPORT_ROWS:,} records and their contacts written in {bare_s:.1f} s")
    with RssWatch(stack.process.pid) as rss:  # `tresen dev` serves the API from its own process
        import_s = import_list(stack.url, csv)
    progress(
        f"   import: {IMPORT_ROWS:,} rows in {import_s:.1f} s, peak RSS {rss.peak_kb / 1024:.0f} MB "
        f"(before {rss.before_kb / 1024:.0f} MB, VmHWM reset: {rss.hwm_reset})"
    )
    return ImportFigures(IMPORT_ROWS, len(csv), import_s, bare_s, rss.before_kb / 1024, rss.peak_kb / 1024)


def import_ratios(figures: ImportFigures) -> list:
    from bench.report import Ratio

    return [
        Ratio(
            "customer_import_vs_bare_writes_rows_per_s",
            f"customer import of {figures.rows:,} rows (vs the same documents written bare)",
            figures.rows / figures.import_s,
            figures.rows / figures.bare_s,
            "rows/s",
            0.5,
            at_most=False,
        ),
        Ratio(
            "customer_import_peak_rss_vs_250_mb",
            "server peak RSS during the import (vs 250 MB)",
            figures.peak_rss_mb,
            250,
            "MB",
            1,
            at_most=True,
        ),
    ]


def record_customer_import(figures: ImportFigures) -> None:
    from bench.report import add_to_results, print_table

    ratios = import_ratios(figures)
    print_table(ratios)
    add_to_results(
        {
            "customer_import_rows": figures.rows,
            "customer_import_csv_bytes": figures.csv_bytes,
            "customer_import_s": round(figures.import_s, 2),
            "customer_import_rows_per_s": round(figures.rows / figures.import_s, 1),
            "customer_bare_writes_rows_per_s": round(figures.rows / figures.bare_s, 1),
            "customer_import_rss_before_mb": round(figures.rss_before_mb, 1),
            "customer_import_peak_rss_mb": round(figures.peak_rss_mb, 1),
        },
        ratios,
    )


def main() -> int:
    """`python -m bench.customer_import`: this step alone, on a stack of its own; `--record` adds it."""
    import sys

    from tests.stack import RunningStack

    from bench.run import firestore_client

    with RunningStack() as stack:
        figures = measure_customer_import(stack, firestore_client(stack))
    if "--record" in sys.argv[1:]:
        record_customer_import(figures)
    else:
        from bench.report import print_table

        print_table(import_ratios(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
