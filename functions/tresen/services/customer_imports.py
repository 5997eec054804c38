"""Importing a shop's customer list: a dry run that reports what a real run would do, line by line,
and the real run in the background with its progress, counts and the failed rows.

Both read the file as a stream (domain/customer_csv.py) and decide each row exactly alike
(`domain/customers.import_decision`): rows match a record by e-mail, then by phone; a cell left empty
keeps what the record holds; a row the file repeats finds the record an earlier row made. So the dry
run's counts are the real run's, and importing the same file again changes nothing. The real run
commits chunk by chunk (a commit holds at most 500 writes), each with the import's progress; a chunk
that meets a record made meanwhile is decided again. Its journal entry, `customers.imported`, is
written once at the end. An import whose worker stopped (its instance went away) says `failed`:
importing the file again finishes it, since what was imported is found unchanged.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from itertools import islice
from typing import Any

from ..domain.customer_csv import CsvError, CsvRow, CsvRows, errors_csv, read_customer_csv
from ..domain.customers import Consent, Customer, ImportDecision, import_decision, record_contact_keys
from ..domain.errors import DomainError, FieldError
from ..domain.events import CustomersImported
from ..domain.journal import JournalEvent
from .customers import PROTECTED, Staff
from .documents import Conflict
from .order_ports import OrderUnitOfWork, catalog_or_404
from .passkeys import approved_actor
from .unit_of_work import Claims, Plan, Writes

log = logging.getLogger(__name__)
CHUNK_ROWS = 150  # a new record is up to 3 writes (it and its two contacts): 450 of a commit's 500
CHUNK_ATTEMPTS = 5
STALE_AFTER = timedelta(minutes=2)  # a running import not advanced for this long has lost its worker
MARKETING_WORDING = "Einwilligung in E-Mail-Werbung laut importierter Kundenliste"
MAX_ERRORS_LISTED = 1000  # in a dry run's answer; the errors CSV of a real run has them all


@dataclass(frozen=True)
class ImportCustomers:
    store_id: str
    csv: bytes
    staff: Staff


@dataclass
class Tally:
    rows: int = 0
    create: int = 0
    update: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # {line, field, message}
    error_count: int = 0

    def add(self, decision: ImportDecision) -> None:
        self.rows += 1
        if decision.kind != "error":
            setattr(self, decision.kind, getattr(self, decision.kind) + 1)

    def refuse(self, line: int, problems: list[tuple[str, str]]) -> None:
        self.rows += 1
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_LISTED:
            self.errors += [{"line": line, "field": name, "message": message} for name, message in problems]


def dry_run(command: ImportCustomers, uow: OrderUnitOfWork) -> Tally:
    """What the import would do: counts and every refused row, nothing written."""
    store_id = checked_store(uow, command)
    tally = Tally()
    in_file: dict[str, Customer] = {}
    pii_key = uow.stores.pii_key(store_id)
    try:
        repeated = repeated_contacts(rows_of(command.csv, uow), pii_key)
        for chunk in chunks_of(rows_of(command.csv, uow)):
            for row, decision in decided(uow, store_id, chunk, in_file, uow.now())[0]:
                count(tally, row, decision)
            # nothing is written: only a contact the file names again needs the record its row left
            in_file = {key: customer for key, customer in in_file.items() if hash(key) in repeated}
    except CsvError as error:  # over 100 000 rows: found only when that row is read
        raise refused_file(error) from None
    return tally


def repeated_contacts(rows: CsvRows, pii_key: bytes) -> set[int]:
    """The hashes of the contacts the file names more than once (a first pass: 16 bytes a contact)."""
    seen: set[int] = set()
    repeated: set[int] = set()
    for row in rows:
        for key in record_contact_keys(pii_key, row.fields) if row.fields else ():
            (repeated if hash(key) in seen else seen).add(hash(key))
    return repeated


def rows_of(csv: bytes, uow: OrderUnitOfWork) -> CsvRows:
    try:
        _, rows = read_customer_csv(io.BytesIO(csv), today=uow.now().date())
    except CsvError as error:
        raise refused_file(error) from None
    return rows


def refused_file(error: CsvError) -> DomainError:
    return DomainError("validation_failed", str(error), [FieldError("body", str(error))])


def read_through(rows: CsvRows) -> None:
    """Every row read once (half a second for 100 000): a file too long is refused before it starts."""
    try:
        for _ in rows:
            pass
    except CsvError as error:
        raise refused_file(error) from None


def checked_store(uow: OrderUnitOfWork, command: ImportCustomers) -> str:
    store, _ = catalog_or_404(uow, command.store_id)
    staff = command.staff
    approved_actor(uow, store.id, PROTECTED, staff.actor, staff.role, staff.passkey)
    return store.id


def chunks_of(rows: Iterator[CsvRow]) -> Iterator[list[CsvRow]]:
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


def count(tally: Tally, row: CsvRow, decision: ImportDecision | None) -> None:
    if decision is None:
        tally.refuse(row.line, list(row.errors))
    elif decision.kind == "error":
        tally.refuse(row.line, [("", decision.reason)])
    else:
        tally.add(decision)


Decided = list[tuple[CsvRow, ImportDecision | None]]


def decided(
    uow: OrderUnitOfWork, store_id: str, rows: list[CsvRow], in_file: dict[str, Customer], now: datetime
) -> tuple[Decided, dict[str, Any]]:
    """Each row of a chunk decided against the records as they are, and as the file's earlier rows
    left them (`in_file`: contact key → record, updated as rows are decided); and the version of
    each record read (customer id → version), which guards its update."""
    pii_key = uow.stores.pii_key(store_id)
    keys_of = {row.line: record_contact_keys(pii_key, row.fields) for row in rows if row.fields}
    wanted = sorted({key for keys in keys_of.values() for key in keys if key not in in_file})
    holders = uow.customers.holders(store_id, wanted) if wanted else {}
    read = uow.customers.read_many(store_id, sorted(set(holders.values()))) if holders else {}
    records = {customer_id: customer for customer_id, (customer, _) in read.items()}
    out: list[tuple[CsvRow, ImportDecision | None]] = []
    for row in rows:
        if row.fields is None:
            out.append((row, None))
            continue
        keys = keys_of[row.line]
        matched = [in_file.get(key) or records.get(holders.get(key, "")) for key in keys]
        matched = [customer for customer in matched if customer is not None]
        fresh = Customer(uow.new_id("cus_"), store_id, row.fields, None, (), 1, now, now)
        decision = import_decision(replace(row.fields, email_marketing=None), matched, fresh, consent_of(row, now))
        out.append((row, decision))
        if decision.kind in ("create", "update"):
            for key in record_contact_keys(pii_key, decision.customer.fields):
                in_file[key] = decision.customer
    return out, {customer_id: version for customer_id, (_, version) in read.items()}


def consent_of(row: CsvRow, now: datetime) -> Consent | None:
    """The file's `email_marketing` as a consent statement (none where the file says nothing)."""
    said = row.fields.email_marketing
    if said is None:
        return None
    state = "granted" if said else "withdrawn"
    return Consent("email", state, now, "import", MARKETING_WORDING, {"type": "import"})


