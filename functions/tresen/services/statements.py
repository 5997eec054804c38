"""Statements (CONTRACT §7 "Statement"): build one for some business days, archive its files
create-only with a signed manifest, journal it, and hand out fresh download links.

Order of work, so that nothing is lost and nothing half-made is ever listed: the statement is
built, its files are written to `statements/{store}/{id}/` (a new id each time, so create-only
writes never meet an older object), and only then are the statement's document and its
`statement.created` journal entry committed together. A failure before the commit leaves at most
unreferenced objects under an id nobody knows; the request answers 503 and is retried (with the
same Idempotency-Key, the client gets the statement that was made, once).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..adapters import repository as repo
from ..adapters.archive import ArchiveConflict
from ..adapters.backend import Backend
from ..adapters.clock import new_id, rfc3339
from ..adapters.signed_urls import DOWNLOAD_VALIDITY
from .unit_of_work import Plan
from .unit_of_work import RetryLater
from .unit_of_work import Writes
from ..adapters.records import statement_path
from ..domain import statements as st
from ..domain.catalog import BUSINESS_DAY_STARTS, Store
from ..domain.closings import FIGURE_FIELDS
from ..domain.datev import BOOKING_FIELDS, BookingCollector
from ..domain.errors import DomainError
from ..domain.journal import JournalEvent
from ..domain.signed_note import sign_note
from .checkpoints import origin, register_signing_key
from .closings import closings_between
from .csv_export import csv_document
from .datev_export import datev_download
from .documents import Documents
from .exports import days_from, journal_entries
from .orders import catalog_or_404
from .payouts import matches_for

log = logging.getLogger(__name__)
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
READERS = 4  # days of the journal read at once
# Only what the statement reads of each entry: an order's lines and customer stay in Firestore.
ENTRY_FIELDS = sorted({*FIGURE_FIELDS, *st.ITEM_FIELDS, *BOOKING_FIELDS})


def object_name(store_id: str, statement_id: str, name: str) -> str:
    return f"statements/{store_id}/{statement_id}/{name}"


def business_days(store: Store, first: date, last: date) -> tuple[datetime, datetime]:
    """[05:00 of `first`, 05:00 after `last`) store time, in UTC: the closings' business days."""
    return days_from(first, last, store, BUSINESS_DAY_STARTS, "")


def complete_refunds(docs: Documents, items: st.ProviderItems) -> None:
    """What the refund entries of the period do not say themselves: the provider, the provider's
    refund id when its confirmation was journaled later, and the invoice of the order refunded."""
    if not items.refunds:
        return
    refunds = docs.get_all([repo.refund_path(refund_id) for refund_id in items.refunds])
    orders = docs.get_all(list({repo.order_path(line["order_id"]) for line in items.refunds.values()}))
    invoices = {found.id: found.data.get("invoice_number") for found in orders if found}
    for found in refunds:
        if found is None:
            continue
        line = items.refunds[found.id]
        line["provider"] = found.data["provider"]
        line["provider_refund_id"] = line["provider_refund_id"] or found.data.get("provider_refund_id")
        line["invoice_number"] = invoices.get(line["order_id"])


