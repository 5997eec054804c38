"""The PayPal stand-in answers in PayPal's published shapes (tests/data/paypal/): its orders, captures,
events and errors are valid under PayPal's own OpenAPI schemas and carry no field those do not declare.
The stand-in is called in process (werkzeug's test client): no socket, no webhook sent."""

from __future__ import annotations

import base64

import pytest
from werkzeug.test import Client

from paypal_spec import ORDERS, PAYMENTS, WEBHOOKS, issues, problems
from tresen.standins.paypal_api import PayPalStandIn

REPRESENTATION = {"Prefer": "return=representation"}
ORDER_REQUEST = {
    "intent": "CAPTURE",
    "purchase_units": [
        {
            "reference_id": "inv_7g2k",
            "custom_id": "inv_7g2k",
            "invoice_id": "TRESEN-2026-000123",
            "description": "Tresen licence, November 2026",
            "amount": {"currency_code": "EUR", "value": "94.01"},
        }
    ],
    "payment_source": {
        "paypal": {
            "experience_context": {
                "return_url": "https://staff.tresen.example/invoices/inv_7g2k?paypal=approved",
                "cancel_url": "https://staff.tresen.example/invoices/inv_7g2k",
                "shipping_preference": "NO_SHIPPING",
                "user_action": "PAY_NOW",
            }
        }
    },
}


class PayPal:
    """The stand-in in process, called with a token as PayPal's clients call it."""

    def __init__(self):
        self.stand_in = PayPalStandIn()
        self.client = Client(self.stand_in)
        basic = base64.b64encode(b"sb-tresen-dev:sb-secret-dev").decode()
        granted = self.client.post(
            "/v1/oauth2/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
        )
        self.bearer = {"Authorization": f"Bearer {granted.json['access_token']}"}

    def call(self, method: str, path: str, body: dict | None = None, **headers: str):
        # buffered: the answer is read to its end, as a client reads it, which is when events are made
        return self.client.open(path, method=method, json=body, headers=self.bearer | headers, buffered=True)

    def event(self, index: int) -> dict:
        listed = self.client.get("/_standin/events").json["events"]
        return self.client.get(f"/_standin/events/{listed[index]['id']}").json

    def approved(self, request: dict = ORDER_REQUEST) -> str:
        order_id = self.call("POST", "/v2/checkout/orders", request).json["id"]
        assert self.client.post(f"/_standin/orders/{order_id}/approve", json={}, buffered=True).status_code == 200
        return order_id


@pytest.fixture
def paypal() -> PayPal:
    return PayPal()


def test_the_check_finds_an_invented_field_and_a_wrong_value():
    order = {"id": "5O190127TN364715T", "status": "CREATED", "links": []}
    assert problems(order, ORDERS, "order") == []
    assert problems(order | {"invented": 1}, ORDERS, "order") == ["/invented: not declared"]
    assert problems(order | {"links": [{"href": "h", "rel": "self", "verb": "GET"}]}, ORDERS, "order") == [
        "/links/0/verb: not declared"
    ]
    assert [problem.split(":")[0] for problem in problems(order | {"status": "PAID"}, ORDERS, "order")] == ["/status"]


@pytest.mark.parametrize("prefer", [{}, REPRESENTATION], ids=["minimal", "representation"])
def test_a_created_order_is_an_order(paypal, prefer):
    created = paypal.call("POST", "/v2/checkout/orders", ORDER_REQUEST, **prefer)
    assert created.status_code == 201
    assert problems(created.json, ORDERS, "order") == []
    assert created.json["status"] == "PAYER_ACTION_REQUIRED"
    assert [link["rel"] for link in created.json["links"]] == ["self", "payer-action"]


def test_an_order_without_a_payment_source_is_approved_through_its_approve_link(paypal):
    request = {key: value for key, value in ORDER_REQUEST.items() if key != "payment_source"}
    created = paypal.call("POST", "/v2/checkout/orders", request, **REPRESENTATION)
    assert problems(created.json, ORDERS, "order") == []
    assert created.json["status"] == "CREATED"
    assert [link["rel"] for link in created.json["links"]] == ["self", "approve", "update", "capture"]


def test_an_approved_order_and_its_event(paypal):
    order_id = paypal.approved()
    shown = paypal.call("GET", f"/v2/checkout/orders/{order_id}")
    assert shown.status_code == 200
    assert problems(shown.json, ORDERS, "order") == []
    assert (shown.json["status"], shown.json["payer"]["address"]["country_code"]) == ("APPROVED", "DE")
    event = paypal.event(0)
    assert problems(event, WEBHOOKS, "event") == []
    assert problems(event["resource"], ORDERS, "order") == []
    assert (event["event_type"], event["resource_type"], event["resource"]) == (
        "CHECKOUT.ORDER.APPROVED",
        "checkout-order",
        shown.json,
    )


