"""The TSE tables of the DSFinV-K export, from a day of sales signed through the use cases with a
TSE in memory: `tse.csv` names the store's TSE with its certificate split in two, and
`transactions_tse.csv` has a row for each receipt of a sale taken on site — at the counter or by
card at a terminal — ascending by signature counter, a sale whose TSE failed (or whose signing was
cut off) with why in `TSE_TA_FEHLER` until it is signed, none for an online sale; a sale signed
after its closing is in that closing with the TSE installed since; every table stays as the
official index.xml describes it."""

from __future__ import annotations

import base64
import csv
import io
import re
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import partial

import pytest
from test_dsfinvk import official_tables
from test_terminal_use_cases import card_order, deliver, tap, till  # noqa: F401  (fixture)
from test_use_cases import STAFF, STORE, order, pay

from tresen.adapters.memory_tse import ALGORITHM, MemoryTse
from tresen.domain.tse import tss_id_of
from tresen.services.closings import CloseStore, close_store
from tresen.services.downloads import StorePeriod, in_memory
from tresen.services.dsfinvk_export import DSFINVK
from tresen.services.tse import finish_unsigned_sales

CERTIFICATE = base64.b64encode(bytes(range(256)) * 5 + bytes(105)).decode()  # 1500 characters


@pytest.fixture
def tse(backend) -> MemoryTse:
    """The store's TSE, whose certificate (which the memory TSE leaves empty) is 1500 characters."""
    memory = MemoryTse()
    tss_id = tss_id_of(STORE)
    memory.tsss[tss_id] = replace(memory.ensure_tss(tss_id, "admin-pin"), certificate=CERTIFICATE)
    backend.tse = memory
    return memory


def current(backend, placed):
    return backend.orders.read_in_store(STORE, placed.id)[0]


def export(backend, day: date) -> dict[str, list[dict[str, str]]]:
    """Every table of the day's export, as rows by column name."""
    _, content = in_memory(partial(DSFINVK.render, StorePeriod(STORE, day, day), backend))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        texts = {name: archive.read(name).decode() for name in archive.namelist() if name.endswith(".csv")}
    assert_as_the_index_describes(texts)
    return {name: list(csv.DictReader(io.StringIO(text), delimiter=";")) for name, text in texts.items()}


def assert_as_the_index_describes(texts: dict[str, str]) -> None:
    """Every table with exactly the official columns, every value of its column's type and length."""
    official = official_tables()
    assert set(texts) == set(official)
    for name, columns in official.items():
        heading, *rows = list(csv.reader(io.StringIO(texts[name]), delimiter=";"))
        assert heading == [column for column, *_ in columns], name
        for row in rows:
            assert len(row) == len(columns), name
            for value, (column, kind, length, accuracy) in zip(row, columns, strict=True):
                if value and kind == "Numeric":
                    digits = int(accuracy or 0)
                    assert re.fullmatch(rf"-?\d+,\d{{{digits}}}" if digits else r"-?\d+", value), (name, column)
                elif value and length:
                    assert len(value) <= int(length), (name, column, len(value))


