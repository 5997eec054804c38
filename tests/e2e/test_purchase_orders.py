"""A purchase order against a running `tresen dev`: sent to the supplier through the outbox, it
arrives in the dev SMTP sink with its PDF and CSV (both downloaded: the PDF read back with pdftotext,
the CSV byte for byte), and receiving it raises the stock a customer's order is then served from."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from urllib.parse import quote

import pytest
import requests
from test_licence_billing import eventually, mails_to

from merchant import Merchant
from stack import RunningStack

pytestmark = pytest.mark.e2e
PDFTOTEXT = shutil.which("pdftotext")
BREZEL = {"name": "Laugenbrezel", "price": 120, "vat_rate": "7", "kind": "item", "stock_tracked": True}


def menu_availability(base: str) -> dict[str, bool]:
    products = requests.get(f"{base}/v1/stores/demo/menu", timeout=30).json()["products"]
    return {product["id"]: product["available"] for product in products}


def order_brezels(base: str, quantity: int) -> requests.Response:
    body = {
        "items": [{"product_id": "brezel", "quantity": quantity}],
        "fulfilment": {"type": "pickup"},
        "customer": {"name": "Ben", "email": "ben@example.com"},
        "payment": {"method": "on_site"},
    }
    return requests.post(
        f"{base}/v1/stores/demo/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=30
    )


def squashed(text: str) -> str:
    """`text` without whitespace: pdftotext's spacing is a guess."""
    return re.sub(r"\s+", "", text)


def page_text(pdf: bytes) -> str:
    laid_out = subprocess.run([PDFTOTEXT, "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return squashed(laid_out.decode())


def attachment(base: str, mail: dict, filename: str) -> bytes:
    downloaded = requests.get(f"{base}/v1/dev/mail/{mail['id']}/attachments/{quote(filename)}", timeout=10)
    assert downloaded.status_code == 200, downloaded.text
    return downloaded.content


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext is not installed (Debian: apt-get install poppler-utils)")
def test_a_purchase_order_reaches_the_supplier_with_its_pdf_and_csv_and_its_delivery_raises_the_stock():
    with RunningStack() as stack:
        base, owner, staff = stack.url, Merchant(stack.url, "owner"), Merchant(stack.url, "staff")
        put = requests.put(f"{base}/v1/stores/demo/products/brezel", json=BREZEL, headers=owner.auth, timeout=30)
        assert put.status_code == 201, put.text
        assert menu_availability(base)["brezel"] is False  # tracked, never counted: sold out
        email = f"bestellung-{uuid.uuid4().hex[:8]}@muehle-schmidt.example"
        supplier = owner.post(
            "/v1/stores/demo/suppliers",
            {"name": "Mühle Schmidt GmbH", "email": email, "customer_number": "K-4711"},
            status=201,
        )
        lines = [
            {"product_id": "brezel", "quantity": 20, "unit": "Stück"},
            {"name": "Weizenmehl Type 550", "quantity": 25, "unit": "kg"},
        ]
        order = owner.post("/v1/stores/demo/purchase-orders", {"supplier_id": supplier["id"], "lines": lines}, 201)
        number = order["number"]

        arrived = eventually(lambda: mails_to(stack, email))
        assert arrived, stack.output_tail()
        [mail] = arrived
        assert mail["subject"] == f"Bestellung {number} von Demo Café"
        assert [(a["filename"], a["content_type"]) for a in mail["attachments"]] == [
            (f"Bestellung {number}.pdf", "application/pdf"),
            (f"Bestellung {number}.csv", "text/csv"),
        ]
        csv = attachment(base, mail, f"Bestellung {number}.csv")
        assert csv == (
            b"\xef\xbb\xbfPosition;Artikelnummer;Bezeichnung;Menge;Einheit\r\n"
            b"1;brezel;Laugenbrezel;20;St\xc3\xbcck\r\n"
            b"2;;Weizenmehl Type 550;25;kg\r\n"
        )
        pdf = attachment(base, mail, f"Bestellung {number}.pdf")
        page = page_text(pdf)
        for line in (
            "Demo Café Bestellung",
            f"Bestellnummer {number}",
            "Lieferant Mühle Schmidt GmbH",
            "Unsere Kundennummer K-4711",
            "Pos. Artikelnummer Bezeichnung Menge Einheit",
            "1 brezel Laugenbrezel 20 Stück",
            "2 Weizenmehl Type 550 25 kg",
        ):
            assert squashed(line) in page, line
        assert owner.get(f"/v1/stores/demo/purchase-orders/{order['id']}.pdf").content == pdf

        received = staff.post(
            f"/v1/stores/demo/purchase-orders/{order['id']}/receive", {"lines": [{"line": 1, "quantity": 20}]}
        )
        assert (received["status"], [line["received"] for line in received["lines"]]) == ("partially_received", [20, 0])
        assert menu_availability(base)["brezel"] is True
        beyond = order_brezels(base, 21)
        assert (beyond.status_code, beyond.json()["code"], beyond.json()["available"]) == (
            409,
            "out_of_stock",
            {"brezel": 20},
        )
        assert order_brezels(base, 20).status_code == 201
