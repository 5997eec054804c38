"""The customer import on the in-memory backend: a dry run counts what the real run does, also for a
contact the file names again chunks later, and a second run of the same file changes nothing."""

from __future__ import annotations

from tresen.services.customer_imports import CHUNK_ROWS, ImportCustomers, dry_run, run_import
from tresen.services.customers import Staff
from tresen.services.seed import DEMO_STORE

STORE = DEMO_STORE.id
OWNER = Staff({"type": "staff", "uid": "owner-1", "role": "owner"}, "owner")


def listing(rows: int) -> bytes:
    """`rows` customers; the last names the first one's e-mail again, two chunks later, with a company."""
    lines = ["given_name;email;company"]
    lines += [f"Kunde {n};kunde{n}@example.com;" for n in range(rows - 1)]
    lines.append("Kunde 0;KUNDE0@example.com;Kunde GmbH")
    return ("\r\n".join(lines) + "\r\n").encode()


def imported(backend, csv: bytes, import_id: str):
    backend.customer_imports.start(STORE, import_id, dict(OWNER.actor), backend.now())
    return run_import(STORE, import_id, ImportCustomers(STORE, csv, OWNER), backend)


def test_the_dry_run_counts_what_the_real_run_does_across_chunks_and_a_second_run_changes_nothing(backend):
    csv = listing(2 * CHUNK_ROWS + 10)
    planned = dry_run(ImportCustomers(STORE, csv, OWNER), backend)
    assert (planned.rows, planned.create, planned.update, planned.unchanged) == (2 * CHUNK_ROWS + 10, 309, 1, 0)
    done = imported(backend, csv, "imp_1")
    assert (done.rows, done.create, done.update, done.unchanged) == (planned.rows, 309, 1, 0)
    state = backend.customer_imports.read(STORE, "imp_1")
    assert (state["status"], state["processed"], state["create"]) == ("done", 310, 309)
    again = imported(backend, csv, "imp_2")
    # the first row's empty company keeps the one the last row gave: the same file changes nothing
    assert (again.create, again.update, again.unchanged) == (0, 0, 310)