def log_time(moment: str) -> str:
    """An RFC 3339 time as DSFinV-K writes a TSE's log time: UTC, milliseconds, `Z`."""
    utc = datetime.fromisoformat(moment).astimezone(UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signed_row(z: dict, order, process_data: str) -> dict[str, str]:
    record = order.tse
    return z | {
        "BON_ID": order.id,
        "TSE_ID": "1",
        "TSE_TANR": str(record["transaction_number"]),
        "TSE_TA_START": log_time(record["start"]),
        "TSE_TA_ENDE": log_time(record["end"]),
        "TSE_TA_VORGANGSART": "Kassenbeleg-V1",
        "TSE_TA_SIGZ": str(record["signature_counter"]),
        "TSE_TA_SIG": record["signature"],
        "TSE_TA_FEHLER": "",
        "TSE_VORGANGSDATEN": process_data,
    }


def test_a_day_of_signed_sales_fills_the_tse_tables(backend, tse, till, reports):  # noqa: F811
    at_the_counter = order(backend, "on_site")  # 2 croissants (7 %), an espresso (19 %): 8,40 €
    _, terminal = till
    by_card = card_order(backend, terminal)
    tap(backend, terminal, "visa")
    deliver(backend, reports.pop())
    online = order(backend, "online")
    pay(backend, online)
    tse.down = True
    unsigned = order(backend, "on_site")
    tse.down = False
    closing = close_store(CloseStore(STORE, STAFF), backend).as_dict()
    day = date.fromisoformat(closing["business_day"])
    z = {"Z_KASSE_ID": STORE, "Z_ERSTELLUNG": closing["closed_at"], "Z_NR": str(closing["z_number"])}

    tables = export(backend, day)
    serial = tse.tsss[tss_id_of(STORE)].serial_number
    assert tables["tse.csv"] == [
        z
        | {
            "TSE_ID": "1",
            "TSE_SERIAL": serial,
            "TSE_SIG_ALGO": ALGORITHM,
            "TSE_ZEITFORMAT": "unixTime",
            "TSE_PD_ENCODING": "UTF-8",
            "TSE_PUBLIC_KEY": tse.tsss[tss_id_of(STORE)].public_key,
            "TSE_ZERTIFIKAT_I": CERTIFICATE[:1000],
            "TSE_ZERTIFIKAT_II": CERTIFICATE[1000:],
        }
    ]
    counter, card = current(backend, at_the_counter), current(backend, by_card)
    assert (counter.tse["signature_counter"], card.tse["signature_counter"]) == (2, 4)  # each start counts too
    failed = {key: "" for key in tables["transactions_tse.csv"][0]} | z | {"BON_ID": unsigned.id}
    assert tables["transactions_tse.csv"] == [
        signed_row(z, counter, "Beleg^2.60_5.80_0.00_0.00_0.00^8.40:Bar"),
        signed_row(z, card, "Beleg^2.60_5.80_0.00_0.00_0.00^8.40:Unbar"),
        failed | {"TSE_TA_FEHLER": "TSE-Ausfall: the TSE did not answer within 5 s"},
    ]
    receipts = [row["BON_ID"] for row in tables["transactions.csv"]]
    assert receipts == [at_the_counter.id, by_card.id, online.id, unsigned.id]  # the online sale: no TSE row
    [cashpoint] = tables["cashpointclosing.csv"]
    assert (cashpoint["Z_START_ID"], cashpoint["Z_ENDE_ID"]) == (at_the_counter.id, unsigned.id)

    assert finish_unsigned_sales(backend) == {"signed": 1, "failed": 0}  # the TSE is back, after the closing
    signed_later = current(backend, unsigned)
    assert (signed_later.tse["transaction_number"], signed_later.tse["signature_counter"]) == (3, 6)
    following = close_store(CloseStore(STORE, STAFF), backend).as_dict()  # it holds that signature's entry
    again = export(backend, day)
    assert again["transactions_tse.csv"][:2] == tables["transactions_tse.csv"][:2]
    assert again["transactions_tse.csv"][2:] == [signed_row(z, signed_later, "Beleg^2.60_5.80_0.00_0.00_0.00^8.40:Bar")]
    assert [row["Z_NR"] for row in again["tse.csv"]] == [str(closing["z_number"]), str(following["z_number"])]


def test_a_sale_signed_after_its_closing_names_the_tse_installed_since(backend, tse):
    tse.down = True  # from the store's first sale on: its TSE is not even set up
    placed = order(backend, "on_site")
    closing = close_store(CloseStore(STORE, STAFF), backend).as_dict()
    day = date.fromisoformat(closing["business_day"])
    z = {"Z_KASSE_ID": STORE, "Z_ERSTELLUNG": closing["closed_at"], "Z_NR": str(closing["z_number"])}
    before = export(backend, day)
    assert before["tse.csv"] == []
    assert [(row["BON_ID"], row["TSE_ID"], row["TSE_TA_FEHLER"]) for row in before["transactions_tse.csv"]] == [
        (placed.id, "", "TSE-Ausfall: the TSE did not answer within 5 s")
    ]

    tse.down = False
    assert finish_unsigned_sales(backend) == {"signed": 1, "failed": 0}  # installs the TSE, then signs
    after = export(backend, day)
    assert [row["TSE_SERIAL"] for row in after["tse.csv"]] == [tse.tsss[tss_id_of(STORE)].serial_number]
    signed = current(backend, placed)
    assert after["transactions_tse.csv"] == [signed_row(z, signed, "Beleg^2.60_5.80_0.00_0.00_0.00^8.40:Bar")]


def test_a_sale_whose_signing_was_cut_off_is_pending_in_its_row(backend, tse, monkeypatch):
    monkeypatch.setattr(backend, "run_later", lambda name, task: None)  # the process ends after the commit
    placed = order(backend, "on_site")
    assert current(backend, placed).tse_status == "pending"
    closing = close_store(CloseStore(STORE, STAFF), backend).as_dict()
    tables = export(backend, date.fromisoformat(closing["business_day"]))
    assert [(row["BON_ID"], row["TSE_TA_SIG"], row["TSE_TA_FEHLER"]) for row in tables["transactions_tse.csv"]] == [
        (placed.id, "", "TSE-Signatur ausstehend")
    ]