def payouts_named(docs: Documents, matches: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    paths = sorted({f"payouts/{match['provider']}:{match['payout_id']}" for match in matches})
    return [found.data for found in docs.get_all(paths) if found]


def period_entries(docs: Documents, store: Store, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """The period's entries in time order, only the fields a statement reads. The period is read as
    24-hour slices, READERS side by side (a range read waits on the database far more than it
    works), handed on slice after slice, so at most READERS slices are held at once."""
    slices = []
    while start < end:
        slices.append((start, min(start + timedelta(days=1), end)))
        start = slices[-1][1]

    def read(span: tuple[datetime, datetime]) -> list[dict[str, Any]]:
        return list(journal_entries(docs, store, *span, ENTRY_FIELDS))

    with ThreadPoolExecutor(READERS, thread_name_prefix="statement-read") as pool:
        pending = deque(pool.submit(read, span) for span in slices[:READERS])
        for span in slices[READERS:]:
            yield from pending.popleft().result()
            pending.append(pool.submit(read, span))
        while pending:
            yield from pending.popleft().result()


def build(
    backend: Backend, store: Store, first: date, last: date, statement_id: str, now: datetime
) -> tuple[dict, BookingCollector]:
    """The statement, and the DATEV bookings of its entries (collected in the same single read)."""
    docs = backend.docs
    start, end = business_days(store, first, last)
    items, bookings = st.ProviderItems(), BookingCollector(store.id, store.zone)
    figures = st.statement_figures(items.gather(bookings.gather(period_entries(docs, store, start, end))))
    complete_refunds(docs, items)
    payment_matches = matches_for(docs, "payment", items.payments)
    refund_matches = matches_for(
        docs, "refund", [r["provider_refund_id"] for r in items.refunds.values() if r["provider_refund_id"]]
    )
    head = {
        "id": statement_id,
        "store_id": store.id,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "created_at": rfc3339(store.local(now)),
        "currency": store.currency,
        "store": {"name": store.name, "address": list(store.address), "timezone": store.timezone},
    }
    statement = st.build_statement(
        head,
        items,
        figures,
        (payment_matches, refund_matches),
        payouts_named(docs, [*payment_matches.values(), *refund_matches.values()]),
        closings_between(docs, store.id, first, last),
    )
    return statement, bookings


def statement_files(
    backend: Backend, store: Store, statement: Mapping[str, Any], bookings: BookingCollector
) -> dict[str, bytes]:
    """JSON, CSV, PDF and DATEV. The DATEV file's period is the calendar days its bookings fall on:
    the business days, and the night after the last of them up to 05:00."""
    from ..domain.statement_pdf import render_statement

    stem = f"statement-{store.id}-{statement['from']}-{statement['to']}"
    first, last = date.fromisoformat(statement["from"]), date.fromisoformat(statement["to"])
    ours = frozenset(line["payment_id"] for line in statement["payments"])
    datev = datev_download(backend, store, bookings, first, last + timedelta(days=1), ours)
    datev_name = f"{stem}-datev{datev.filename[datev.filename.rfind('.') :]}"
    return {
        f"{stem}.json": st.statement_json(statement),
        f"{stem}.csv": csv_document(list(st.CSV_COLUMNS), st.csv_rows(statement)).encode(),
        f"{stem}.pdf": render_statement(statement),
        datev_name: datev.read_all(),
    }


def archive_files(backend: Backend, store_id: str, statement_id: str, files: Mapping[str, bytes]) -> None:
    """Each file create-only; a bucket that does not answer is 503 (the client retries)."""
    try:
        for name, content in files.items():
            backend.archive.store.put(object_name(store_id, statement_id, name), content)
    except ArchiveConflict:
        raise
    except Exception as error:
        log.warning("statement %s of store %s: archive write failed: %r", statement_id, store_id, error)
        raise RetryLater("the archive bucket did not take the statement's files") from error


def create_statement(
    backend: Backend,
    store_id: str,
    first: date,
    last: date,
    actor: Mapping[str, Any],
) -> dict[str, Any]:
    """A new statement of the business days `first`..`last`: its summary (the document kept)."""
    store, _ = catalog_or_404(backend, store_id)
    now = backend.now()
    statement_id = new_id("stm_")
    statement, bookings = build(backend, store, first, last, statement_id, now)
    files = statement_files(backend, store, statement, bookings)
    listed = [st.file_entry(name, content) for name, content in files.items()]
    manifest = st.manifest_bytes(statement_id, store_id, (statement["from"], statement["to"]), listed)
    verifier = backend.signer.verifier
    note = sign_note(
        st.manifest_note_text(origin(store_id), statement_id, manifest),
        verifier.name,
        backend.signer.sign,
        verifier.key_id,
    )
    register_signing_key(backend, now)
    archive_files(backend, store_id, statement_id, files | {MANIFEST: manifest, SIGNATURE: note.encode()})
    summary = {
        key: statement[key] for key in ("id", "store_id", "from", "to", "created_at", "currency", "totals", "closings")
    } | {
        "created_by": dict(actor),
        "counts": {
            name: len(statement[name]) for name in ("payments", "refunds", "unmatched", "mismatched", "payouts")
        },
        "files": [*listed, st.file_entry(MANIFEST, manifest), st.file_entry(SIGNATURE, note.encode())],
        "manifest_sha256": st.file_entry(MANIFEST, manifest)["sha256"],
        "key_id": verifier.key_id.hex(),
    }

    def plan(_claims) -> Plan[dict[str, Any]]:
        writes = Writes(dict(actor))
        writes.new_statement(summary)
        return Plan(summary, now, actor, [JournalEvent("statement.created", summary)], writes)

    return backend.commit(store_id, plan).result


def statement_at(docs: Documents, store_id: str, statement_id: str) -> dict[str, Any]:
    found = docs.get(statement_path(store_id, statement_id))
    if found is None:
        raise DomainError("statement_not_found", f"Store {store_id} has no statement {statement_id}.")
    return found.data


def with_download_links(backend: Backend, store_id: str, statement: Mapping[str, Any]) -> dict[str, Any]:
    """The statement with a fresh signed URL for each of its files, valid DOWNLOAD_VALIDITY."""
    expires = rfc3339(backend.now().astimezone(UTC) + DOWNLOAD_VALIDITY)
    files = [
        file
        | {
            "url": backend.archive.store.signed_url(object_name(store_id, statement["id"], file["name"]), file["name"]),
            "expires_at": expires,
        }
        for file in statement["files"]
    ]
    return dict(statement) | {"files": files}
