"""PayPal (Orders v2) for the platform's licence invoices (services/paypal_ports.py `PayPal`): an order
per invoice, its capture once the merchant approved it, and PayPal's webhooks, each verified by PayPal.

Through PayPal's official `paypal-server-sdk`. The SDK knows only PayPal's two hosts (live and
sandbox), so where `PAYPAL_API_BASE` names another (dev and tests: standins/paypal_api.py) the
configuration's table of hosts is given that one. The SDK has no call for verifying a webhook: that
one is made over urllib with the SDK's own OAuth token — one token for both, fetched by the SDK's
client-credentials call and kept until a minute before it expires. Every call that creates or
captures carries the caller's `PayPal-Request-Id`, so a retry after a lost answer never makes a
second order or capture. The SDK is imported on first use: it costs a cold start a fifth of a second.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..config import settings
from ..domain.errors import DomainError
from ..services.paypal_ports import PayPalEvent, PayPalOrder, PayPalRefused, PayPalSignatureError, PayPalUnavailable
from .lazy import once

LIVE_BASE = "https://api-m.paypal.com"
SANDBOX_BASE = "https://api-m.sandbox.paypal.com"
TIMEOUT = 20  # seconds before a call that has not been answered counts as PayPal unavailable
TOKEN_MARGIN = 60  # seconds before its expiry a token is no longer used: a call must not outlive it
SIGNATURE_HEADERS = (
    "PAYPAL-AUTH-ALGO",
    "PAYPAL-CERT-URL",
    "PAYPAL-TRANSMISSION-ID",
    "PAYPAL-TRANSMISSION-SIG",
    "PAYPAL-TRANSMISSION-TIME",
)
AMOUNT = re.compile(r"(?P<whole>[0-9]{1,13})(?:\.(?P<cents>[0-9]{1,2}))?")


class PayPalBilling:
    """The platform's own PayPal account, through the SDK (services/paypal_ports.py `PayPal`)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, webhook_id: str):
        from paypalserversdk.configuration import Configuration, Environment, Server
        from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
        from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

        self._base, self._webhook_id = base_url.rstrip("/"), webhook_id
        self._token, self._token_lock = None, threading.Lock()
        credentials = ClientCredentialsAuthCredentials(
            client_id,
            client_secret,
            o_auth_token_provider=lambda _previous, auth: self._access_token(auth),
            o_auth_clock_skew=TOKEN_MARGIN,
        )
        environment = Environment.PRODUCTION if self._base == LIVE_BASE else Environment.SANDBOX
        # No retries of the SDK's own: a caller that gets PayPalUnavailable retries with the same
        # request id, which PayPal answers once.
        config = Configuration(
            environment=environment,
            timeout=TIMEOUT,
            max_retries=0,
            client_credentials_auth_credentials=credentials,
        )
        if config.get_base_uri() != self._base:
            config.environments = {environment: {Server.DEFAULT: self._base}}
        self._client = PaypalServersdkClient(config=config)

    def create_order(
        self,
        *,
        reference: str,
        invoice_number: str,
        amount: int,
        currency: str,
        description: str,
        return_url: str,
        cancel_url: str,
        request_id: str,
    ) -> PayPalOrder:
        """One purchase unit naming our invoice (`reference_id` and `custom_id`) and its number
        (`invoice_id`), paid through PayPal's wallet; nothing is shipped."""
        from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
        from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
        from paypalserversdk.models.order_request import OrderRequest
        from paypalserversdk.models.payment_source import PaymentSource
        from paypalserversdk.models.paypal_experience_user_action import PaypalExperienceUserAction
        from paypalserversdk.models.paypal_wallet import PaypalWallet
        from paypalserversdk.models.paypal_wallet_context_shipping_preference import (
            PaypalWalletContextShippingPreference,
        )
        from paypalserversdk.models.paypal_wallet_experience_context import PaypalWalletExperienceContext
        from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest

        unit = PurchaseUnitRequest(
            amount=AmountWithBreakdown(currency_code=currency, value=decimal_amount(amount)),
            reference_id=reference,
            custom_id=reference,
            invoice_id=invoice_number,
            description=description,
        )
        experience = PaypalWalletExperienceContext(
            return_url=return_url,
            cancel_url=cancel_url,
            shipping_preference=PaypalWalletContextShippingPreference.NO_SHIPPING,
            user_action=PaypalExperienceUserAction.PAY_NOW,  # we capture at once: "Pay Now", not "Continue"
        )
        body = OrderRequest(
            intent=CheckoutPaymentIntent.CAPTURE,
            purchase_units=[unit],
            payment_source=PaymentSource(paypal=PaypalWallet(experience_context=experience)),
        )
        with paypal_errors():
            order = self._client.orders.create_order({"body": body, "paypal_request_id": request_id}).body
        links = {link.rel: link.href for link in getattr(order, "links", None) or ()}
        approve_url = links.get("payer-action") or links.get("approve")
        if approve_url is None:
            raise PayPalRefused("NO_APPROVE_LINK", f"order {order.id} came without a link for the payer")
        return PayPalOrder(order.id, approve_url)

    def capture(self, order_id: str, request_id: str) -> str:
        from paypalserversdk.exceptions.error_exception import ErrorException

        with paypal_errors():
            try:
                order = self._client.orders.capture_order({"id": order_id, "paypal_request_id": request_id}).body
            except ErrorException as error:
                if issue_of(error) != "ORDER_ALREADY_CAPTURED":
                    raise
                order = self._client.orders.get_order({"id": order_id}).body
        captures = [
            capture
            for unit in getattr(order, "purchase_units", None) or ()
            for capture in getattr(getattr(unit, "payments", None), "captures", None) or ()
        ]
        if not captures:
            raise PayPalRefused("NO_CAPTURE", f"order {order_id} shows no capture")
        return captures[-1].status

    def verified_event(self, headers: Mapping[str, str], body: bytes) -> PayPalEvent:
        """Asks PayPal whether it sent `body` to our webhook (`POST /v1/notifications/verify-webhook-signature`)."""
        event = event_body(body)
        sent = {name.upper(): value for name, value in headers.items()}
        missing = [name for name in SIGNATURE_HEADERS if not sent.get(name)]
        if missing:
            raise PayPalSignatureError(f"not signed by PayPal: no {', '.join(missing)}")
        question = {
            "auth_algo": sent["PAYPAL-AUTH-ALGO"],
            "cert_url": sent["PAYPAL-CERT-URL"],
            "transmission_id": sent["PAYPAL-TRANSMISSION-ID"],
            "transmission_sig": sent["PAYPAL-TRANSMISSION-SIG"],
            "transmission_time": sent["PAYPAL-TRANSMISSION-TIME"],
            "webhook_id": self._webhook_id,
        }
        # The event goes back byte for byte as PayPal sent it: PayPal checks its signature over the
        # event it is given, and a round trip through our JSON could change how a value is spelt.
        request = json.dumps(question)[:-1].encode() + b', "webhook_event": ' + body.strip() + b"}"
        answer = self._post("/v1/notifications/verify-webhook-signature", request)
        if answer.get("verification_status") != "SUCCESS":
            raise PayPalSignatureError(f"PayPal did not verify event {event['id']}: {answer}")
        return read_event(event)

    def _access_token(self, auth) -> Any:
        """The SDK's OAuth token (an `OAuthToken`), fetched by its client-credentials call when there is
        none or it is about to expire."""
        with self._token_lock:
            if self._token is None or auth.is_token_expired(self._token):
                self._token = auth.fetch_token()
            return self._token

    def _post(self, path: str, body: bytes) -> dict:
        with paypal_errors():
            token = self._access_token(self._client.oauth_2).access_token
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            request = urllib.request.Request(self._base + path, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                    answer = json.loads(response.read())
            except urllib.error.HTTPError as error:
                raise failure(error.code, error.read().decode("utf-8", "replace")) from error
            except ValueError as error:  # not JSON: not PayPal's answer
                raise PayPalUnavailable(f"PayPal answered {path} with something other than JSON") from error
        return answer if isinstance(answer, dict) else {}


@contextmanager
def paypal_errors() -> Iterator[None]:
    """The SDK's and urllib's failures in the port's terms: unreachable or failing on PayPal's side
    (5xx, 429) is `PayPalUnavailable`, a refusal (4xx) `PayPalRefused`."""
    from paypalserversdk.exceptions.api_exception import ApiException

    try:
        yield
    except ApiException as error:
        raise failure(error.response_code, error.response.text) from error
    except OSError as error:  # refused, reset, timed out: requests' and urllib's errors are OSErrors
        raise PayPalUnavailable(f"PayPal cannot be reached: {error}") from error


def failure(status: int, text: str) -> Exception:
    """The exception for PayPal's answer `status` with body `text`."""
    if status >= 500 or status == 429:
        return PayPalUnavailable(f"PayPal answered {status}")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    details = body.get("details") if isinstance(body.get("details"), list) else []
    detail = details[0] if details and isinstance(details[0], dict) else {}
    code = detail.get("issue") or body.get("name") or body.get("error") or f"HTTP_{status}"
    message = detail.get("description") or body.get("message") or body.get("error_description") or text[:200]
    return PayPalRefused(str(code), str(message))


def issue_of(error) -> str | None:
    """The first issue an SDK `ErrorException` names (ORDER_ALREADY_CAPTURED …)."""
    details = getattr(error, "details", None) or ()
    return details[0].issue if details else None


def decimal_amount(cents: int) -> str:
    """9401 → "94.01": PayPal's amounts are decimal strings; never through a float."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def cents_of(amount: Any) -> int | None:
    """PayPal's `{"currency_code", "value": "94.01"}` in cents (9401), or None if it is not one."""
    value = amount.get("value") if isinstance(amount, dict) else None
    found = AMOUNT.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return None
    return int(found["whole"]) * 100 + int((found["cents"] or "0").ljust(2, "0"))


def event_body(body: bytes) -> dict:
    """The webhook's JSON: a PayPal event has an id and a type, or it is not one to ask PayPal about."""
    try:
        event = json.loads(body)
    except ValueError:
        raise PayPalSignatureError("not a PayPal event: the body is not JSON") from None
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and isinstance(event.get("event_type"), str)):
        raise PayPalSignatureError("not a PayPal event: no id or event_type")
    return event