def start_import(command: ImportCustomers, uow: OrderUnitOfWork) -> str:
    """The import's id; its rows are applied after the answer (`run_import`)."""
    store_id = checked_store(uow, command)
    read_through(rows_of(command.csv, uow))  # a file no import could take is refused now, not in the background
    import_id = uow.new_id("imp_")
    uow.customer_imports.start(store_id, import_id, dict(command.staff.actor), uow.now())
    uow.run_later(f"import-{import_id}", partial(run_import, store_id, import_id, command))
    return import_id


def run_import(store_id: str, import_id: str, command: ImportCustomers, uow: OrderUnitOfWork) -> Tally:
    """Apply every row, chunk by chunk with the import's progress, then journal what it did."""
    tally, failed = Tally(), []
    rows = rows_of(command.csv, uow)
    for chunk in chunks_of(rows):
        decisions = apply_chunk(uow, store_id, import_id, chunk, tally)
        failed += [(row.raw, reason_of(row, decision)) for row, decision in decisions if is_refused(decision)]
    errors = b"".join(errors_csv(failed, rows.header, delimiter=rows.delimiter))
    finish(uow, store_id, import_id, tally, command.staff.actor, errors)
    return tally


def apply_chunk(uow: OrderUnitOfWork, store_id: str, import_id: str, rows: list[CsvRow], tally: Tally) -> Decided:
    """The chunk's rows decided and committed with the import's progress, in one commit. What the
    earlier chunks made is committed: their rows are found in the store, so memory stays flat."""
    for _ in range(CHUNK_ATTEMPTS):
        attempt = replace(tally, errors=list(tally.errors))
        decisions, versions = decided(uow, store_id, rows, {}, uow.now())
        writes = Writes({"type": "import", "import_id": import_id})
        pii_key = uow.stores.pii_key(store_id)
        written: set[str] = set()  # records this commit writes already: a later row's write follows it
        for row, decision in decisions:
            count(attempt, row, decision)
            if decision is not None and decision.kind == "create":
                writes.new_customer(decision.customer, record_contact_keys(pii_key, decision.customer.fields))
            elif decision is not None and decision.kind == "update":
                read_at = None if decision.before.id in written else versions.get(decision.before.id)
                write_update(writes, pii_key, decision, read_at)
            if decision is not None and decision.kind in ("create", "update"):
                written.add(decision.customer.id)
        writes.import_progress(store_id, import_id, progress(attempt), uow.now())
        try:
            uow.commit_writes(writes)
        except Conflict:  # a record was made or changed meanwhile: decide the chunk again
            continue
        vars(tally).update(vars(attempt))
        return decisions
    raise Conflict("changed", None)


