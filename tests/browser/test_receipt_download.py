"""The ordering page's receipts in headless Chromium, against a running `tresen dev`: a customer who
ticks "Beleg als PDF zusenden" and orders to pay at the counter is mailed the receipt (the stack's
SMTP sink keeps it), and "Beleg (PDF)" on the order's page saves the very PDF the mail carried."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import requests

from conftest import screenshot


def mailed(stack, mail_id: str, timeout: float = 15.0) -> dict:
    """The mail the sink received under this id: the outbox sends it in the background, after the
    request that wrote it, so it is waited for."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            mail
            for mail in requests.get(f"{stack.url}/v1/dev/mail", timeout=10).json()["data"]
            if mail["id"] == mail_id
        ]
        if found or time.monotonic() > deadline:
            assert found, f"no mail {mail_id} within {timeout:.0f} s"
            return found[0]
        time.sleep(0.1)


def test_a_receipt_asked_for_is_mailed_and_saved_from_the_order_page(web_stack, phone):
    email = f"guest-{uuid.uuid4().hex[:10]}@example.com"
    phone.goto(f"{web_stack.url}/?store=demo")
    phone.wait_for_selector("[data-product=croissant]")
    phone.locator("[data-product=croissant] button.add").click()
    phone.get_by_label("Name", exact=True).fill("Ada Gast")
    phone.get_by_label("E-Mail").fill(email)
    phone.get_by_label("Beleg als PDF zusenden").check()
    phone.get_by_label("An der Kasse bezahlen").check()
    phone.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    phone.wait_for_selector("#order-status[data-status=placed]")
    order_id = re.search(r"#order=(ord_\w+)$", phone.url)[1]
    invoice = phone.locator("#invoice-number").inner_text()
    screenshot(phone, "order-receipt-phone")

    with phone.expect_download() as downloading:
        phone.get_by_role("button", name="Beleg (PDF)").click()
    download = downloading.value
    assert download.suggested_filename == f"Beleg {invoice}.pdf"
    mail = mailed(web_stack, f"rcpt-{order_id}")
    assert (mail["to"], mail["subject"]) == (email, f"Ihr Beleg {invoice} – Demo Café")
    [attachment] = mail["attachments"]
    sent = requests.get(
        f"{web_stack.url}/v1/dev/mail/{mail['id']}/attachments/{quote(attachment['filename'])}", timeout=10
    )
    assert Path(download.path()).read_bytes() == sent.content
