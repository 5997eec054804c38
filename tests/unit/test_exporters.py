"""Every file finance downloads, behind one protocol: each exporter's id, media type and file name, and
that rendering writes the file into the stream it is given, here one that can only be written to
(no seek, no tell, no read), like the stream of an answer sent while it is rendered."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from test_use_cases import STORE, order

from tresen.adapters import clock
from tresen.domain import gobd
from tresen.domain.dsfinvk import DTD
from tresen.domain.export_columns import COLUMNS
from tresen.domain.statements import CSV_COLUMNS
from tresen.http.router import ROUTES
from tresen.services import statements
from tresen.services.datev_export import DATEV
from tresen.services.downloads import Attachment, StorePeriod, spooled, write_zip
from tresen.services.dsfinvk_export import DSFINVK
from tresen.services.exporters import EXPORTERS
from tresen.services.gobd_export import GOBD
from tresen.services.row_exports import ROW_EXPORTS
from tresen.services.statement_files import STATEMENT_FILES, BuiltStatement

NOON = datetime(2026, 11, 23, 11, tzinfo=UTC)  # 12:00 in the store
DAY = date(2026, 11, 23)
WINDOWS_CSV, UTF8_CSV, ZIP = (
    "text/csv; charset=windows-1252",
    "text/csv; charset=utf-8; header=present",
    "application/zip",
)
JSONL = "application/x-ndjson; charset=utf-8"
KINDS = ("orders", "payments", "refunds", "giftcard-activities", "journal")


class WriteOnly(io.RawIOBase):
    """Takes writes and nothing else."""

    def __init__(self):
        super().__init__()
        self.received = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.received += data
        return len(data)


@pytest.fixture
def day(backend, monkeypatch) -> StorePeriod:
    """The store's 23 November 2026: one order paid at the counter (840: 580 at 7 %, 260 at 19 %)."""
    monkeypatch.setattr(clock, "now", lambda: NOON)
    order(backend, "on_site")
    return StorePeriod(STORE, DAY, DAY)


def rendered(exporter, source, uow) -> tuple[Attachment, bytes]:
    out = WriteOnly()
    attachment = exporter.render(source, uow, out)
    return attachment, bytes(out.received)


def test_every_file_is_listed_once_under_its_own_id():
    assert [exporter.id for exporter in EXPORTERS] == [
        "datev",
        "dsfinvk",
        "gobd",
        *(f"{kind}.{fmt}" for kind in KINDS for fmt in ("csv", "jsonl")),
        "statement.json",
        "statement.csv",
        "statement.pdf",
        "statement.datev",
    ]


def test_each_file_has_its_media_type_and_its_name_for_a_store_and_days():
    named = {e.id: (e.media_type, e.file_name("demo", date(2026, 11, 23), date(2026, 12, 1))) for e in EXPORTERS}
    assert named == {
        "datev": (WINDOWS_CSV, "EXTF_Buchungsstapel_demo_20261123_20261201.csv"),
        "dsfinvk": (ZIP, "dsfinvk_demo_20261123_20261201.zip"),
        "gobd": (ZIP, "gobd_demo_20261123_20261201.zip"),
        **{f"{kind}.csv": (UTF8_CSV, f"tresen-demo-{kind}-2026-11-23-2026-12-01.csv") for kind in KINDS},
        **{f"{kind}.jsonl": (JSONL, f"tresen-demo-{kind}-2026-11-23-2026-12-01.jsonl") for kind in KINDS},
        "statement.json": ("application/json", "statement-demo-2026-11-23-2026-12-01.json"),
        "statement.csv": ("text/csv; charset=utf-8", "statement-demo-2026-11-23-2026-12-01.csv"),
        "statement.pdf": ("application/pdf", "statement-demo-2026-11-23-2026-12-01.pdf"),
        "statement.datev": (WINDOWS_CSV, "statement-demo-2026-11-23-2026-12-01-datev.csv"),
    }


def test_each_range_file_is_a_route_of_its_own_declared_from_the_list():
    import tresen.http.finance_export_routes  # noqa: F401  (declares the routes)

    declared = {(r.path, r.handler.__name__, r.media_type) for r in ROUTES if r.path.count("/export/")}
    assert declared == {
        ("/v1/stores/{store}/export/{kind}", "export", "application/json"),
        ("/v1/stores/{store}/export/datev", "export_datev", "text/csv"),
        ("/v1/stores/{store}/export/dsfinvk", "export_dsfinvk", "application/zip"),
        ("/v1/stores/{store}/export/gobd", "export_gobd", "application/zip"),
    }


def test_datev_writes_the_days_bookings_as_one_extf_file(backend, day):
    attachment, content = rendered(DATEV, day, backend)
    assert attachment == Attachment("EXTF_Buchungsstapel_demo_20261123_20261123.csv", WINDOWS_CSV)
    header, _, *rows = content.decode("cp1252").split("\r\n")[:-1]
    assert header.startswith('"EXTF";700;21;"Buchungsstapel";13;')
    assert [row.split(";")[:8] for row in rows] == [
        ["5,80", '"S"', '"EUR"', "", "", "", "1000", "8300"],
        ["2,60", '"S"', '"EUR"', "", "", "", "1000", "8400"],
    ]