def write_update(writes: Writes, pii_key: bytes, decision: ImportDecision, read_at: Any) -> None:
    """A record changed by a row: guarded by the version read (none: an earlier row of this chunk
    made or changed it, and this write supersedes that one in the same commit)."""
    before = set(record_contact_keys(pii_key, decision.before.fields))
    after = record_contact_keys(pii_key, decision.customer.fields)
    claimed = tuple(key for key in after if key not in before)
    writes.customer(decision.customer, read_at, claimed, tuple(before - set(after)))


def is_refused(decision: ImportDecision | None) -> bool:
    return decision is None or decision.kind == "error"


def reason_of(row: CsvRow, decision: ImportDecision | None) -> str:
    return decision.reason or "" if decision is not None else row.reason


def progress(tally: Tally) -> dict[str, int]:
    return {
        "processed": tally.rows,
        "create": tally.create,
        "update": tally.update,
        "unchanged": tally.unchanged,
        "errors": tally.error_count,
    }


def finish(
    uow: OrderUnitOfWork,
    store_id: str,
    import_id: str,
    tally: Tally,
    actor: Mapping[str, Any],
    errors: bytes,
) -> None:
    """The failed rows as a CSV, the import done, and its journal entry: one commit."""
    uow.customer_imports.keep_errors(store_id, import_id, errors)
    now = uow.now()

    def build(_claims: Claims) -> Plan[None]:
        writes = Writes(actor)
        writes.import_done(store_id, import_id, progress(tally) | {"rows": tally.rows}, now)
        imported = CustomersImported(
            import_id=import_id,
            rows=tally.rows,
            created=tally.create,
            updated=tally.update,
            unchanged=tally.unchanged,
            errors=tally.error_count,
        )
        return Plan(None, now, actor, [JournalEvent.of(imported)], writes)

    uow.commit(store_id, build)


def import_status(uow: OrderUnitOfWork, store_id: str, import_id: str) -> dict[str, Any]:
    catalog_or_404(uow, store_id)
    found = uow.customer_imports.read(store_id, import_id)
    if found is None:
        raise DomainError("import_not_found", f"Store {store_id} has no customer import {import_id!r}.")
    if found["status"] == "running" and uow.now() - found["updated_at"] > STALE_AFTER:
        return found | {"status": "failed"}  # its worker is gone: importing the file again completes it
    return found


def import_errors(uow: OrderUnitOfWork, store_id: str, import_id: str) -> bytes:
    import_status(uow, store_id, import_id)
    return uow.customer_imports.errors(store_id, import_id) or b""
