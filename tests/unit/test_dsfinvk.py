"""The DSFinV-K export of a closed day, checked against the official description file read here
independently (tests/data/dsfinvk/index.xml): every table present with exactly its columns, every
value of its column's type and length, business cases and payment types from the standard's value
lists, and each closing's amounts equal to its Z-report's."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from test_use_cases import STAFF, STORE, order, pay, refund

from tresen.domain import dsfinvk
from tresen.services import cards
from tresen.services.closings import CloseStore, close_store
from tresen.services.downloads import StorePeriod, in_memory
from tresen.services.dsfinvk_export import DSFINVK
from tresen.services.exports import local_days

OFFICIAL = Path(__file__).parents[1] / "data" / "dsfinvk" / "index.xml"


def official_tables() -> dict[str, list[tuple[str, str, str | None, str | None]]]:
    """file → [(column, type, MaxLength, Accuracy)] as the tax administration's file says."""
    found = {}
    for table in ET.parse(OFFICIAL).getroot().iter("Table"):
        columns = []
        for column in table.iter():
            if column.tag in ("VariablePrimaryKey", "VariableColumn"):
                kind = next(c.tag for c in column if c.tag in ("AlphaNumeric", "Numeric", "Date"))
                columns.append((column.findtext("Name"), kind, column.findtext("MaxLength"),
                                column.findtext("Numeric/Accuracy")))  # fmt: skip
        found[table.findtext("URL")] = columns
    return found


@pytest.fixture
def exported(backend):
    """A day: an on-site order; an online order paid 500 by a gift card and the rest online, 200 of
    it refunded; a gift card of 2500 sold at the counter. Closed, then exported."""
    order(backend, "on_site")
    sold = cards.issue_card(cards.IssueCard(STORE, 2500, STAFF), backend)
    online = order(backend, "online", gift_cards=((sold.code, 500),))
    pay(backend, online)
    refund(backend, online.id, 200)
    closing = close_store(CloseStore(STORE, STAFF), backend).as_dict()
    day = date.fromisoformat(closing["business_day"])
    _, content = in_memory(partial(DSFINVK.render, StorePeriod(STORE, day, day), backend))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return closing, files


def rows_of(files, name) -> list[dict[str, str]]:
    text = files[name].decode("utf-8")
    assert text.endswith("\r\n")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_every_official_table_is_there_with_exactly_its_columns(exported):
    _, files = exported
    official = official_tables()
    assert len(official) == 20
    assert set(files) == {"index.xml", "gdpdu-01-09-2004.dtd", *official}
    assert files["index.xml"] == OFFICIAL.read_bytes()
    for name, columns in official.items():
        heading = files[name].decode("utf-8").split("\r\n")[0]
        assert heading.split(";") == [column[0] for column in columns], name
    for empty in ("slaves.csv", "pa.csv", "subitems.csv", "references.csv"):
        assert files[empty].decode().count("\r\n") == 1, empty  # header only: Tresen has none of these
    for unsigned in ("tse.csv", "transactions_tse.csv"):  # no TSE signed this day's sales (test_dsfinvk_tse.py)
        assert files[unsigned].decode().count("\r\n") == 1, unsigned


def test_every_value_has_its_columns_type_length_and_accuracy(exported):
    _, files = exported
    for name, columns in official_tables().items():
        for row in csv.reader(io.StringIO(files[name].decode("utf-8")), delimiter=";"):
            if row[0] == columns[0][0]:
                continue
            assert len(row) == len(columns), name
            for value, (column, kind, length, accuracy) in zip(row, columns, strict=True):
                if value == "":
                    continue
                if kind == "Numeric":
                    digits = int(accuracy or 0)
                    pattern = rf"-?\d+,\d{{{digits}}}" if digits else r"-?\d+"
                    assert re.fullmatch(pattern, value), (name, column, value)
                elif length:
                    assert len(value) <= int(length), (name, column, value)


def test_business_cases_and_payment_types_come_from_the_value_lists(exported):
    _, files = exported
    for name, column in (("businesscases.csv", "GV_TYP"), ("lines.csv", "GV_TYP")):
        assert {row[column] for row in rows_of(files, name)} <= set(dsfinvk.GV_TYPES)
    for name in ("payment.csv", "datapayment.csv"):
        assert {row["ZAHLART_TYP"] for row in rows_of(files, name)} <= set(dsfinvk.PAYMENT_TYPES)
    assert {row["BON_TYP"] for row in rows_of(files, "transactions.csv")} <= set(dsfinvk.BON_TYPES)
    assert [(r["UST_SCHLUESSEL"], r["UST_SATZ"]) for r in rows_of(files, "vat.csv")] == [
        ("1", "19,00"),
        ("2", "7,00"),
        ("5", "0,00"),
    ]