@pytest.mark.parametrize("prefer", [{}, REPRESENTATION], ids=["minimal", "representation"])
def test_a_captured_order_and_its_capture_event(paypal, prefer):
    order_id = paypal.approved()
    captured = paypal.call("POST", f"/v2/checkout/orders/{order_id}/capture", **prefer)
    assert captured.status_code == 201
    assert problems(captured.json, ORDERS, "order") == []
    capture = captured.json["purchase_units"][0]["payments"]["captures"][0]
    assert (capture["status"], capture["amount"], capture["invoice_id"], capture["custom_id"]) == (
        "COMPLETED",
        {"currency_code": "EUR", "value": "94.01"},
        "TRESEN-2026-000123",
        "inv_7g2k",
    )
    # PayPal's German fee: 2.49 % of 94.01 (2.34) + 0.35
    assert capture["seller_receivable_breakdown"]["paypal_fee"] == {"currency_code": "EUR", "value": "2.69"}
    assert capture["seller_receivable_breakdown"]["net_amount"] == {"currency_code": "EUR", "value": "91.32"}
    event = paypal.event(1)
    assert problems(event, WEBHOOKS, "event") == []
    assert problems(event["resource"], PAYMENTS, "capture-2") == []
    assert event["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
    assert event["resource"] == capture | {"supplementary_data": {"related_ids": {"order_id": order_id}}}


def test_a_pending_capture_settled_later(paypal):
    paypal.client.post("/_standin/captures/next", json={"status": "PENDING"})
    order_id = paypal.approved()
    capture = paypal.call("POST", f"/v2/checkout/orders/{order_id}/capture").json["purchase_units"][0]["payments"]
    capture = capture["captures"][0]
    assert (capture["status"], capture["status_details"]) == ("PENDING", {"reason": "PENDING_REVIEW"})
    settled = paypal.client.post(
        f"/_standin/captures/{capture['id']}/settle", json={"status": "DECLINED"}, buffered=True
    )
    assert settled.json["status"] == "DECLINED"
    events = [paypal.event(index) for index in (1, 2)]
    assert [event["event_type"] for event in events] == ["PAYMENT.CAPTURE.PENDING", "PAYMENT.CAPTURE.DENIED"]
    for event in events:
        assert problems(event["resource"], PAYMENTS, "capture-2") == []


def unapproved(paypal: PayPal) -> str:
    return paypal.call("POST", "/v2/checkout/orders", ORDER_REQUEST).json["id"]


def captured(paypal: PayPal) -> str:
    order_id = paypal.approved()
    assert paypal.call("POST", f"/v2/checkout/orders/{order_id}/capture").status_code == 201
    return order_id


@pytest.mark.parametrize(
    ("issue", "order_of"), [("ORDER_NOT_APPROVED", unapproved), ("ORDER_ALREADY_CAPTURED", captured)]
)
def test_a_refused_capture_is_paypals_422(paypal, issue, order_of):
    refused = paypal.call("POST", f"/v2/checkout/orders/{order_of(paypal)}/capture")
    assert refused.status_code == 422
    assert problems(refused.json, ORDERS, "error_422", "orders.capture-422") == []
    assert refused.json["details"][0]["issue"] == issue
    assert issue in issues(ORDERS, "orders.capture-422")


def test_a_second_invoice_payment_is_refused_as_a_duplicate_invoice_id(paypal):
    captured(paypal)
    refused = paypal.call("POST", f"/v2/checkout/orders/{paypal.approved()}/capture")
    assert refused.status_code == 422
    assert problems(refused.json, ORDERS, "error_422", "orders.capture-422") == []
    assert refused.json["details"][0]["issue"] == "DUPLICATE_INVOICE_ID"


def test_an_unknown_order_is_paypals_404(paypal):
    missing = paypal.call("GET", "/v2/checkout/orders/0NO5UCH0RDER0000X")
    assert missing.status_code == 404
    assert problems(missing.json, ORDERS, "error_404") == []
    detail = missing.json["details"][0]
    assert (detail["field"], detail["value"], detail["location"], detail["issue"]) == (
        "order_id",
        "0NO5UCH0RDER0000X",
        "path",
        "INVALID_RESOURCE_ID",
    )


def test_without_a_token_the_api_is_paypals_401(paypal):
    refused = paypal.client.get("/v2/checkout/orders/0NO5UCH0RDER0000X", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert problems(refused.json, ORDERS, "error_401") == []


@pytest.mark.parametrize(
    ("value", "status", "issue"),
    [
        ("94.015", 422, "DECIMAL_PRECISION"),
        ("0.00", 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
        ("-1.00", 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
        ("94,01", 400, "INVALID_PARAMETER_SYNTAX"),
        (94.01, 400, "INVALID_PARAMETER_SYNTAX"),
    ],
)
def test_amounts_paypal_refuses(paypal, value, status, issue):
    unit = ORDER_REQUEST["purchase_units"][0] | {"amount": {"currency_code": "EUR", "value": value}}
    refused = paypal.call("POST", "/v2/checkout/orders", ORDER_REQUEST | {"purchase_units": [unit]})
    assert refused.status_code == status
    assert problems(refused.json, ORDERS, "error_422" if status == 422 else "error_400") == []
    assert (refused.json["details"][0]["issue"], refused.json["details"][0]["field"]) == (
        issue,
        "/purchase_units/0/amount/value",
    )
    assert issue in issues(ORDERS, "422" if status == 422 else "400")


def test_the_signature_verification_answer(paypal):
    paypal.approved()
    answered = paypal.call(
        "POST",
        "/v1/notifications/verify-webhook-signature",
        {
            "auth_algo": "SHA256withRSA",
            "cert_url": "http://localhost/v1/notifications/certs/CERT-360caa42-fca2a594-5tand1n5",
            "transmission_id": "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
            "transmission_sig": base64.b64encode(b"not a signature").decode(),
            "transmission_time": "2026-12-01T10:00:00Z",
            "webhook_id": "WH-TRESEN-DEV",
            "webhook_event": paypal.event(0),
        },
    )
    assert answered.status_code == 200
    assert problems(answered.json, WEBHOOKS, "verify_webhook_signature_response") == []
    assert answered.json == {"verification_status": "FAILURE"}
