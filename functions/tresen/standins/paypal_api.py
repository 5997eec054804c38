"""PayPal's REST API, stood in for locally: dev mode and the tests reach it through the official
`paypal-server-sdk` pointed at `PAYPAL_API_BASE`, since PayPal cannot be reached here.

It speaks PayPal's shapes (checked against PayPal's published OpenAPI documents in tests/data/paypal/):
OAuth 2.0 client credentials, Orders v2 (create, show, capture) with `PayPal-Request-Id` idempotency
and PayPal's error bodies, the payer's approval page, and webhooks signed as PayPal signs them —
SHA256withRSA over `transmission_id|transmission_time|webhook_id|crc32(body)` with a key whose
self-signed certificate it serves — which `POST /v1/notifications/verify-webhook-signature` checks
as PayPal does: over the event as the caller sends it back, serialised again. Everything lives in
memory. Paths under /_standin/ are its own: approving without a browser, what a capture will turn
out to be, and the events sent.

    python -m tresen.standins.paypal_api --port 12112 --webhook-url http://127.0.0.1:8080/v1/webhooks/paypal
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from .common import StandIn, WebhookQueue, command_line, html_page, json_response, serve_until_stopped
from .common import start as start  # where `tresen dev` and the tests start this stand-in from

TOKEN_LIFETIME = 32400  # seconds, as PayPal's client-credentials tokens
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)  # between webhook attempts: PayPal's span days, tests cannot wait
AUTH_ALGO = "SHA256withRSA"
CERT_ID = "CERT-360caa42-fca2a594-5tand1n5"
ID_CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ACCOUNT_CHARACTERS = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # PayPal's account ids: no 0, 1, I or O
# PayPal's German rate for commercial payments: 2.49 % + 0.35 (in the payment's currency here)
FEE_BASIS_POINTS, FEE_FIXED = 249, 35
ZERO_DECIMAL_CURRENCIES = ("HUF", "JPY", "TWD")  # PayPal takes no decimals in these
LENGTHS = {"reference_id": 256, "custom_id": 127, "invoice_id": 127, "description": 127, "soft_descriptor": 22}
VERIFICATION_FIELDS = (
    "auth_algo",
    "cert_url",
    "transmission_id",
    "transmission_sig",
    "transmission_time",
    "webhook_id",
    "webhook_event",
)
CAPTURE_EVENTS = {
    "COMPLETED": ("PAYMENT.CAPTURE.COMPLETED", "Payment completed for {amount}"),
    "PENDING": ("PAYMENT.CAPTURE.PENDING", "Payment pending for {amount}"),
    "DECLINED": ("PAYMENT.CAPTURE.DENIED", "A {amount} capture payment was denied"),
}
# PayPal's fixed `message` per error `name`, and `description` per issue (as its OpenAPI documents list them)
MESSAGES = {
    "INVALID_REQUEST": "Request is not well-formed, syntactically incorrect, or violates schema.",
    "AUTHENTICATION_FAILURE": (
        "Authentication failed due to missing authorization header, or invalid authentication credentials."
    ),
    "RESOURCE_NOT_FOUND": "The specified resource does not exist.",
    "UNPROCESSABLE_ENTITY": (
        "The requested action could not be performed, semantically incorrect, or failed business validation."
    ),
}
STATUS_OF = {"INVALID_REQUEST": 400, "AUTHENTICATION_FAILURE": 401, "RESOURCE_NOT_FOUND": 404}
ISSUES = {
    "MALFORMED_REQUEST_JSON": "The request JSON is not well formed.",
    "MISSING_REQUIRED_PARAMETER": "A required field / parameter is missing.",
    "INVALID_PARAMETER_VALUE": "A parameter value is not valid.",
    "INVALID_PARAMETER_SYNTAX": "The value of a field does not conform to the expected format.",
    "INVALID_STRING_LENGTH": "The value of a field is either too short or too long.",
    "NOT_SUPPORTED": "This field is not currently supported.",
    "INVALID_RESOURCE_ID": "Specified resource ID does not exist. Please check the resource ID and try again.",
    "INVALID_CURRENCY_CODE": (
        "Currency code is invalid or is not currently supported. Please refer "
        "https://developer.paypal.com/api/rest/reference/currency-codes/ for list of supported currency codes."
    ),
    "DECIMAL_PRECISION": "If the currency supports decimals, only two decimal place precision is supported.",
    "CANNOT_BE_ZERO_OR_NEGATIVE": (
        "Must be greater than zero. If the currency supports decimals, only two decimal place precision is supported."
    ),
    "REFERENCE_ID_REQUIRED": (
        "'reference_id' is required for each 'purchase_unit' if multiple 'purchase_unit' are provided."
    ),
    "DUPLICATE_REFERENCE_ID": "`reference_id` must be unique if multiple `purchase_unit` are provided.",
    "ORDER_NOT_APPROVED": (
        "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' "
        "url returned as part of the HATEOAS links within the Create Order call or provide a valid "
        "`payment_source` in the request."
    ),
    "ORDER_ALREADY_CAPTURED": "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
    "DUPLICATE_INVOICE_ID": (
        "Duplicate Invoice ID detected. To avoid a potential duplicate transaction your account setting "
        "requires that Invoice Id be unique for each transaction."
    ),
    "ORDER_CANNOT_BE_APPROVED": "The order is not waiting for the payer's approval.",  # the stand-in's own
}


class PayPalError(Exception):
    """An answer in PayPal's error shape: name, message, debug_id, details[{field, value, location,
    issue, description}], links to the issue's documentation."""

    def __init__(
        self,
        name: str,
        issue: str | None = None,
        field: str | None = None,
        value: str | None = None,
        *,
        location="body",
    ):
        super().__init__(issue or name)
        self.status = STATUS_OF.get(name, 422)
        self.body: dict[str, Any] = {"name": name, "message": MESSAGES[name], "debug_id": debug_id()}
        if issue:
            detail = {"field": field, "value": value, "location": location if field else None}
            self.body["details"] = [
                {key: text for key, text in detail.items() if text is not None}
                | {"issue": issue, "description": ISSUES[issue]}
            ]
            self.body["links"] = [
                {
                    "href": f"https://developer.paypal.com/docs/api/orders/v2/#error-{issue}",
                    "rel": "information_link",
                    "method": "GET",
                }
            ]


