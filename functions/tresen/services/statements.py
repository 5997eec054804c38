"""Statements: build one for some business days, archive its files create-only with a signed
manifest, journal it, and hand out fresh download links.

Order of work, so that nothing is lost and nothing half-made is ever listed: the statement is
built, its files are archived under a new statement id (so create-only writes never meet an older
file), and only then are the statement's summary and its `statement.created` journal entry
committed together. A failure before the commit leaves at most unreferenced files under an id
nobody knows; the request answers 503 and is retried (with the same Idempotency-Key, the client
gets the statement that was made, once).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from ..domain import statements as st
from ..domain.catalog import BUSINESS_DAY_STARTS, Store
from ..domain.closings import FIGURE_FIELDS
from ..domain.datev import BOOKING_FIELDS, BookingCollector
from ..domain.errors import DomainError
from ..domain.events import StatementCreated
from ..domain.journal import JournalEvent, rfc3339
from ..domain.payouts import PAYMENT, REFUND
from ..domain.signed_note import sign_note
from .checkpoints import origin, register_signing_key
from .downloads import in_memory
from .exports import days_from
from .finance_ports import Books, Entry, FinanceUnitOfWork
from .journal_ports import ArchiveConflict
from .order_ports import catalog_or_404
from .statement_files import STATEMENT_FILES, BuiltStatement
from .unit_of_work import Claims, Plan, RetryLater, Writes

log = logging.getLogger(__name__)
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
READERS = 4  # days of the journal read at once
# Only what the statement reads of each entry: an order's lines and customer are left unread.
ENTRY_FIELDS = sorted({*FIGURE_FIELDS, *st.ITEM_FIELDS, *BOOKING_FIELDS})
SUMMARY_FIELDS = ("id", "store_id", "from", "to", "created_at", "currency", "totals", "closings")
COUNTED = ("payments", "refunds", "unmatched", "mismatched", "payouts")


@dataclass(frozen=True)
class CreateStatement:
    store_id: str
    first: date  # the first business day
    last: date  # the last business day (inclusive)
    actor: Mapping[str, Any]


def create_statement(command: CreateStatement, uow: FinanceUnitOfWork) -> dict[str, Any]:
    """A new statement of the business days `first`..`last`: its summary (what is kept and journaled)."""
    store, _ = catalog_or_404(uow, command.store_id)
    now, actor = uow.now(), command.actor
    statement_id = uow.new_id("stm_")
    head, listed = made_and_archived(uow, store, command, statement_id, now)
    manifest = st.manifest_bytes(statement_id, store.id, (head["from"], head["to"]), listed)
    signature = signed_manifest(uow, store.id, statement_id, manifest)
    register_signing_key(uow, now)
    archive_files(uow, store.id, statement_id, {MANIFEST: manifest, SIGNATURE: signature})
    summary = head | {
        "created_by": dict(actor),
        "files": [*listed, st.file_entry(MANIFEST, manifest), st.file_entry(SIGNATURE, signature)],
        "manifest_sha256": st.file_entry(MANIFEST, manifest)["sha256"],
        "key_id": uow.signer.verifier.key_id.hex(),
    }

    def plan(_claims: Claims) -> Plan[dict[str, Any]]:
        writes = Writes(actor)
        writes.new_statement(summary)
        return Plan(summary, now, actor, [JournalEvent.of(StatementCreated.model_validate(summary))], writes)

    return uow.commit(store.id, plan).result


def made_and_archived(
    uow: FinanceUnitOfWork, store: Store, command: CreateStatement, statement_id: str, now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the statement's summary fields and counts, the manifest's entry of each file). Each file is
    archived as soon as it is made and dropped before the next: a statement of tens of thousands of
    payments would otherwise hold all four at once, and the statement itself is dropped here too."""
    statement, bookings = build(uow, store, command.first, command.last, statement_id, now)
    head = {key: statement[key] for key in SUMMARY_FIELDS} | {
        "counts": {name: len(statement[name]) for name in COUNTED}
    }
    built, listed = BuiltStatement(store, statement, bookings), []
    for exporter in STATEMENT_FILES:
        attachment, content = in_memory(partial(exporter.render, built, uow))
        archive_files(uow, store.id, statement_id, {attachment.file_name: content})
        listed.append(st.file_entry(attachment.file_name, content))
    return head, listed