def read_event(event: dict) -> PayPalEvent:
    """What a verified event says of an order or a capture: an order's events carry the order, a
    capture's the capture (Payments v2), which names its order in `supplementary_data`."""
    resource = dig(event, "resource")
    about = {"id": event["id"], "type": event["event_type"]}
    if about["type"].startswith("CHECKOUT.ORDER."):
        units = resource.get("purchase_units")
        unit = units[0] if isinstance(units, list) and units and isinstance(units[0], dict) else {}
        return PayPalEvent(
            **about,
            order_id=text(resource.get("id")),
            capture_id=None,
            reference=text(unit.get("custom_id")),
            amount=cents_of(unit.get("amount")),
        )
    if about["type"].startswith("PAYMENT.CAPTURE."):
        return PayPalEvent(
            **about,
            order_id=text(dig(resource, "supplementary_data", "related_ids").get("order_id")),
            capture_id=text(resource.get("id")),
            reference=text(resource.get("custom_id")),
            amount=cents_of(resource.get("amount")),
        )
    return PayPalEvent(**about, order_id=None, capture_id=None, reference=None, amount=None)


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def dig(node: dict, *keys: str) -> dict:
    """The object at `keys` below `node`, or {} where there is none."""
    for key in keys:
        node = node.get(key) if isinstance(node.get(key), dict) else {}
    return node


@once
def paypal_billing() -> PayPalBilling:
    """The platform's PayPal account from the settings; `provider_not_ready` naming what is missing (a
    deployment may take licence payments by card only)."""
    config = settings()
    required = {
        "PAYPAL_CLIENT_ID": config.paypal_client_id,
        "PAYPAL_CLIENT_SECRET": config.paypal_client_secret,
        "PAYPAL_WEBHOOK_ID": config.paypal_webhook_id,
    }
    missing = [name for name, value in required.items() if not value]
    if missing:
        raise DomainError("provider_not_ready", f"PayPal is not configured here: {', '.join(missing)} not set.")
    base = config.paypal_api_base or (SANDBOX_BASE if config.dev else LIVE_BASE)
    return PayPalBilling(base, config.paypal_client_id, config.paypal_client_secret, config.paypal_webhook_id)