def debug_id() -> str:
    """What PayPal names each answer by (`debug_id`, `Paypal-Debug-Id`), for its support to find it."""
    return secrets.token_hex(7)[:13]


def new_id(length: int = 17, characters: str = ID_CHARACTERS) -> str:
    return "".join(secrets.choice(characters) for _ in range(length))


def timestamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def exponent(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def minor_units(value: Any, currency: str, field: str) -> int:
    """An amount's `value` ("94.01") in the currency's minor units (9401), exactly; PayPal's errors
    for what it refuses."""
    if not isinstance(value, str) or not re.fullmatch(r"-?([0-9]{1,15}|[0-9]{0,15}\.[0-9]+)", value):
        raise PayPalError("INVALID_REQUEST", "INVALID_PARAMETER_SYNTAX", field, str(value))
    whole, _, fraction = value.lstrip("-").partition(".")
    places = exponent(currency)
    if len(fraction) > places:
        raise PayPalError("UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION", field, value)
    units = int(whole or 0) * 10**places + int(fraction.ljust(places, "0") or 0)
    if value.startswith("-") or units == 0:
        raise PayPalError("UNPROCESSABLE_ENTITY", "CANNOT_BE_ZERO_OR_NEGATIVE", field, value)
    return units


def decimal(units: int, currency: str) -> str:
    places = exponent(currency)
    if places == 0:
        return str(units)
    return f"{units // 10**places}.{units % 10**places:0{places}d}"


def money(units: int, currency: str) -> dict:
    return {"currency_code": currency, "value": decimal(units, currency)}


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query, as PayPal appends `token` and `PayerID` to return URLs."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit(parts._replace(query=query))


def link(href: str, rel: str, method: str = "GET") -> dict:
    return {"href": href, "rel": rel, "method": method}


# PayPal's navy, the approval form, the order's facts as a list of terms
PAGE_STYLE = """
label{display:block;font-weight:600}
input{font:inherit;padding:.375rem .5rem;width:100%;box-sizing:border-box;
  border:1px solid #595959;border-radius:.25rem}
button{font:inherit;padding:.5rem 1.25rem;margin:1rem 0 .5rem;border-radius:.375rem;cursor:pointer;
  border:1px solid #003087;background:#003087;color:#fff}
a{color:#003087}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem} dt{font-weight:600} dd{margin:0}
"""


def page(title: str, body: str, status: int = 200) -> Response:
    """One of the stand-in's pages (the payer's approval), in PayPal's colours."""
    return html_page(title, body, status, PAGE_STYLE)


@dataclass
class Call:
    """One API request as the handlers need it."""

    request: Request
    base: str  # the URL the request came in on: links and the certificate's URL point there
    body: dict
    emitted: list[str] = field(default_factory=list)  # ids of the events it made, sent once it is answered


class Signer:
    """The stand-in's webhook key and its self-signed certificate, made anew for each stand-in."""

    def __init__(self):
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "paypal-standin.invalid")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .sign(self._key, hashes.SHA256())
        )
        self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)

    @staticmethod
    def message(transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> bytes:
        return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()

    def verifies(self, message: bytes, signature: str) -> bool:
        try:
            signed = base64.b64decode(signature, validate=True)
            self._key.public_key().verify(signed, message, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True


def serialised(event: dict) -> bytes:
    """The bytes an event is sent as, and what a verification recomputes from the event sent back."""
    return json.dumps(event, separators=(",", ":")).encode()


class PayPalStandIn(StandIn):
    """All of the stand-in's state, and the WSGI app serving it. One lock guards the state."""

    def __init__(
        self,
        webhook_url: str | None = None,
        webhook_id: str = "WH-TRESEN-DEV",
        client_id: str = "sb-tresen-dev",
        client_secret: str = "sb-secret-dev",
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ):
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.merchant = {"email_address": "billing@tresen.example", "merchant_id": new_id(13, ACCOUNT_CHARACTERS)}
        self._signer = Signer()
        super().__init__(WebhookQueue(webhook_url, retry_delays, "paypal-standin-webhooks"))
        self._tokens: dict[str, float] = {}  # access token → when it expires
        self._orders: dict[str, dict] = {}  # order id → the order in full, as GET shows it
        self._urls: dict[str, dict] = {}  # order id → its return_url and cancel_url (PayPal shows neither)
        self._idempotent: dict[tuple[str, str], str] = {}  # (path, PayPal-Request-Id) → the order it made
        self._next_capture: list[str] = []  # statuses the coming captures take, first first

    # --- dispatch ---

    def _respond(self, request: Request) -> Response:
        try:
            endpoint, args = ROUTES.bind_to_environ(request.environ).match()
        except HTTPException:
            endpoint, args = None, {}
        call = Call(request, request.host_url.rstrip("/"), {})
        with self._lock:
            try:
                if endpoint is None:
                    raise PayPalError("RESOURCE_NOT_FOUND")
                if endpoint.startswith("api_"):
                    self._authenticate(request)
                if endpoint.startswith(("api_", "control_")):
                    call.body = self._json_body(request)
                response = getattr(self, endpoint)(call, **args)
            except PayPalError as error:
                response = json_response(error.body, error.status)
            if endpoint is None or endpoint.startswith(("api_", "oauth_")):
                self._requests.append(
                    {
                        "method": request.method,
                        "path": request.path,
                        "request_id": request.headers.get("PayPal-Request-Id"),
                        "body": call.body,
                        "status": response.status_code,
                    }
                )
        response.headers["Paypal-Debug-Id"] = debug_id()
        if call.emitted:  # PayPal tells of a change only after it answered the call that made it
            response.call_on_close(lambda: self._webhooks.release(call.emitted))
        return response

    def _authenticate(self, request: Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expires = self._tokens.get(token) if scheme == "Bearer" else None
        if expires is None or expires < time.time():
            raise PayPalError("AUTHENTICATION_FAILURE")

    @staticmethod
    def _json_body(request: Request) -> dict:
        raw = request.get_data()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise PayPalError("INVALID_REQUEST", "MALFORMED_REQUEST_JSON") from None
        if not isinstance(body, dict):
            raise PayPalError("INVALID_REQUEST", "MALFORMED_REQUEST_JSON")
        return body

    def _emit(self, call: Call, event_type: str, summary: str, resource: dict) -> None:
        base, event_id = call.base, f"WH-{new_id()}-{new_id()}"
        event = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "resource_type": "checkout-order" if event_type.startswith("CHECKOUT.") else "capture",
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
            "links": [
                link(f"{base}/v1/notifications/webhooks-events/{event_id}", "self"),
                link(f"{base}/v1/notifications/webhooks-events/{event_id}/resend", "resend", "POST"),
            ],
        }
        headers = partial(self._transmission_headers, f"{base}/v1/notifications/certs/{CERT_ID}")
        self._webhooks.add(event_id, serialised(event), headers, event_type=event_type)
        call.emitted.append(event_id)

    def _transmission_headers(self, cert_url: str, body: bytes) -> dict[str, str]:
        """PayPal's headers for one transmission of an event: each attempt is a transmission of its own,
        signed anew."""
        transmission_id, transmission_time = str(uuid.uuid4()), timestamp(time.time())
        message = self._signer.message(transmission_id, transmission_time, self.webhook_id, body)
        return {
            "Content-Type": "application/json",
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
            "PAYPAL-CERT-URL": cert_url,
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-SIG": self._signer.sign(message),
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "User-Agent": "PayPal/AUHD-214.0-standin",
        }

    # --- OAuth 2.0 ---

    def oauth_token(self, call: Call) -> Response:
        request = call.request
        basic = request.authorization
        given = (basic.username, basic.password) if basic and basic.type == "basic" else None
        if given != (self.client_id, self.client_secret):
            return json_response({"error": "invalid_client", "error_description": "Client Authentication failed"}, 401)
        grant = request.form.get("grant_type")
        if grant != "client_credentials":
            description = "Grant Type is NULL" if grant is None else f"Grant Type is not supported: {grant}"
            return json_response({"error": "unsupported_grant_type", "error_description": description}, 400)
        token = "A21AA" + secrets.token_urlsafe(48)
        self._tokens[token] = time.time() + TOKEN_LIFETIME
        return json_response(
            {
                "scope": " ".join(
                    f"https://uri.paypal.com/services/{scope}"
                    for scope in ("payments/payment", "applications/webhooks")
                ),
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": TOKEN_LIFETIME,
                "nonce": f"{timestamp(time.time())}{secrets.token_urlsafe(32)}",
            }
        )

    # --- orders ---

    def api_create_order(self, call: Call) -> Response:
        request_id = call.request.headers.get("PayPal-Request-Id")
        earlier = self._idempotent.get((call.request.path, request_id)) if request_id else None
        if earlier:  # the same request again: PayPal answers the order it made, as it is now
            return json_response(self._shown(self._orders[earlier], call), 200)
        order = self._new_order(call)
        self._orders[order["id"]] = order
        if request_id:
            self._idempotent[(call.request.path, request_id)] = order["id"]
        return json_response(self._shown(order, call), 201)

    def _new_order(self, call: Call) -> dict:
        body = call.body
        intent = body.get("intent")
        if intent is None:
            raise PayPalError("INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "/intent")
        if intent != "CAPTURE":  # authorizations are not stood in for
            issue = "NOT_SUPPORTED" if intent == "AUTHORIZE" else "INVALID_PARAMETER_VALUE"
            raise PayPalError("INVALID_REQUEST", issue, "/intent", str(intent))
        units = body.get("purchase_units")
        if not isinstance(units, list) or not units:
            raise PayPalError("INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "/purchase_units")
        purchase_units = [self._purchase_unit(unit, index, len(units)) for index, unit in enumerate(units)]
        references = [unit["reference_id"] for unit in purchase_units]
        if len(set(references)) != len(references):
            raise PayPalError("UNPROCESSABLE_ENTITY", "DUPLICATE_REFERENCE_ID", "/purchase_units")
        source = body.get("payment_source")
        wallet = source.get("paypal") if isinstance(source, dict) and set(source) == {"paypal"} else None
        if source is not None and not isinstance(wallet, dict):
            raise PayPalError("INVALID_REQUEST", "NOT_SUPPORTED", "/payment_source")  # only PayPal's wallet
        context = (wallet or {}).get("experience_context") or body.get("application_context")
        context = context if isinstance(context, dict) else {}
        order_id, now = new_id(), timestamp(time.time())
        self._urls[order_id] = {
            name: context[name] if isinstance(context.get(name), str) else None for name in ("return_url", "cancel_url")
        }
        order = {"id": order_id, "intent": "CAPTURE", "status": "CREATED"}
        if source is not None:  # the payer is sent to PayPal by a `payer-action` link, not `approve`
            order |= {"status": "PAYER_ACTION_REQUIRED", "payment_source": {"paypal": {}}}
        order |= {"purchase_units": purchase_units, "create_time": now}
        order["links"] = self._links(order, call.base)
        return order

    def _purchase_unit(self, unit: Any, index: int, count: int) -> dict:
        where = f"/purchase_units/{index}"
        if not isinstance(unit, dict):
            raise PayPalError("INVALID_REQUEST", "INVALID_PARAMETER_SYNTAX", where)
        amount = unit.get("amount")
        if not isinstance(amount, dict) or "value" not in amount or "currency_code" not in amount:
            raise PayPalError("INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", f"{where}/amount")
        currency = amount["currency_code"]
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
            raise PayPalError("UNPROCESSABLE_ENTITY", "INVALID_CURRENCY_CODE", f"{where}/amount/currency_code")
        value = minor_units(amount["value"], currency, f"{where}/amount/value")
        texts = {}
        for name, longest in LENGTHS.items():
            text = unit.get(name)
            if text is not None and (not isinstance(text, str) or not 1 <= len(text) <= longest):
                raise PayPalError("INVALID_REQUEST", "INVALID_STRING_LENGTH", f"{where}/{name}", str(text))
            if text is not None:
                texts[name] = text
        reference = texts.pop("reference_id", "default" if count == 1 else None)
        if reference is None:
            raise PayPalError("UNPROCESSABLE_ENTITY", "REFERENCE_ID_REQUIRED", f"{where}/reference_id")
        return {"reference_id": reference, "amount": money(value, currency), "payee": dict(self.merchant)} | texts

    def _links(self, order: dict, base: str) -> list[dict]:
        own = f"{base}/v2/checkout/orders/{order['id']}"
        links = [link(own, "self")]
        if order["status"] == "CREATED":
            links.append(link(f"{base}/checkoutnow?token={order['id']}", "approve"))
        if order["status"] == "PAYER_ACTION_REQUIRED":
            links.append(link(f"{base}/checkoutnow?token={order['id']}", "payer-action"))
        if order["status"] in ("CREATED", "APPROVED"):
            links.append(link(own, "update", "PATCH"))
            links.append(link(f"{own}/capture", "capture", "POST"))
        return links

    def _shown(self, order: dict, call: Call) -> dict:
        """The order as an answer shows it: in full when asked (`Prefer: return=representation`),
        otherwise PayPal's minimal answer."""
        if call.request.headers.get("Prefer", "").replace(" ", "") == "return=representation":
            return order
        minimal = {"id": order["id"], "status": order["status"]}
        if "payment_source" in order:
            minimal["payment_source"] = order["payment_source"]
        if "payer" in order:
            minimal["payer"] = order["payer"]
        if any("payments" in unit for unit in order["purchase_units"]):
            minimal["purchase_units"] = [
                {"reference_id": unit["reference_id"], "payments": unit["payments"]}
                for unit in order["purchase_units"]
                if "payments" in unit
            ]
        return minimal | {"links": order["links"]}

    def _order(self, order_id: str) -> dict:
        order = self._orders.get(order_id)
        if order is None:
            raise PayPalError("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "order_id", order_id, location="path")
        return order

    def api_get_order(self, call: Call, order_id: str) -> Response:
        return json_response(self._order(order_id))

    # --- the payer's approval ---

    def checkout_page(self, call: Call) -> Response:
        order = self._orders.get(call.request.args.get("token", ""))
        if order is None:
            return page("PayPal stand-in: unknown order", "<p>There is no order to approve here.</p>", 404)
        if call.request.method == "POST":
            return self._approved_page(call, order)
        return self._checkout_page(order)

    def _checkout_page(self, order: dict, status: int = 200) -> Response:
        title, urls = "Pay with PayPal", self._urls[order["id"]]
        cancel = urls["cancel_url"] and with_query(urls["cancel_url"], token=order["id"])
        cancel_link = f'<p><a href="{html.escape(cancel)}">Cancel</a></p>' if cancel else ""
        if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            text = f"This payment was already approved (the order is {order['status'].lower()})."
            return page(title, f'<p role="status">{html.escape(text)}</p>', status)
        unit = order["purchase_units"][0]
        facts = [
            ("Pay to", unit["payee"]["email_address"]),
            ("For", unit.get("description", "")),
            ("Invoice", unit.get("invoice_id", "")),
            ("Amount", f"{unit['amount']['value']} {unit['amount']['currency_code']}"),
        ]
        rows = "".join(f"<dt>{html.escape(name)}</dt><dd>{html.escape(text)}</dd>" for name, text in facts if text)
        return page(
            title,
            f"""<p>PayPal stand-in: approving here moves no money.</p>
<dl>{rows}</dl>
<form method="post" action="/checkoutnow?{urlencode({"token": order["id"]})}">
<label for="email">PayPal account (e-mail)</label>
<input id="email" name="email" type="email" autocomplete="email" required value="buyer@example.com">
<button type="submit">Approve and pay</button></form>
{cancel_link}""",
            status,
        )

    def _approved_page(self, call: Call, order: dict) -> Response:
        if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            return self._checkout_page(order, 409)
        back = self._approve(call, order, call.request.form.get("email") or "buyer@example.com")
        if back is None:
            return page("Payment approved", '<p role="status">Approved. You may close this window.</p>')
        return redirect(back, 303)

    def control_approve(self, call: Call, order_id: str) -> Response:
        """What the payer's click does, without a browser: the URL the payer would be sent back to."""
        order = self._order(order_id)
        if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            raise PayPalError("UNPROCESSABLE_ENTITY", "ORDER_CANNOT_BE_APPROVED", "order_id", order_id, location="path")
        email = call.body.get("email") if isinstance(call.body.get("email"), str) else "buyer@example.com"
        return json_response({"redirect": self._approve(call, order, email), "order": order})

    def _approve(self, call: Call, order: dict, email: str) -> str | None:
        """Marks the order approved by the payer of `email` and tells the webhook; the return URL."""
        payer_id = "".join(
            ACCOUNT_CHARACTERS[byte % len(ACCOUNT_CHARACTERS)] for byte in hashlib.sha256(email.encode()).digest()[:13]
        )
        name = {"given_name": "Erika", "surname": "Mustermann"}
        order["payer"] = {"name": name, "email_address": email, "payer_id": payer_id, "address": {"country_code": "DE"}}
        order["payment_source"] = {
            "paypal": {
                "email_address": email,
                "account_id": payer_id,
                "account_status": "VERIFIED",
                "name": name,
                "address": {"country_code": "DE"},
            }
        }
        order |= {"status": "APPROVED", "update_time": timestamp(time.time())}
        order["links"] = self._links(order, call.base)
        self._emit(call, "CHECKOUT.ORDER.APPROVED", "An order has been approved by buyer", order)
        return_url = self._urls[order["id"]]["return_url"]
        return return_url and with_query(return_url, token=order["id"], PayerID=payer_id)

    # --- captures ---

    def api_capture_order(self, call: Call, order_id: str) -> Response:
        order = self._order(order_id)
        request_id = call.request.headers.get("PayPal-Request-Id")
        if request_id and (call.request.path, request_id) in self._idempotent:
            return json_response(self._shown(order, call), 200)
        if order["status"] == "COMPLETED":
            raise PayPalError("UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            raise PayPalError("UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED", "order_id", order_id, location="path")
        unit = order["purchase_units"][0]
        if self._invoice_paid(unit.get("invoice_id")):
            raise PayPalError("UNPROCESSABLE_ENTITY", "DUPLICATE_INVOICE_ID")
        capture = self._capture(order, unit, call.base)
        unit["payments"] = {"captures": [capture]}
        order |= {"status": "COMPLETED", "update_time": capture["update_time"]}
        order["links"] = self._links(order, call.base)
        if request_id:
            self._idempotent[(call.request.path, request_id)] = order_id
        self._tell(call, capture, order_id)
        return json_response(self._shown(order, call), 201)

    def _invoice_paid(self, invoice_id: str | None) -> bool:
        """Whether a capture of another order with this invoice id went through or may still: PayPal
        refuses a second one (the account setting merchants keep on against paying twice)."""
        return invoice_id is not None and any(
            capture["status"] in ("COMPLETED", "PENDING")
            for order in self._orders.values()
            for unit in order["purchase_units"]
            if unit.get("invoice_id") == invoice_id
            for capture in unit.get("payments", {}).get("captures", [])
        )

    def _capture(self, order: dict, unit: dict, base: str) -> dict:
        currency, capture_id, now = unit["amount"]["currency_code"], new_id(), timestamp(time.time())
        gross = minor_units(unit["amount"]["value"], currency, "amount")
        fee = (gross * FEE_BASIS_POINTS + 5000) // 10000 + FEE_FIXED
        status = self._next_capture.pop(0) if self._next_capture else "COMPLETED"
        capture = {"id": capture_id, "status": status}
        if status == "PENDING":
            capture["status_details"] = {"reason": "PENDING_REVIEW"}
        capture |= {
            "amount": unit["amount"],
            "final_capture": True,
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
            "seller_receivable_breakdown": {
                "gross_amount": unit["amount"],
                "paypal_fee": money(fee, currency),
                "net_amount": money(gross - fee, currency),
            },
        }
        capture |= {key: unit[key] for key in ("invoice_id", "custom_id") if key in unit}
        capture["links"] = [
            link(f"{base}/v2/payments/captures/{capture_id}", "self"),
            link(f"{base}/v2/payments/captures/{capture_id}/refund", "refund", "POST"),
            link(f"{base}/v2/checkout/orders/{order['id']}", "up"),
        ]
        return capture | {"create_time": now, "update_time": now}

    def _tell(self, call: Call, capture: dict, order_id: str) -> None:
        """The capture's event: the capture as Payments v2 shows it, naming its order."""
        event_type, summary = CAPTURE_EVENTS[capture["status"]]
        amount = f"{capture['amount']['value']} {capture['amount']['currency_code']}"
        resource = capture | {"supplementary_data": {"related_ids": {"order_id": order_id}}}
        self._emit(call, event_type, summary.format(amount=amount), resource)

    def control_next_capture(self, call: Call) -> Response:
        """The status the next capture takes: COMPLETED, PENDING (settled later) or DECLINED."""
        status = call.body.get("status")
        if status not in CAPTURE_EVENTS:
            raise PayPalError("INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "/status", str(status))
        self._next_capture.append(status)
        return json_response({"next": list(self._next_capture)})

    def control_settle(self, call: Call, capture_id: str) -> Response:
        """What PayPal decides about a pending capture later: COMPLETED or DECLINED, and its event."""
        outcome = call.body.get("status")
        if outcome not in ("COMPLETED", "DECLINED"):
            raise PayPalError("INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "/status", str(outcome))
        for order in self._orders.values():
            for unit in order["purchase_units"]:
                for capture in unit.get("payments", {}).get("captures", []):
                    if capture["id"] == capture_id and capture["status"] == "PENDING":
                        capture.pop("status_details")
                        capture |= {"status": outcome, "update_time": timestamp(time.time())}
                        self._tell(call, capture, order["id"])
                        return json_response(capture)
        raise PayPalError("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "capture_id", capture_id, location="path")

    # --- webhooks ---

    def certificate(self, call: Call, cert_id: str) -> Response:
        if cert_id != CERT_ID:
            raise PayPalError("RESOURCE_NOT_FOUND")
        return Response(self._signer.certificate_pem, 200, mimetype="application/x-pem-file")

    def api_verify_webhook_signature(self, call: Call) -> Response:
        """SUCCESS if the stand-in signed this event for this webhook id in this transmission."""
        body = call.body
        blank = [
            {"field": name, "location": "body", "issue": "Required field cannot be blank"}
            for name in VERIFICATION_FIELDS
            if not body.get(name)
        ]
        if blank or not isinstance(body["webhook_event"], dict):
            details = blank or [{"field": "webhook_event", "location": "body", "issue": "Must be a JSON object"}]
            error = {"name": "VALIDATION_ERROR", "message": "Invalid request - see details"}
            return json_response(error | {"debug_id": debug_id(), "details": details, "links": []}, 400)
        fields = {name: str(body[name]) for name in ("transmission_id", "transmission_time", "webhook_id")}
        message = self._signer.message(*fields.values(), serialised(body["webhook_event"]))
        ours = urlsplit(str(body["cert_url"])).path == f"/v1/notifications/certs/{CERT_ID}"
        valid = (
            ours and body["auth_algo"] == AUTH_ALGO and self._signer.verifies(message, str(body["transmission_sig"]))
        )
        return json_response({"verification_status": "SUCCESS" if valid else "FAILURE"})

    def control_events(self, call: Call) -> Response:
        return json_response({"events": self._webhooks.listing()})

    def control_event(self, call: Call, event_id: str) -> Response:
        delivery = self._webhooks.get(event_id)
        if delivery is None:
            raise PayPalError("RESOURCE_NOT_FOUND")
        return Response(delivery.body, 200, mimetype="application/json")

    def control_wait(self, call: Call) -> Response:
        return json_response({"pending": self.wait_delivered()})


ROUTES = Map(
    [
        Rule(path, methods=methods, endpoint=endpoint)
        for methods, path, endpoint in (
            (["POST"], "/v1/oauth2/token", "oauth_token"),
            (["POST"], "/v2/checkout/orders", "api_create_order"),
            (["GET"], "/v2/checkout/orders/<order_id>", "api_get_order"),
            (["POST"], "/v2/checkout/orders/<order_id>/capture", "api_capture_order"),
            (["POST"], "/v1/notifications/verify-webhook-signature", "api_verify_webhook_signature"),
            (["GET"], "/v1/notifications/certs/<cert_id>", "certificate"),
            (["GET", "POST"], "/checkoutnow", "checkout_page"),
            (["POST"], "/_standin/orders/<order_id>/approve", "control_approve"),
            (["POST"], "/_standin/captures/next", "control_next_capture"),
            (["POST"], "/_standin/captures/<capture_id>/settle", "control_settle"),
            (["GET"], "/_standin/events", "control_events"),
            (["GET"], "/_standin/events/<event_id>", "control_event"),
            (["POST"], "/_standin/wait", "control_wait"),
        )
    ]
)


def main() -> None:
    parser = command_line("PayPal", 12112)
    parser.add_argument("--webhook-id", default="WH-TRESEN-DEV")
    parser.add_argument("--client-id", default="sb-tresen-dev")
    parser.add_argument("--client-secret", default="sb-secret-dev")
    options = parser.parse_args()
    stand_in = PayPalStandIn(options.webhook_url, options.webhook_id, options.client_id, options.client_secret)
    serve_until_stopped(stand_in, "PayPal", options.port, options.host)


if __name__ == "__main__":
    main()