def read_statement(uow: FinanceUnitOfWork, store_id: str, statement_id: str) -> dict[str, Any]:
    """The statement with a fresh download link for each of its files."""
    statement = uow.statements.read(store_id, statement_id)
    if statement is None:
        raise DomainError("statement_not_found", f"Store {store_id} has no statement {statement_id}.")
    archive = uow.statement_archive
    expires = rfc3339(uow.now().astimezone(UTC) + archive.link_validity)
    files = [
        file | {"url": archive.download_link(store_id, statement_id, file["name"]), "expires_at": expires}
        for file in statement["files"]
    ]
    return statement | {"files": files}


def build(
    uow: FinanceUnitOfWork, store: Store, first: date, last: date, statement_id: str, now: datetime
) -> tuple[dict, BookingCollector]:
    """The statement, and the DATEV bookings of its entries (collected in the same single read)."""
    start, end = business_days(store, first, last)
    items, bookings = st.ProviderItems(), BookingCollector(store.id, store.zone)
    figures = st.statement_figures(items.gather(bookings.gather(period_entries(uow.books, store, start, end))))
    complete_refunds(uow.books, items)
    payment_matches = uow.payouts.matches(PAYMENT, items.payments)
    refunded = [line["provider_refund_id"] for line in items.refunds.values() if line["provider_refund_id"]]
    refund_matches = uow.payouts.matches(REFUND, refunded)
    matched = [*payment_matches.values(), *refund_matches.values()]
    paid_out = {(match["provider"], match["payout_id"]) for match in matched}
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
        uow.payouts.named(paid_out),
        [closing.as_dict() for closing in uow.books.closings(store.id, first, last)],
    )
    return statement, bookings


def business_days(store: Store, first: date, last: date) -> tuple[datetime, datetime]:
    """[05:00 of `first`, 05:00 after `last`) store time, in UTC: the closings' business days."""
    return days_from(first, last, store, BUSINESS_DAY_STARTS, "")


def period_entries(books: Books, store: Store, start: datetime, end: datetime) -> Iterator[Entry]:
    """The period's entries in time order, only the fields a statement reads. The period is read as
    24-hour slices, READERS side by side (a range read waits on the database far more than it
    works), handed on slice after slice, so at most READERS slices are held at once."""
    slices = []
    while start < end:
        slices.append((start, min(start + timedelta(days=1), end)))
        start = slices[-1][1]

    def read(span: tuple[datetime, datetime]) -> list[Entry]:
        return [entry for page in books.entries_at(store.id, *span, ENTRY_FIELDS) for entry in page]

    with ThreadPoolExecutor(READERS, thread_name_prefix="statement-read") as pool:
        pending = deque(pool.submit(read, span) for span in slices[:READERS])
        for span in slices[READERS:]:
            yield from pending.popleft().result()
            pending.append(pool.submit(read, span))
        while pending:
            yield from pending.popleft().result()


def complete_refunds(books: Books, items: st.ProviderItems) -> None:
    """What the refund entries of the period do not say themselves: the provider, the provider's
    refund id when its confirmation was journaled later, and the invoice of the order refunded."""
    if not items.refunds:
        return
    invoices = books.invoice_numbers({line["order_id"] for line in items.refunds.values()})
    for refund in books.refunds(list(items.refunds)):
        line = items.refunds[refund.id]
        line["provider"] = refund.provider
        line["provider_refund_id"] = line["provider_refund_id"] or refund.provider_refund_id
        line["invoice_number"] = invoices.get(line["order_id"])


def signed_manifest(uow: FinanceUnitOfWork, store_id: str, statement_id: str, manifest: bytes) -> bytes:
    """The manifest's signed note, by the key that signs the store's journal checkpoints."""
    verifier = uow.signer.verifier
    text = st.manifest_note_text(origin(store_id), statement_id, manifest)
    return sign_note(text, verifier.name, uow.signer.sign, verifier.key_id).encode()


def archive_files(uow: FinanceUnitOfWork, store_id: str, statement_id: str, files: Mapping[str, bytes]) -> None:
    """Each file create-only; an archive that does not answer is 503 (the client retries)."""
    try:
        for name, content in files.items():
            uow.statement_archive.keep(store_id, statement_id, name, content)
    except ArchiveConflict:
        raise
    except Exception as error:
        log.warning("statement %s of store %s: archive write failed: %r", statement_id, store_id, error)
        raise RetryLater("the archive did not take the statement's files") from error