def euro(value: str) -> int:
    return int(Decimal(value.replace(",", ".")) * 100)


def test_a_closings_amounts_are_its_z_reports(exported):
    closing, files = exported
    cases = {(r["GV_TYP"], r["UST_SCHLUESSEL"]): euro(r["Z_UMS_BRUTTO"]) for r in rows_of(files, "businesscases.csv")}
    refunded = {row["rate"]: row["gross"] for row in closing["refunds"]["vat"]}
    assert cases[("Umsatz", "2")] == closing["vat"][0]["gross"] - refunded["7"]
    assert cases[("Umsatz", "1")] == closing["vat"][1]["gross"] - refunded["19"]
    assert cases[("MehrzweckgutscheinKauf", "5")] == closing["giftcards"]["sold"] == 2500
    by_method = closing["refunds"]["by_method"]  # the refund went back onto the card first
    assert cases[("MehrzweckgutscheinEinloesung", "5")] == by_method["giftcard"] - closing["payments"]["giftcard"]
    assert (by_method["giftcard"], closing["payments"]["giftcard"]) == (200, 500)
    paid = {r["ZAHLART_TYP"]: euro(r["Z_ZAHLART_BETRAG"]) for r in rows_of(files, "payment.csv")}
    assert paid == {
        "Bar": closing["payments"]["on_site"] - by_method["on_site"],
        "ElZahlungsdienstleister": closing["payments"]["online"] - by_method["online"],
    }
    [z] = rows_of(files, "cashpointclosing.csv")
    assert (z["Z_NR"], z["Z_KASSE_ID"], z["Z_BUCHUNGSTAG"]) == (
        str(closing["z_number"]),
        STORE,
        closing["business_day"],
    )
    assert euro(z["Z_SE_ZAHLUNGEN"]) == sum(paid.values()) and euro(z["Z_SE_BARZAHLUNGEN"]) == paid["Bar"]
    assert (z["STRASSE"], z["PLZ"], z["ORT"]) == ("Bahnhofstraße 1", "60311", "Frankfurt am Main")


def test_each_receipt_adds_up_over_its_lines_vat_and_payments(exported):
    _, files = exported
    lines, per_bon_vat, paid = {}, {}, {}
    for row in rows_of(files, "lines_vat.csv"):
        lines[row["BON_ID"]] = lines.get(row["BON_ID"], 0) + euro(row["POS_BRUTTO"])
        assert euro(row["POS_BRUTTO"]) == euro(row["POS_NETTO"]) + euro(row["POS_UST"])
    for row in rows_of(files, "transactions_vat.csv"):
        per_bon_vat[row["BON_ID"]] = per_bon_vat.get(row["BON_ID"], 0) + euro(row["BON_BRUTTO"])
    for row in rows_of(files, "datapayment.csv"):
        paid[row["BON_ID"]] = paid.get(row["BON_ID"], 0) + euro(row["BASISWAEH_BETRAG"])
    receipts = {row["BON_ID"]: euro(row["UMS_BRUTTO"]) for row in rows_of(files, "transactions.csv")}
    assert len(receipts) == 4  # two sales, the refund, the counter gift card
    assert receipts == lines == per_bon_vat == {bon: paid.get(bon, 0) for bon in receipts}
    assert sorted(receipts.values()) == [0, 340, 840, 2500]  # the refund went wholly back onto the card


def test_days_without_closings_give_header_only_tables_and_a_bad_range_is_refused(backend):
    _, content = in_memory(partial(DSFINVK.render, StorePeriod(STORE, date(2020, 1, 1), date(2020, 1, 2)), backend))
    files = zipfile.ZipFile(io.BytesIO(content))
    assert all(files.read(name).count(b"\r\n") == 1 for name in official_tables())
    with pytest.raises(Exception) as refused:
        local_days(date(2020, 1, 2), date(2020, 1, 1), backend.catalog.get(STORE)[0])
    assert getattr(refused.value, "code", None) == "validation_failed"
