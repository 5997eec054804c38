"""The TSE's data on the receipt of a sale taken on site, read back from the PDF: every field of the
TSE block as pdftotext reads it, and the DSFinV-K "V0" QR code as zbarimg decodes it from the page
rendered at 300 dpi, the very code the order carries. A sale whose TSE failed says so, without a
code, until the TSE signs it; an online sale has no TSE block."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_receipts import delivered, missing, place
from test_use_cases import STORE, pay
from test_zreport_pdf import needs_pdftotext

from tresen.adapters import clock
from tresen.adapters.memory_tse import MemoryTse
from tresen.domain.tse import tss_id_of
from tresen.services import receipt_downloads
from tresen.services.tse import finish_unsigned_sales

T0 = datetime(2026, 11, 23, 11, 36, 39, tzinfo=UTC)
PDFTOPPM, ZBARIMG = shutil.which("pdftoppm"), shutil.which("zbarimg")
needs_zbarimg = pytest.mark.skipif(
    PDFTOPPM is None or ZBARIMG is None,
    reason="pdftoppm or zbarimg is not installed (Debian: apt-get install poppler-utils zbar-tools)",
)
FAILED = "TSE ausgefallen: Die Signatur wird nachgeholt."


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)


@pytest.fixture
def tse(backend) -> MemoryTse:
    backend.tse = MemoryTse()
    return backend.tse


def qr_codes(pdf: bytes, folder: Path) -> list[str]:
    """The text of every QR code on the pages, rendered at 300 dpi into `folder`."""
    folder.mkdir()
    (folder / "receipt.pdf").write_bytes(pdf)
    subprocess.run([PDFTOPPM, "-png", "-r", "300", folder / "receipt.pdf", folder / "page"], check=True)
    pages = sorted(str(page) for page in folder.glob("page*.png"))
    scanned = subprocess.run([ZBARIMG, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", *pages], capture_output=True)
    assert scanned.returncode in (0, 4), scanned.stderr  # 4: no code found
    return scanned.stdout.decode().splitlines()


def berlin(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y, %H:%M:%S Uhr")


@needs_pdftotext
@needs_zbarimg
def test_a_signed_sale_s_receipt_shows_every_tse_field_and_its_v0_code(backend, tse, tmp_path):
    placed = place(backend, "on_site")
    [mail] = delivered(backend)  # mailed once the TSE signed
    pdf = mail.attachments[0].content
    record = backend.orders.read_in_store(STORE, placed.order.id)[0].tse
    block = [
        "TSE",
        f"TSE-Seriennummer {tse.tsss[tss_id_of(STORE)].serial_number}",
        "Kassen-Seriennummer tresen-demo-counter",
        "Transaktionsnummer 1",
        "Signaturzähler 2",
        f"Start {berlin(record['start'])}",
        f"Ende {berlin(record['end'])}",
        "Signaturalgorithmus memory-SHA384",
        "Zeitformat unixTime",
        f"Signatur {record['signature']}",
        f"Öffentlicher Schlüssel {record['public_key']}",
        "QR-Code (DSFinV-K)",
        "Ihre Bestellung online",
    ]
    assert missing(pdf, [" ".join(block)]) == []  # each value whole, between its label and the next
    assert qr_codes(pdf, tmp_path / "signed") == [record["qr_code"]]
    assert receipt_downloads.receipt(backend, placed.order.id, placed.access_token).content == pdf


@needs_pdftotext
@needs_zbarimg
def test_a_sale_whose_tse_failed_says_so_without_a_code_until_it_is_signed(backend, tse, tmp_path):
    tse.down = True
    placed = place(backend, "on_site")
    [mail] = delivered(backend)  # not held back: the sale went on without its TSE
    pdf = mail.attachments[0].content
    assert missing(pdf, [f"Bezahlung Betrag Zahlung vor Ort an der Kasse 8,40 € TSE {FAILED} Ihre Bestellung"]) == []
    assert missing(pdf, ["TSE-Seriennummer", "Signaturzähler"]) == ["TSE-Seriennummer", "Signaturzähler"]
    assert qr_codes(pdf, tmp_path / "failed") == []

    tse.down = False
    assert finish_unsigned_sales(backend) == {"signed": 1, "failed": 0}
    later = receipt_downloads.receipt(backend, placed.order.id, placed.access_token).content
    record = backend.orders.read_in_store(STORE, placed.order.id)[0].tse
    assert missing(later, [FAILED, f"Signatur {record['signature']}"]) == [FAILED]
    assert qr_codes(later, tmp_path / "signed") == [record["qr_code"]]


@needs_pdftotext
def test_an_online_sale_s_receipt_has_no_tse_block(backend, tse):
    placed = place(backend, "online")
    pay(backend, placed.order)
    [mail] = delivered(backend)
    expected = ["Online bezahlt über Sandbox (Test) 8,40 € Ihre Bestellung online", "TSE"]
    assert missing(mail.attachments[0].content, expected) == ["TSE"]
