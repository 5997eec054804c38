"""Finance files read the journal with a field projection. An entry that has none of the selected
`data.*` fields (a passkey change, say) comes back without `data` at all, as Firestore's select
returns it: every reader must still take it. Found by the browser test of the DATEV download."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_use_cases import STAFF, STORE, order

from tresen.adapters import clock
from tresen.services.datev_export import datev_export
from tresen.services.exports import journal_entries
from tresen.services.passkeys import set_passkey
from tresen.services.seed import DEMO_STORE
from tresen.services.statements import create_statement

NOON = datetime(2026, 11, 16, 11, tzinfo=UTC)  # 12:00 in the store


@pytest.fixture
def day_with_a_passkey_change(backend, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOON)
    set_passkey(backend, STORE, "246810", ["refund"], STAFF)
    order(backend, "on_site")
    return NOON.date()


def test_a_projected_entry_without_the_selected_data_fields_still_has_its_data_map(backend, day_with_a_passkey_change):
    start, end = datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 17, tzinfo=UTC)
    entries = list(journal_entries(backend.docs, DEMO_STORE, start, end, ["type", "data.sale"]))
    assert [(entry["type"], sorted(entry["data"])) for entry in entries] == [
        ("passkey.changed", []),
        ("order.placed", ["sale"]),
    ]


def test_the_datev_file_and_the_statement_of_that_day_are_made(backend, day_with_a_passkey_change):
    day = day_with_a_passkey_change
    datev = datev_export(backend, STORE, day, day)
    rows = datev.read_all().decode("cp1252").splitlines()
    # after the header and the headings, the order (2 croissants, an espresso): one booking per VAT rate, from the till
    assert [row.split(";")[:8] for row in rows[2:]] == [
        ["5,80", '"S"', '"EUR"', "", "", "", "1000", "8300"],
        ["2,60", '"S"', '"EUR"', "", "", "", "1000", "8400"],
    ]
    summary = create_statement(backend, STORE, day, day, {"type": "staff", "uid": "f1", "role": "finance"})
    assert summary["totals"]["payments"]["on_site"] == 840
