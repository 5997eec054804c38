"""PayPal for licence invoices, driven as Tresen drives it: `PayPalBilling` over PayPal's SDK against the
local stand-in (standins/paypal_api.py), its webhooks received over HTTP by a small receiver and
verified by asking the stand-in, as PayPal is asked. Needs no emulator."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import threading
import zlib
from dataclasses import replace

import pytest
import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from paypal_spec import ORDERS, WEBHOOKS, problems
from stack import ROOT, free_port
from tresen.adapters import paypal_billing as adapter
from tresen.adapters.paypal_billing import PayPalBilling
from tresen.config import load_settings
from tresen.domain.errors import DomainError
from tresen.services.paypal_ports import (
    CAPTURE_COMPLETED,
    CAPTURE_DENIED,
    CAPTURE_PENDING,
    ORDER_APPROVED,
    PayPal,
    PayPalEvent,
    PayPalRefused,
    PayPalSignatureError,
    PayPalUnavailable,
)
from tresen.standins.paypal_api import PayPalStandIn, start

CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID = "sb-tresen-test", "sb-secret-test", "1JE4291016473214C"
RETURN_URL = "https://staff.tresen.example/invoices/inv_7g2k?paypal=approved"
CANCEL_URL = "https://staff.tresen.example/invoices/inv_7g2k"
INVOICE = {
    "reference": "inv_7g2k",
    "invoice_number": "TRESEN-2026-000123",
    "amount": 9401,
    "currency": "EUR",
    "description": "Tresen licence, November 2026",
    "return_url": RETURN_URL,
    "cancel_url": CANCEL_URL,
}


class Receiver:
    """A webhook endpoint: records every POST and answers the statuses queued in `answers`, then 200."""

    def __init__(self):
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.port}/v1/webhooks/paypal"

    @Request.application
    def app(self, request: Request) -> Response:
        self.posts.append((dict(request.headers), request.get_data()))
        return Response("", self.answers.pop(0) if self.answers else 200)


class Stand:
    """The stand-in, its URL, the receiver of its webhooks and Tresen's client of it."""

    def __init__(self, receiver: Receiver):
        self.receiver = receiver
        self.stand_in = PayPalStandIn(receiver.url, WEBHOOK_ID, CLIENT_ID, CLIENT_SECRET, retry_delays=(0.05, 0.1))
        self.server, self.url = start(self.stand_in)
        self.billing = PayPalBilling(self.url, CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID)

    def order(self, request_id: str = "create-inv_7g2k-1", **changes):
        return self.billing.create_order(**(INVOICE | changes), request_id=request_id)

    def approve(self, order_id: str) -> str:
        answer = requests.post(f"{self.url}/_standin/orders/{order_id}/approve", json={}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["redirect"]

    def delivered(self) -> list[tuple[dict[str, str], bytes]]:
        """Every webhook received, once the stand-in sent all it made."""
        assert self.stand_in.wait_delivered() == 0
        return self.receiver.posts

    def events(self) -> list[PayPalEvent]:
        return [self.billing.verified_event(headers, body) for headers, body in self.delivered()]

    def shown(self, order_id: str) -> dict:
        """The order as PayPal shows it."""
        token = requests.post(
            f"{self.url}/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=10,
        ).json()["access_token"]
        answer = requests.get(
            f"{self.url}/v2/checkout/orders/{order_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        return answer.json()

    def sent(self, path: str) -> list[dict]:
        return [request for request in self.stand_in.requests if request["path"] == path]


@pytest.fixture
def paypal():
    stand = Stand(Receiver())
    yield stand
    stand.server.shutdown()
    stand.receiver.server.shutdown()


def test_an_invoice_paid_from_its_order_to_the_completed_capture(paypal):
    order = paypal.order()
    assert isinstance(paypal.billing, PayPal)
    assert order.approve_url == f"{paypal.url}/checkoutnow?token={order.id}"
    payer = paypal.approve(order.id)
    assert payer.startswith(f"{RETURN_URL}&token={order.id}&PayerID=")
    [approved] = paypal.events()
    assert approved == PayPalEvent(approved.id, ORDER_APPROVED, order.id, None, "inv_7g2k", 9401)
    assert paypal.billing.capture(order.id, "capture-inv_7g2k-1") == "COMPLETED"
    [capture] = paypal.shown(order.id)["purchase_units"][0]["payments"]["captures"]
    completed = paypal.events()[1]
    assert completed == PayPalEvent(completed.id, CAPTURE_COMPLETED, order.id, capture["id"], "inv_7g2k", 9401)
    assert approved.id.startswith("WH-") and completed.id.startswith("WH-") and approved.id != completed.id


def test_the_order_paypal_keeps_names_the_invoice_and_its_exact_amount(paypal):
    order = paypal.order()
    unit = paypal.shown(order.id)["purchase_units"][0]
    assert unit == {
        "reference_id": "inv_7g2k",
        "amount": {"currency_code": "EUR", "value": "94.01"},
        "payee": paypal.stand_in.merchant,
        "custom_id": "inv_7g2k",
        "invoice_id": "TRESEN-2026-000123",
        "description": "Tresen licence, November 2026",
    }
    [created] = paypal.sent("/v2/checkout/orders")
    assert created["request_id"] == "create-inv_7g2k-1"
    # the one field the SDK sends that PayPal added after the vendored description (2024-02)
    assert problems(created["body"], ORDERS, "order_request") == [
        "/payment_source/paypal/experience_context/contact_preference: not declared"
    ]
    assert created["body"]["intent"] == "CAPTURE"
    context = created["body"]["payment_source"]["paypal"]["experience_context"]
    assert (context["return_url"], context["cancel_url"], context["shipping_preference"], context["user_action"]) == (
        RETURN_URL,
        CANCEL_URL,
        "NO_SHIPPING",
        "PAY_NOW",
    )


@pytest.mark.parametrize(
    ("cents", "value"), [(9401, "94.01"), (5, "0.05"), (100, "1.00"), (1990, "19.90"), (123456789, "1234567.89")]
)
def test_amounts_go_to_paypal_and_come_back_exactly(paypal, cents, value):
    order = paypal.order(amount=cents)
    assert paypal.shown(order.id)["purchase_units"][0]["amount"] == {"currency_code": "EUR", "value": value}
    paypal.approve(order.id)
    paypal.billing.capture(order.id, "capture-1")
    assert [event.amount for event in paypal.events()] == [cents, cents]


def test_the_same_request_id_gives_the_same_order_and_another_a_new_one(paypal):
    first = paypal.order("create-inv_7g2k-1")
    assert paypal.order("create-inv_7g2k-1") == first
    assert paypal.order("create-inv_7g2k-2").id != first.id
    assert [request["status"] for request in paypal.sent("/v2/checkout/orders")] == [201, 200, 201]


def test_capturing_a_captured_order_again_is_done_already(paypal):
    order = paypal.order()
    paypal.approve(order.id)
    assert paypal.billing.capture(order.id, "capture-1") == "COMPLETED"
    assert paypal.billing.capture(order.id, "capture-1") == "COMPLETED"  # PayPal answers the same request once
    assert paypal.billing.capture(order.id, "capture-2") == "COMPLETED"  # ORDER_ALREADY_CAPTURED: read the order
    assert [request["status"] for request in paypal.sent(f"/v2/checkout/orders/{order.id}/capture")] == [201, 200, 422]
    assert len(paypal.shown(order.id)["purchase_units"][0]["payments"]["captures"]) == 1
    assert [event.type for event in paypal.events()] == [ORDER_APPROVED, CAPTURE_COMPLETED]


def test_an_order_not_yet_approved_is_not_captured(paypal):
    order = paypal.order()
    with pytest.raises(PayPalRefused) as refused:
        paypal.billing.capture(order.id, "capture-1")
    assert refused.value.code == "ORDER_NOT_APPROVED"
    assert paypal.shown(order.id)["status"] == "PAYER_ACTION_REQUIRED"


def test_an_invoice_paid_once_is_not_paid_by_a_second_order(paypal):
    for attempt in ("1", "2"):
        paypal.approve(paypal.order(f"create-{attempt}").id)
    first, second = (request["body"] for request in paypal.sent("/v2/checkout/orders"))
    assert first == second
    orders = [event.order_id for event in paypal.events()]
    assert paypal.billing.capture(orders[0], "capture-1") == "COMPLETED"
    with pytest.raises(PayPalRefused) as refused:
        paypal.billing.capture(orders[1], "capture-2")
    assert refused.value.code == "DUPLICATE_INVOICE_ID"


def test_a_pending_capture_is_not_paid_until_paypal_completes_it(paypal):
    requests.post(f"{paypal.url}/_standin/captures/next", json={"status": "PENDING"}, timeout=10)
    order = paypal.order()
    paypal.approve(order.id)
    assert paypal.billing.capture(order.id, "capture-1") == "PENDING"
    [capture] = paypal.shown(order.id)["purchase_units"][0]["payments"]["captures"]
    requests.post(f"{paypal.url}/_standin/captures/{capture['id']}/settle", json={"status": "COMPLETED"}, timeout=10)
    assert [(event.type, event.capture_id, event.amount) for event in paypal.events()[1:]] == [
        (CAPTURE_PENDING, capture["id"], 9401),
        (CAPTURE_COMPLETED, capture["id"], 9401),
    ]


def test_a_declined_capture_is_denied(paypal):
    requests.post(f"{paypal.url}/_standin/captures/next", json={"status": "DECLINED"}, timeout=10)
    order = paypal.order()
    paypal.approve(order.id)
    assert paypal.billing.capture(order.id, "capture-1") == "DECLINED"
    denied = paypal.events()[1]
    assert (denied.type, denied.order_id, denied.reference) == (CAPTURE_DENIED, order.id, "inv_7g2k")


def test_a_tampered_body_is_not_verified(paypal):
    paypal.approve(paypal.order().id)
    [(headers, body)] = paypal.delivered()
    assert b'"value":"94.01"' in body
    with pytest.raises(PayPalSignatureError):
        paypal.billing.verified_event(headers, body.replace(b'"value":"94.01"', b'"value":"9.01"'))
    assert paypal.billing.verified_event(headers, body).amount == 9401


def test_an_event_for_another_webhook_is_not_verified(paypal):
    paypal.approve(paypal.order().id)
    [(headers, body)] = paypal.delivered()
    other = PayPalBilling(paypal.url, CLIENT_ID, CLIENT_SECRET, "8PT597110X687430L")
    with pytest.raises(PayPalSignatureError):
        other.verified_event(headers, body)


def test_a_signature_of_another_transmission_is_not_verified(paypal):
    paypal.approve(paypal.order().id)
    [(headers, body)] = paypal.delivered()
    with pytest.raises(PayPalSignatureError):
        paypal.billing.verified_event(headers | {"Paypal-Transmission-Time": "2026-12-01T10:00:00Z"}, body)


def test_what_paypal_cannot_have_signed_is_refused_without_asking_it(paypal):
    paypal.approve(paypal.order().id)
    [(headers, body)] = paypal.delivered()
    unsigned = {name: value for name, value in headers.items() if name.lower() != "paypal-transmission-sig"}
    with pytest.raises(PayPalSignatureError, match="PAYPAL-TRANSMISSION-SIG"):
        paypal.billing.verified_event(unsigned, body)
    for not_an_event in (b"not json", b"[]", b'{"id": "WH-1"}'):
        with pytest.raises(PayPalSignatureError, match="not a PayPal event"):
            paypal.billing.verified_event(headers, not_an_event)
    assert paypal.sent("/v1/notifications/verify-webhook-signature") == []


def test_the_verification_asked_for_is_paypals_request(paypal):
    paypal.approve(paypal.order().id)
    [(headers, body)] = paypal.delivered()
    paypal.billing.verified_event(headers, body)
    [asked] = paypal.sent("/v1/notifications/verify-webhook-signature")
    assert problems(asked["body"], WEBHOOKS, "verify_webhook_signature") == []
    assert asked["body"]["webhook_event"] == json.loads(body)
    assert (asked["body"]["webhook_id"], asked["body"]["transmission_id"]) == (
        WEBHOOK_ID,
        headers["Paypal-Transmission-Id"],
    )


def test_webhooks_are_signed_as_paypal_signs_them(paypal):
    """Checked without the stand-in's own verification: the certificate at PAYPAL-CERT-URL verifies
    SHA256withRSA over `transmission_id|transmission_time|webhook_id|crc32(body)`."""
    paypal.approve(paypal.order().id)
    [(headers, body)] = paypal.delivered()
    assert headers["Paypal-Auth-Algo"] == "SHA256withRSA"
    assert headers["Paypal-Cert-Url"].startswith(f"{paypal.url}/v1/notifications/certs/CERT-")
    certificate = x509.load_pem_x509_certificate(requests.get(headers["Paypal-Cert-Url"], timeout=10).content)
    signed = "|".join(
        [headers["Paypal-Transmission-Id"], headers["Paypal-Transmission-Time"], WEBHOOK_ID, str(zlib.crc32(body))]
    )
    signature = base64.b64decode(headers["Paypal-Transmission-Sig"])
    certificate.public_key().verify(signature, signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        certificate.public_key().verify(signature, signed.encode() + b"0", padding.PKCS1v15(), hashes.SHA256())


def test_paypal_s_own_hosts_are_the_sdk_s_own_environments(paypal):
    from paypalserversdk.configuration import Environment

    for base, environment in ((adapter.LIVE_BASE, Environment.PRODUCTION), (adapter.SANDBOX_BASE, Environment.SANDBOX)):
        config = PayPalBilling(base, CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID)._client.config
        assert (config.environment, config.get_base_uri()) == (environment, base)
    config = paypal.billing._client.config  # PAYPAL_API_BASE: a host the SDK does not know
    assert (config.environment, config.get_base_uri()) == (Environment.SANDBOX, paypal.url)


def test_one_token_serves_every_call(paypal):
    order = paypal.order()
    paypal.approve(order.id)
    paypal.billing.capture(order.id, "capture-1")
    assert len(paypal.events()) == 2
    assert len(paypal.sent("/v1/oauth2/token")) == 1


def test_a_webhook_paypal_could_not_deliver_is_sent_again(paypal):
    paypal.receiver.answers = [503, 500]
    paypal.approve(paypal.order().id)
    posts = paypal.delivered()
    assert len(posts) == 3
    assert len({body for _, body in posts}) == 1
    assert len({headers["Paypal-Transmission-Id"] for headers, _ in posts}) == 3  # each attempt its own
    assert paypal.billing.verified_event(*posts[-1]).type == ORDER_APPROVED


def test_the_payer_approves_on_the_page_and_is_sent_back(paypal):
    order = paypal.order()
    page = requests.get(order.approve_url, timeout=10)
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert '<label for="email">' in page.text and '<input id="email"' in page.text
    assert '<button type="submit">Approve and pay</button>' in page.text
    assert f'<a href="{CANCEL_URL}?token={order.id}">Cancel</a>' in page.text
    assert "94.01 EUR" in page.text and "TRESEN-2026-000123" in page.text
    approved = requests.post(order.approve_url, data={"email": "owner@cafe.example"}, allow_redirects=False, timeout=10)
    assert approved.status_code == 303
    assert approved.headers["Location"].startswith(f"{RETURN_URL}&token={order.id}&PayerID=")
    assert [event.type for event in paypal.events()] == [ORDER_APPROVED]
    assert paypal.shown(order.id)["payer"]["email_address"] == "owner@cafe.example"
    again = requests.post(order.approve_url, data={"email": "owner@cafe.example"}, allow_redirects=False, timeout=10)
    assert again.status_code == 409


def test_wrong_credentials_are_refused(paypal):
    wrong = PayPalBilling(paypal.url, CLIENT_ID, "not-the-secret", WEBHOOK_ID)
    with pytest.raises(PayPalRefused) as refused:
        wrong.create_order(**INVOICE, request_id="create-1")
    assert (refused.value.code, refused.value.message) == ("invalid_client", "Client Authentication failed")


def test_paypal_out_of_reach_is_unavailable():
    unreachable = PayPalBilling(f"http://127.0.0.1:{free_port()}", CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID)
    with pytest.raises(PayPalUnavailable):
        unreachable.create_order(**INVOICE, request_id="create-1")
    with pytest.raises(PayPalUnavailable):
        unreachable.capture("5O190127TN364715T", "capture-1")
    event = json.dumps({"id": "WH-1", "event_type": ORDER_APPROVED}).encode()
    headers = {name: "x" for name in adapter.SIGNATURE_HEADERS}
    with pytest.raises(PayPalUnavailable):
        unreachable.verified_event(headers, event)


@pytest.fixture
def failing_paypal():
    """A PayPal that grants tokens and answers every other call with the status in `status[0]`."""
    status = [500]

    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/v1/oauth2/token":
            token = {"access_token": "A21AAfailing", "token_type": "Bearer", "expires_in": 32400}
            return Response(json.dumps(token), 200, mimetype="application/json")
        failed = {"name": "INTERNAL_SERVER_ERROR", "message": "An internal server error occurred.", "debug_id": "1"}
        return Response(json.dumps(failed), status[0], mimetype="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield PayPalBilling(f"http://127.0.0.1:{server.port}", CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID), status
    server.shutdown()


@pytest.mark.parametrize("failing", [500, 503, 429])
def test_paypal_failing_on_its_side_is_unavailable(failing_paypal, failing):
    billing, status = failing_paypal
    status[0] = failing
    with pytest.raises(PayPalUnavailable):
        billing.create_order(**INVOICE, request_id="create-1")
    with pytest.raises(PayPalUnavailable):
        billing.capture("5O190127TN364715T", "capture-1")
    headers = {name: "x" for name in adapter.SIGNATURE_HEADERS}
    with pytest.raises(PayPalUnavailable):
        billing.verified_event(headers, json.dumps({"id": "WH-1", "event_type": ORDER_APPROVED}).encode())


def test_the_client_comes_from_the_settings(paypal, monkeypatch):
    environ = {
        "PAYPAL_API_BASE": paypal.url,
        "PAYPAL_CLIENT_ID": CLIENT_ID,
        "PAYPAL_CLIENT_SECRET": CLIENT_SECRET,
        "PAYPAL_WEBHOOK_ID": WEBHOOK_ID,
    }
    monkeypatch.setattr(adapter, "settings", lambda: load_settings(environ))
    billing = adapter.paypal_billing.__wrapped__()  # not the process's own, which is made once
    order = billing.create_order(**INVOICE, request_id="create-1")
    assert order.approve_url == f"{paypal.url}/checkoutnow?token={order.id}"


def test_a_missing_setting_is_named():
    settings = replace(load_settings({}), paypal_client_secret="", paypal_webhook_id="")
    assert (settings.paypal_client_id, settings.paypal_api_base) == ("sb-tresen-dev", "")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(adapter, "settings", lambda: settings)
        with pytest.raises(DomainError) as refused:
            adapter.paypal_billing.__wrapped__()  # not the process's own, which is made once
    assert refused.value.code == "provider_not_ready"
    assert refused.value.detail == "PayPal is not configured here: PAYPAL_CLIENT_SECRET, PAYPAL_WEBHOOK_ID not set."


def test_the_stand_in_runs_as_a_program():
    port = free_port()
    program = subprocess.Popen(
        [sys.executable, "-m", "tresen.standins.paypal_api", "--port", str(port)],
        cwd=ROOT / "functions",
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert program.stdout.readline().strip() == f"paypal stand-in ready: http://127.0.0.1:{port}"
        billing = PayPalBilling(f"http://127.0.0.1:{port}", "sb-tresen-dev", "sb-secret-dev", "WH-TRESEN-DEV")
        assert billing.create_order(**INVOICE, request_id="create-1").id
    finally:
        program.send_signal(signal.SIGTERM)
        assert program.wait(timeout=10) == 0
