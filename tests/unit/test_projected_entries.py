"""Finance files read the journal with a field projection. An entry that has none of the selected
`data.*` fields (a passkey change, say) comes back without `data` at all, as Firestore's select
returns it: every reader must still take it. Found by the browser test of the DATEV download."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest
from test_use_cases import STAFF, STORE, order

from tresen.adapters import clock
from tresen.services.datev_export import DATEV
from tresen.services.downloads import StorePeriod, in_memory
from tresen.services.passkeys import SetPasskey, set_passkey
from tresen.services.seed import DEMO_STORE
from tresen.services.statements import CreateStatement, create_statement

NOON = datetime(2026, 11, 16, 11, tzinfo=UTC)  # 12:00 in the store


@pytest.fixture
def day_with_a_passkey_change(backend, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOON)
    set_passkey(SetPasskey(STORE, "246810", ("refund",), STAFF), backend)
    order(backend, "on_site")
    return NOON.date()


def test_a_projected_entry_without_the_selected_data_fields_still_has_its_data_map(backend, day_with_a_passkey_change):
    start, end = datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 17, tzinfo=UTC)
    entries = [
        entry for page in backend.books.entries_at(DEMO_STORE.id, start, end, ["type", "data.sale"]) for entry in page
    ]
    assert [(entry["type"], sorted(entry["data"])) for entry in entries] == [
        ("passkey.changed", []),
        ("order.placed", ["sale"]),
    ]


def test_the_datev_file_and_the_statement_of_that_day_are_made(backend, day_with_a_passkey_change):
    day = day_with_a_passkey_change
    _, content = in_memory(partial(DATEV.render, StorePeriod(STORE, day, day), backend))
    rows = content.decode("cp1252").splitlines()
    # after the header and the headings, the order (2 croissants, an espresso): one booking per VAT rate, from the till
    assert [row.split(";")[:8] for row in rows[2:]] == [
        ["5,80", '"S"', '"EUR"', "", "", "", "1000", "8300"],
        ["2,60", '"S"', '"EUR"', "", "", "", "1000", "8400"],
    ]
    summary = create_statement(
        CreateStatement(STORE, day, day, {"type": "staff", "uid": "f1", "role": "finance"}), backend
    )
    assert summary["totals"]["payments"]["on_site"] == 840