def test_datev_over_a_year_end_writes_a_zip_of_one_batch_per_year(backend):
    attachment, content = rendered(DATEV, StorePeriod(STORE, date(2026, 12, 31), date(2027, 1, 1)), backend)
    assert attachment == Attachment("EXTF_Buchungsstapel_demo_20261231_20270101.zip", ZIP)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == [
            "EXTF_Buchungsstapel_demo_20261231_20261231_01.csv",
            "EXTF_Buchungsstapel_demo_20270101_20270101_02.csv",
        ]
        assert archive.read("EXTF_Buchungsstapel_demo_20270101_20270101_02.csv").startswith(b'"EXTF";700;')


def test_dsfinvk_writes_the_official_index_its_dtd_and_every_table(backend, day):
    attachment, content = rendered(DSFINVK, day, backend)
    assert attachment == Attachment("dsfinvk_demo_20261123_20261123.zip", ZIP)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        assert (names[:2], len(names)) == (["index.xml", "gdpdu-01-09-2004.dtd"], 22)
        assert archive.read("gdpdu-01-09-2004.dtd") == DTD.read_bytes()
        assert archive.read("cashpointclosing.csv").count(b"\r\n") == 1  # the heading: the day is not closed


def test_gobd_writes_its_index_its_dtd_and_one_csv_per_table(backend, day):
    attachment, content = rendered(GOBD, day, backend)
    assert attachment == Attachment("gobd_demo_20261123_20261123.zip", ZIP)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == ["index.xml", "gdpdu-01-09-2004.dtd", *map(gobd.file_name, gobd.TABLES)]
        orders = archive.read("orders.csv").decode().split("\r\n")
        assert (orders[0].split(",")[:2], len(orders)) == (["id", "number"], 3)  # heading, the order, ""


@pytest.mark.parametrize("exporter", ROW_EXPORTS, ids=lambda exporter: exporter.id)
def test_a_row_export_writes_one_line_per_object_created_on_the_days(backend, day, exporter):
    expected = {"orders": 1, "journal": 1}.get(exporter.kind, 0)  # the order placed, its entry
    attachment, content = rendered(exporter, day, backend)
    assert attachment == Attachment(
        f"tresen-demo-{exporter.kind}-2026-11-23-2026-11-23.{exporter.format}", exporter.media_type
    )
    lines, columns = content.decode().splitlines(), list(COLUMNS[exporter.kind])
    if exporter.format == "csv":
        assert (lines[0], len(lines)) == (",".join(columns), 1 + expected)
    else:
        assert [list(json.loads(line)) for line in lines] == [columns] * expected


def test_the_statement_files_are_rendered_from_the_statement_built_once(backend, day):
    store, _ = backend.catalog.get(STORE)
    statement, bookings = statements.build(backend, store, DAY, DAY, "stm_1", NOON)
    built = BuiltStatement(store, statement, bookings)
    files = {exporter.id: rendered(exporter, built, backend) for exporter in STATEMENT_FILES}
    assert {id_: attachment for id_, (attachment, _) in files.items()} == {
        "statement.json": Attachment("statement-demo-2026-11-23-2026-11-23.json", "application/json"),
        "statement.csv": Attachment("statement-demo-2026-11-23-2026-11-23.csv", "text/csv; charset=utf-8"),
        "statement.pdf": Attachment("statement-demo-2026-11-23-2026-11-23.pdf", "application/pdf"),
        "statement.datev": Attachment("statement-demo-2026-11-23-2026-11-23-datev.csv", WINDOWS_CSV),
    }
    assert json.loads(files["statement.json"][1])["id"] == "stm_1"
    assert files["statement.csv"][1].decode().split("\r\n")[0] == ",".join(CSV_COLUMNS)
    assert files["statement.pdf"][1].startswith(b"%PDF-")
    assert files["statement.datev"][1].decode("cp1252").count("\r\n") == 4  # header, headings, the two bookings


def test_a_zip_takes_bytes_files_and_writers_in_order(tmp_path: Path):
    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"from a file")
    out = WriteOnly()
    write_zip(out, [("a.txt", b"bytes"), ("b.txt", kept), ("c.txt", lambda target: target.write(b"written"))])
    with zipfile.ZipFile(io.BytesIO(bytes(out.received))) as archive:
        assert [(name, archive.read(name)) for name in archive.namelist()] == [
            ("a.txt", b"bytes"),
            ("b.txt", b"from a file"),
            ("c.txt", b"written"),
        ]


def test_a_spooled_rendering_is_handed_out_from_its_start():
    def render(out) -> Attachment:
        out.write(b"a whole file")
        return Attachment("file.txt", "text/plain")

    download = spooled(render)
    with download.content:
        assert (download.attachment, download.content.read()) == (Attachment("file.txt", "text/plain"), b"a whole file")
