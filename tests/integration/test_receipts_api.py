"""Receipts over HTTP on the emulators: an order placed with `receipt: "email"` and paid through the
sandbox's webhook (delivered twice) has exactly one receipt in the outbox, which the local SMTP sink
receives once; `GET /v1/orders/{order}/receipt.pdf` with the order's token hands out the very PDF
mailed; a refund mails its correction receipt, downloadable beside it."""

from __future__ import annotations

import uuid

import pytest
from test_dev_mail import sink  # noqa: F401  (the fixture: the dev SMTP sink, the backend's mail sent there)

from support import deliver, idem, order_body, payment_event, refund
from tresen.adapters.mail_outbox import OUTBOX


def place(client, store_id, email: str, **body) -> dict:
    customer = {"name": "Anna Beispiel", "email": email}
    response = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(customer=customer, receipt="email", **body), headers=idem()
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def mailed_to(backend, email: str) -> list[dict]:
    """The outbox's mails to this address (each test orders with an address of its own)."""
    return [doc.data for doc in backend.docs.query(OUTBOX, where=[("to", "==", email)])]


def pdf(client, path: str, token: str):
    return client.get(path, headers={"X-Order-Token": token})


@pytest.mark.usefixtures("sink")
def test_an_order_paid_through_the_sandbox_is_mailed_one_receipt_and_hands_out_the_same_pdf(client, backend, store_id):
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    order = place(client, store_id, email, payment={"method": "online"})
    assert (order["receipt"], order["invoice_number"]) == ("email", None)
    unpaid = pdf(client, f"/v1/orders/{order['id']}/receipt.pdf", order["access_token"])
    assert (unpaid.status_code, unpaid.get_json()["code"]) == (409, "order_not_paid")

    paid = payment_event(order, "succeeded")
    assert [deliver(client, paid).get_json()["duplicate"] for _ in range(2)] == [False, True]
    backend.mail_courier.drain()

    [mail] = mailed_to(backend, email)
    [attachment] = mail["attachments"]
    invoice_number = client.get(f"/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]})
    number = invoice_number.get_json()["invoice_number"]
    assert (mail["id"], mail["subject"], mail["status"]) == (
        f"rcpt-{order['id']}",
        f"Ihr Beleg {number} – Demo Café",
        "sent",
    )
    assert (attachment["filename"], attachment["content_type"]) == (f"Beleg {number}.pdf", "application/pdf")
    assert [kept.id for kept in backend.dev_mail.newest_first(100) if kept.to == email] == [mail["id"]]

    download = pdf(client, f"/v1/orders/{order['id']}/receipt.pdf", order["access_token"])
    assert (download.status_code, download.content_type) == (200, "application/pdf")
    assert download.headers["Content-Disposition"] == f'attachment; filename="Beleg {number}.pdf"'
    assert download.data == attachment["content"]
    stranger = pdf(client, f"/v1/orders/{order['id']}/receipt.pdf", "not-the-token")
    assert (stranger.status_code, stranger.get_json()["code"]) == (404, "order_not_found")


@pytest.mark.usefixtures("sink")
def test_a_refund_mails_its_correction_receipt_and_hands_it_out(client, backend, store_id):
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    order = place(client, store_id, email)  # on site: invoiced, and its receipt mailed, as it is placed
    refunded = refund(client, store_id, order["id"], {"lines": [{"line_id": "L1", "quantity": 1}]})
    assert refunded.status_code == 201, refunded.get_json()
    refund_id = refunded.get_json()["id"]
    backend.mail_courier.drain()

    mails = {mail["id"]: mail for mail in mailed_to(backend, email)}
    assert sorted(mails) == sorted([f"rcpt-{order['id']}", f"rcpt-{refund_id}"])
    correction = mails[f"rcpt-{refund_id}"]
    assert correction["subject"] == f"Rechnungskorrektur zu Ihrem Beleg {order['invoice_number']} – Demo Café"
    download = pdf(client, f"/v1/orders/{order['id']}/refunds/{refund_id}/receipt.pdf", order["access_token"])
    assert (download.status_code, download.data) == (200, correction["attachments"][0]["content"])
    unknown = pdf(client, f"/v1/orders/{order['id']}/refunds/re_unknown/receipt.pdf", order["access_token"])
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "not_found")


def test_a_receipt_by_email_needs_an_address_a_mail_can_go_to(client, store_id):
    customer = {"name": "Anna Beispiel", "email": "anna@example..de"}  # the order alone would take it
    response = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(customer=customer, receipt="email"), headers=idem()
    )
    assert (response.status_code, [error["field"] for error in response.get_json()["errors"]]) == (
        422,
        ["customer.email"],
    )
    without = client.post(f"/v1/stores/{store_id}/orders", json=order_body(customer=customer), headers=idem())
    assert (without.status_code, without.get_json()["receipt"]) == (201, None)
