"""The GoBD Z3 export of a day: its index.xml is valid against the GDPdU DTD and describes exactly
the CSVs beside it (read independently here: every table's file is there, its header is the
described columns in order, numeric columns parse, days are dates), with the day's values."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, timedelta
from functools import partial

import pytest
from lxml import etree
from test_use_cases import STAFF, STORE, order, pay, refund

from tresen.services.closings import CloseStore, close_store
from tresen.services.downloads import StorePeriod, in_memory
from tresen.services.gobd_export import GOBD


@pytest.fixture
def exported(backend):
    order(backend, "on_site")
    online = order(backend, "online")
    pay(backend, online)
    refund(backend, online.id, 200)
    closing = close_store(CloseStore(STORE, STAFF), backend).as_dict()
    day = date.fromisoformat(closing["business_day"])  # before 05:00 the calendar's day is the next
    _, content = in_memory(partial(GOBD.render, StorePeriod(STORE, day, day + timedelta(days=1)), backend))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return closing, {name: archive.read(name) for name in archive.namelist()}


def described(index: bytes) -> dict[str, list[tuple[str, str]]]:
    """URL → [(column, type)] as the index says."""
    tables = {}
    for table in ET.fromstring(index).iter("Table"):
        layout = table.find("VariableLength")
        columns = [
            (column.findtext("Name"), next(c.tag for c in column if c.tag in ("Numeric", "AlphaNumeric", "Date")))
            for column in layout
            if column.tag in ("VariablePrimaryKey", "VariableColumn")
        ]
        assert (layout.findtext("ColumnDelimiter"), layout.findtext("RecordDelimiter")) == (",", "\r\n")
        tables[table.findtext("URL")] = columns
    return tables


def test_the_index_is_valid_against_the_gdpdu_dtd(exported):
    _, files = exported
    # libxml2 refuses the DTD's own content model of Media (Command* on both sides of Table* is not
    # deterministic); the index uses no Command, so the model without the trailing one is the same
    shipped = files["gdpdu-01-09-2004.dtd"].decode()
    media = "<!ELEMENT Media (Name, Command*, Table*, Command*, AcceptNoTables?)>"
    assert media in shipped
    dtd = etree.DTD(io.StringIO(shipped.replace(media, "<!ELEMENT Media (Name, Command*, Table*, AcceptNoTables?)>")))
    index = etree.fromstring(files["index.xml"])
    assert dtd.validate(index), dtd.error_log.filter_from_errors()
    assert b'<!DOCTYPE DataSet SYSTEM "gdpdu-01-09-2004.dtd">' in files["index.xml"]


def test_the_index_describes_exactly_the_csvs_beside_it(exported):
    _, files = exported
    tables = described(files["index.xml"])
    assert set(files) == {"index.xml", "gdpdu-01-09-2004.dtd", *tables}
    assert len(tables) == 8
    for url, columns in tables.items():
        rows = list(csv.reader(io.StringIO(files[url].decode("utf-8"), newline="")))
        assert rows[0] == [name for name, _ in columns], url
        for row in rows[1:]:
            assert len(row) == len(columns), url
            for value, (_, kind) in zip(row, columns, strict=True):
                if value and kind == "Numeric":
                    int(value)
                elif value and kind == "Date":
                    date.fromisoformat(value)


def test_the_tables_hold_the_days_records(exported):
    closing, files = exported

    def rows(url):
        return list(csv.DictReader(io.StringIO(files[url].decode("utf-8"), newline="")))

    assert [row["type"] for row in rows("journal.csv")][:3] == ["order.placed", "order.placed", "order.paid"]
    assert len(rows("orders.csv")) == 2 and len(rows("order-lines.csv")) == 4
    assert [(r["product_id"], r["quantity"], r["total"]) for r in rows("order-lines.csv")[:2]] == [
        ("croissant", "2", "580"),
        ("espresso", "1", "260"),
    ]
    assert [(r["amount"], r["provider_amount"]) for r in rows("refunds.csv")] == [("200", "200")]
    [z] = rows("closings.csv")
    assert (z["z_number"], z["gross_7"], z["payments_online"], z["hash"]) == (
        "1",
        str(closing["vat"][0]["gross"]),
        "840",
        closing["hash"],
    )
    assert rows("payouts.csv") == [] and files["payouts.csv"].count(b"\r\n") == 1
