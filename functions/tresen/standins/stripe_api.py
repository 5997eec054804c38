"""Stripe's API, stood in for locally: dev mode and the tests reach it through the real `stripe` library
(`StripeClient(key, base_addresses={"api": url, "connect": url})`), since Stripe cannot be reached here.

It speaks Stripe's shapes: form-encoded requests with bracketed keys, JSON answers, Stripe's errors and
status codes, `Stripe-Account` scoping, idempotency keys, list pagination, and webhook events signed as
Stripe signs them. Everything lives in memory. Paths under /_standin/ are its own: the hosted checkout
(paying, or saving a card in `setup` mode) and onboarding pages, and controls for what Stripe does by
itself (payouts, dashboard refunds, slow payments settling) or what a test needs to look at. A card
saved is charged later off-session as Stripe's test card of that number would be (`OFF_SESSION_FAILURES`).

Stripe Terminal, server-driven: locations, readers registered with Stripe's simulated registration codes
(`SIMULATED_READERS`), card-present PaymentIntents sent to a reader, and Stripe's own test helper that
presents a test card there (`TERMINAL_TEST_CARDS`), which settles the reader's action at once. Controls
switch a reader off and on, and withhold the webhooks of a reader's next outcome (an answer lost).

    python -m tresen.standins.stripe_api --port 12111 --webhook-url http://127.0.0.1:8080/webhooks/stripe
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import json
import operator
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from .common import Delivery, StandIn, WebhookQueue, command_line, html_page, json_response, serve_until_stopped
from .common import start as start  # where `tresen dev` and the tests start this stand-in from

API_VERSION = "2026-10-28.endive"  # the version stripe 16.x pins; events carry it as Stripe's would
ONBOARDING_DUE = ("business_profile.url", "external_account", "tos_acceptance.date")
LINK_LIFETIME = 300  # seconds an account link works, as on Stripe
SESSION_LIFETIME = (30 * 60, 24 * 60 * 60)  # the shortest and longest `expires_at` Stripe allows
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)  # between webhook attempts: Stripe's span days, tests cannot wait
PAYOUT_DAYS = 2
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
ANY_ACCOUNT = "*"  # `fail-next` without an account: the next refund anywhere fails
TEST_CARD, TEST_EXPIRY = "4242 4242 4242 4242", "12/34"  # what the card setup page suggests
# Stripe's test cards that save fine but whose off-session charges fail: (code, decline code, message)
OFF_SESSION_FAILURES = {
    "4000002760003184": (
        "authentication_required",
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
    ),
    "4000000000000341": ("card_declined", "generic_decline", "Your card was declined."),
}
MIN_CHARGE = 50  # cents: Stripe charges no less in euros
# Stripe's registration codes for simulated readers → the device each registers
SIMULATED_READERS = {"simulated-wpe": "simulated_wisepos_e", "simulated-s700": "simulated_stripe_s700"}
# Stripe's Terminal test cards: number → (brand, decline code, or None where the card is approved)
TERMINAL_TEST_CARDS = {
    "4242424242424242": ("visa", None),
    "5555555555554444": ("mastercard", None),
    "4000000000000002": ("visa", "generic_decline"),
}
DEFAULT_TERMINAL_CARD = "4242424242424242"  # what Stripe's simulated reader presents unless told
DECLINED = "Your card was declined."


class StripeError(Exception):
    """An answer in Stripe's error shape: `{"error": {"type", "message", "param", "code"}}`, with more of
    Stripe's error fields in `details` (`decline_code`, `payment_intent` …). `took_effect`: the request
    changed something before it failed (a declined charge), so its idempotency key replays the failure."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param=None,
        code=None,
        type="invalid_request_error",
        took_effect=False,
        **details,
    ):
        super().__init__(message)
        self.status, self.took_effect = status, took_effect
        fields = {"type": type, "message": message, "param": param, "code": code, **details}
        self.body = {"error": {key: value for key, value in fields.items() if value is not None}}


def missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", param=param, code="parameter_missing")


def no_such(kind: str, object_id: str, param: str = "id", status: int = 404) -> StripeError:
    return StripeError(status, f"No such {kind}: '{object_id}'", param=param, code="resource_missing")


def integer(value: Any, param: str) -> int:
    if value is None or value == "":
        raise missing(param)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {value}", param=param, code="parameter_invalid_integer") from None


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + secrets.token_hex(length // 2)


def nest(flat: dict[str, str]) -> dict[str, Any]:
    """Stripe's form keys as the structure they spell: `line_items[0][price_data][unit_amount]=5` becomes
    {"line_items": [{"price_data": {"unit_amount": "5"}}]}; values stay strings, `expand[]` appends."""
    root: dict[str, Any] = {}
    for key, value in flat.items():
        head = key.split("[", 1)[0]
        *path, last = [head, *re.findall(r"\[([^\]]*)\]", key[len(head) :])]
        node = root
        for part in path:
            node = node.setdefault(part or str(len(node)), {})
            if not isinstance(node, dict):
                raise StripeError(400, f"Invalid parameter: {key}", param=key)
        node[last or str(len(node))] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def sub(node: Any, key: str) -> dict:
    """The dict under `key`, or {} when the caller sent none (or sent a plain value there)."""
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, dict) else {}


def money(cents: int, currency: str = "eur") -> str:
    sign, text = "-" if cents < 0 else "", f"{abs(cents) // 100}.{abs(cents) % 100:02d}"
    return f"{sign}€{text}" if currency == "eur" else f"{sign}{text} {currency.upper()}"


def requirements(due: list[str], disabled_reason: str | None) -> dict:
    past_due = list(due) if disabled_reason == "requirements.past_due" else []
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": list(due),
        "past_due": past_due,
        "pending_verification": [],
    }


def fee_detail(kind: str, amount: int, currency: str) -> dict:
    description = {"stripe_fee": "Stripe processing fees", "application_fee": "Application fee"}[kind]
    return {"amount": amount, "application": None, "currency": currency, "description": description, "type": kind}


def wants_json(request: Request) -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


# Stripe's purple buttons, the checkout's table of items, card errors in red
PAGE_STYLE = """
button{font:inherit;padding:.5rem 1.25rem;margin:.5rem 0;border-radius:.375rem;cursor:pointer;
  border:1px solid #3d3aa8;background:#4a47c4;color:#fff}
button.secondary{background:#fff;color:#3d3aa8}
input{font:inherit;display:block;padding:.375rem .5rem;border:1px solid #767676;border-radius:.25rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #767676}
.num{text-align:right} .error{color:#a4161a;border-left:4px solid #a4161a;padding-left:.75rem}
"""


def page(title: str, body: str, status: int = 200) -> Response:
    """One of the stand-in's pages (onboarding, checkout, card setup), in Stripe's colours."""
    return html_page(title, body, status, PAGE_STYLE)


@dataclass
class Call:
    """One /v1 request as the handlers need it."""

    params: dict[str, str]  # the flat form or query fields, as sent
    account: str | None  # the Stripe-Account header: the connected account acted on, None for the platform
    base: str  # the URL the request came in on, for links to the stand-in's own pages

    @cached_property
    def fields(self) -> dict[str, Any]:
        return nest(self.params)


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    """Stripe's headers for one attempt, freshly signed (Stripe signs each attempt anew)."""
    stamp = int(time.time())  # real time, whatever clock the objects use: receivers check it against theirs
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": f"t={stamp},v1={mac.hexdigest()}",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }


class StripeStandIn(StandIn):
    """All of the stand-in's state, and the WSGI app serving it. One lock guards the state: requests
    are handled one at a time, except those waiting on webhook receivers (who may call back here)."""

    def __init__(
        self,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_stripe_dev",
        connect_webhook_secret: str = "whsec_stripe_connect_dev",
        api_key_prefix: str = "sk_test_",
        *,
        clock: Callable[[], float] = time.time,  # tests move time forward to expire links and sessions
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ):
        self.webhook_secret, self.connect_webhook_secret = webhook_secret, connect_webhook_secret
        self.api_key_prefix, self.clock = api_key_prefix, clock
        super().__init__(WebhookQueue(webhook_url, retry_delays, "stripe-standin-webhooks"))
        self._clear()

    def _clear(self) -> None:
        self._requests: list[dict] = []
        self._objects: dict[str, dict] = {}  # every object by id, oldest first
        self._owner: dict[str, str | None] = {}  # object id → the connected account it lives on (None: platform)
        self._links: dict[str, dict] = {}  # account link id → its account, URLs, expiry and whether used
        self._checkout: dict[str, dict] = {}  # session id → what Stripe keeps but does not show: lines, intents' data
        self._paid_out: dict[str, str] = {}  # balance transaction id → the payout that paid it out
        self._idempotent: dict[tuple, tuple] = {}  # (account, key) → (method, path, params), (status, JSON)
        self._failing_refunds: set[str] = set()  # accounts (or ANY_ACCOUNT) whose next refund fails
        self._cards: dict[str, str] = {}  # payment method id → its card's number, which decides its charges
        self._withheld_readers: set[str] = set()  # readers whose next outcome sends no webhooks

    # --- dispatch ---

    def _respond(self, request: Request) -> Response:
        try:
            endpoint, args = ROUTES.bind_to_environ(request.environ).match()
        except HTTPException:  # Stripe answers 404 to unknown paths and wrong methods alike
            endpoint, args = None, {}
        if request.path.startswith("/v1/"):
            return self._api(request, endpoint, args)
        try:
            if endpoint is None:
                raise StripeError(404, f"Unrecognized request URL ({request.method}: {request.path}).")
            if endpoint in UNLOCKED:
                return getattr(self, endpoint)(request, **args)
            with self._lock:
                return getattr(self, endpoint)(request, **args)
        except StripeError as error:
            return json_response(error.body, error.status)

    def _api(self, request: Request, endpoint: str | None, args: dict) -> Response:
        params = {**request.args.to_dict(), **request.form.to_dict()}
        call = Call(params, request.headers.get("Stripe-Account"), request.host_url.rstrip("/"))
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        with self._lock:
            try:
                self._authenticate(request)
                if endpoint is None:
                    raise StripeError(404, f"Unrecognized request URL ({request.method}: {request.path}).")
                status, body, replayed = self._answer_once(request, call, key, endpoint, args)
            except StripeError as error:
                status, body, replayed = error.status, json.dumps(error.body), False
            self._requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "stripe_account": call.account,
                    "idempotency_key": request.headers.get("Idempotency-Key"),
                    "params": params,
                    "status": status,
                }
            )
        response = Response(body, status, mimetype="application/json")
        response.headers["Request-Id"] = new_id("req_", 14)
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    def _authenticate(self, request: Request) -> None:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if not key.startswith(self.api_key_prefix):
            raise StripeError(401, f"Invalid API Key provided: {key[:8]}{'*' * max(len(key) - 12, 0)}{key[-4:]}")

    def _answer_once(self, request: Request, call: Call, key: str | None, endpoint: str, args: dict):
        """The answer's status and JSON, and whether it is a replay. Successes are kept for replay, and
        failures of requests that took effect: like Stripe, a request that failed validation may be
        retried with the same key, a declined charge is declined again."""
        fingerprint = (request.method, request.path, call.params)
        earlier = self._idempotent.get((call.account, key)) if key else None
        if earlier and earlier[0] != fingerprint:
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used with. "
                f"Try using a key other than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
        if earlier:
            return *earlier[1], True
        try:
            answer = 200, json.dumps(getattr(self, endpoint)(call, **args))
        except StripeError as error:
            if not error.took_effect:
                raise
            answer = error.status, json.dumps(error.body)
        if key:
            self._idempotent[(call.account, key)] = (fingerprint, answer)
        return *answer, False

    # --- objects and events ---

    def _now(self) -> int:
        return int(self.clock())

    def _store(self, obj: dict, account: str | None) -> dict:
        self._objects[obj["id"]] = obj
        self._owner[obj["id"]] = account
        return obj

    def _find(self, kind: str, object_id: str, account: str | None, param="id", status=404) -> dict:
        """The object, if it lives on this account: like Stripe, another account's object is 'missing'."""
        found = self._objects.get(object_id)
        if found is None or found["object"] != kind or self._owner[object_id] != account:
            raise no_such(kind, object_id, param, status)
        return found

    def _list(self, kind: str, account: str | None, keep: Callable[[dict], bool] = lambda _: True) -> list[dict]:
        """This account's objects of one kind, newest first, as Stripe lists them."""
        rows = [o for i, o in self._objects.items() if o["object"] == kind and self._owner[i] == account and keep(o)]
        return rows[::-1]

    def _page(self, rows: list[dict], call: Call, url: str) -> dict:
        limit = integer(call.params.get("limit", "10"), "limit")
        if not 1 <= limit <= 100:
            raise StripeError(400, "Invalid limit: must be between 1 and 100", param="limit")
        start = 0
        if after := call.params.get("starting_after"):
            ids = [row["id"] for row in rows]
            if after not in ids:
                raise StripeError(
                    400, f"No such object in this list: '{after}'", param="starting_after", code="resource_missing"
                )
            start = ids.index(after) + 1
        return {
            "object": "list",
            "data": rows[start : start + limit],
            "has_more": start + limit < len(rows),
            "url": url,
        }

    def _emit(self, event_type: str, obj: dict, account: str | None) -> None:
        """An event with the object as it is now (serialized at once: later changes do not reach it),
        signed with the Connect secret when it happened on a connected account."""
        event = {
            "id": new_id("evt_"),
            "object": "event",
            **({"account": account} if account else {}),  # only on events of connected accounts
            "api_version": API_VERSION,
            "created": self._now(),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        secret = self.connect_webhook_secret if account else self.webhook_secret
        body, headers = json.dumps(event).encode(), partial(signed_headers, secret)
        self._webhooks.add(event["id"], body, headers, type=event["type"], account=event.get("account"))
        self._webhooks.release([event["id"]])

    def _transaction(self, account, kind: str, amount: int, source: str, currency: str, fees=()) -> dict:
        now, fee = self._now(), sum(detail["amount"] for detail in fees)
        txn = {
            "id": new_id("txn_"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": now,  # at once: nobody waits days for the stand-in's money to settle
            "balance_type": "payments",
            "created": now,
            "currency": currency,
            "description": None,
            "fee": fee,
            "fee_details": list(fees),
            "net": amount - fee,
            "reporting_category": kind,
            "source": source,
            "status": "available",
            "type": kind,
        }
        return self._store(txn, account)

    # --- connected accounts ---

    def api_create_account(self, call: Call) -> dict:
        fields = call.fields
        account = {
            "id": new_id("acct_", 16),
            "object": "account",
            "business_profile": {"mcc": None, "name": None, "url": None} | sub(fields, "business_profile"),
            "capabilities": {"card_payments": "inactive", "transfers": "inactive"},
            "charges_enabled": False,
            "controller": sub(fields, "controller") or {"is_controller": True, "type": "application"},
            "country": fields.get("country", "DE"),
            "created": self._now(),
            "default_currency": "eur",
            "details_submitted": False,
            "email": fields.get("email"),
            "metadata": sub(fields, "metadata"),
            "payouts_enabled": False,
            "requirements": requirements(ONBOARDING_DUE, "requirements.past_due"),
            "settings": {"payouts": {"schedule": {"delay_days": PAYOUT_DAYS, "interval": "daily"}}},
            "type": fields.get("type", "express"),
        }
        return self._store(account, None)  # the platform's: accounts are looked up without Stripe-Account

    def api_retrieve_account(self, call: Call, object_id: str) -> dict:
        return self._find("account", object_id, None)

    def api_create_account_link(self, call: Call) -> dict:
        for name in ("account", "type", "refresh_url", "return_url"):
            if not call.params.get(name):
                raise missing(name)
        if call.params["type"] not in ("account_onboarding", "account_update"):
            raise StripeError(400, "Invalid type: must be one of account_onboarding or account_update", param="type")
        account = self._find("account", call.params["account"], None, param="account", status=400)
        link_id, now = new_id("link_"), self._now()
        self._links[link_id] = {
            "account": account["id"],
            "expires_at": now + LINK_LIFETIME,
            "refresh_url": call.params["refresh_url"],
            "return_url": call.params["return_url"],
            "used": False,
        }
        url = f"{call.base}/_standin/onboarding/{link_id}"
        return {"object": "account_link", "created": now, "expires_at": now + LINK_LIFETIME, "url": url}

    def onboarding(self, request: Request, link_id: str) -> Response:
        link = self._links.get(link_id)
        if link is None:
            return page("Stripe stand-in: unknown link", "<p>This onboarding link does not exist.</p>", 404)
        if link["used"] or self._now() > link["expires_at"]:  # single-use and short-lived, as on Stripe
            return redirect(link["refresh_url"], 303)
        title = f"Stripe stand-in: set up payments for {link['account']}"
        if request.method == "GET":
            return page(
                title,
                "<p>Stripe would ask here for the business, its owner and its bank account. "
                'The stand-in asks nothing.</p>\n<form method="post"><button type="submit">'
                "Complete setup</button></form>",
            )
        link["used"] = True
        account = self._objects[link["account"]]
        account.update(
            capabilities={"card_payments": "active", "transfers": "active"},
            charges_enabled=True,
            details_submitted=True,
            payouts_enabled=True,
            requirements=requirements([], None),
        )
        self._emit("account.updated", account, account["id"])
        return self._moved(request, link["return_url"], account=account)

    def control_account(self, request: Request, account_id: str) -> Response:
        account, changes = self._find("account", account_id, None), self._input(request)
        for flag in ("charges_enabled", "payouts_enabled", "details_submitted"):
            if flag in changes:
                account[flag] = changes[flag] in (True, "true", "1")
        reason = changes.get("disabled_reason", account["requirements"]["disabled_reason"])
        account["requirements"] = requirements(
            changes.get("currently_due", account["requirements"]["currently_due"]), reason
        )
        account["capabilities"] = {
            "card_payments": "active" if account["charges_enabled"] else "inactive",
            "transfers": "active" if account["payouts_enabled"] else "inactive",
        }
        self._emit("account.updated", account, account_id)
        return json_response(account)

    # --- Checkout Sessions ---

    def api_create_checkout_session(self, call: Call) -> dict:
        params, fields = call.params, call.fields
        if not params.get("mode"):
            raise missing("mode")
        if params["mode"] not in ("payment", "setup"):
            raise StripeError(400, "The stand-in knows only mode=payment and mode=setup.", param="mode")
        if not params.get("success_url"):
            raise missing("success_url")
        customer = self._checkout_customer(call)
        if params["mode"] == "setup":
            return self._setup_session(call, customer)
        lines = self._checkout_lines(fields.get("line_items"))
        total, currency = sum(line["amount"] for line in lines), lines[0]["currency"]
        fee = self._application_fee(call, total)
        session = self._open_session(
            call,
            amount_subtotal=total,
            amount_total=total,
            currency=currency,
            mode="payment",
            payment_status="unpaid",
            **({"customer": customer} if customer else {}),  # named only when given (Stripe answers null)
        )
        intent_metadata = sub(sub(fields, "payment_intent_data"), "metadata")
        self._checkout[session["id"]] = {
            "lines": lines,
            "intent_metadata": intent_metadata,
            "application_fee_amount": fee,
        }
        return self._store(session, call.account)

    def _setup_session(self, call: Call, customer: str | None) -> dict:
        """A session that saves a card for later (off-session) payments: no line items, nothing paid."""
        params, fields = call.params, call.fields
        if "line_items" in fields:
            raise StripeError(400, "You cannot pass `line_items` in `setup` mode.", param="line_items")
        methods = fields.get("payment_method_types")
        if methods is None and not params.get("currency"):  # Stripe picks the payment methods by currency
            raise missing("currency")
        if methods not in (None, ["card"]):
            raise StripeError(400, "The stand-in saves cards only.", param="payment_method_types")
        session = self._open_session(
            call,
            amount_subtotal=None,
            amount_total=None,
            currency=params.get("currency", "").lower() or None,
            customer=customer,
            mode="setup",
            payment_status="no_payment_required",
            setup_intent=None,
        )
        self._checkout[session["id"]] = {"setup_metadata": sub(sub(fields, "setup_intent_data"), "metadata")}
        return self._store(session, call.account)

    def _open_session(self, call: Call, **by_mode: Any) -> dict:
        """A new open session with what every mode has, its expiry checked as Stripe checks it."""
        params, now = call.params, self._now()
        expires_at = integer(params.get("expires_at", now + SESSION_LIFETIME[1]), "expires_at")
        if not SESSION_LIFETIME[0] <= expires_at - now <= SESSION_LIFETIME[1]:
            raise StripeError(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
                param="expires_at",
            )
        session_id = new_id("cs_test_", 40)
        return {
            "id": session_id,
            "object": "checkout.session",
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": sub(call.fields, "metadata"),
            "payment_intent": None,
            "payment_method_types": ["card"],
            "status": "open",
            "success_url": params["success_url"],
            "ui_mode": "hosted",
            "url": f"{call.base}/_standin/checkout/{session_id}",  # the host asked: it works behind any port
            **by_mode,
        }

    def _checkout_customer(self, call: Call) -> str | None:
        """The customer a session pays for or saves a card of: one of this account's."""
        customer = call.params.get("customer")
        if not customer:
            return None
        if call.params.get("customer_email"):
            raise StripeError(
                400, "You may only specify one of these parameters: customer, customer_email.", param="customer"
            )
        return self._find("customer", customer, call.account, param="customer", status=400)["id"]

    @staticmethod
    def _application_fee(
        call: Call, total: int, param: str = "payment_intent_data[application_fee_amount]"
    ) -> int | None:
        """The platform's cut: Stripe takes it only from a payment made on a connected account."""
        if call.params.get(param) is None:
            return None
        fee = integer(call.params[param], param)
        if call.account is None:
            raise StripeError(
                400,
                "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment "
                "(using an OAuth key or Stripe-Account header) or destination payment "
                "(using `transfer_data[destination]`).",
                param=param,
            )
        if not 0 <= fee <= total:
            raise StripeError(400, "The application fee must be between 0 and the amount.", param=param)
        return fee

    @staticmethod
    def _checkout_lines(items: Any) -> list[dict]:
        """Line items with inline prices: the stand-in keeps no Price or Product objects."""
        if not items or not isinstance(items, list):
            raise missing("line_items")
        lines = []
        for i, item in enumerate(items):
            item = item if isinstance(item, dict) else {}
            price = sub(item, "price_data")
            name, currency = sub(price, "product_data").get("name"), price.get("currency")
            if not name:
                raise missing(f"line_items[{i}][price_data][product_data][name]")
            if not currency:
                raise missing(f"line_items[{i}][price_data][currency]")
            unit = integer(price.get("unit_amount"), f"line_items[{i}][price_data][unit_amount]")
            quantity = integer(item.get("quantity"), f"line_items[{i}][quantity]")
            if unit < 0 or quantity < 1:
                raise StripeError(
                    400, "Amounts must not be negative and quantities at least 1.", param=f"line_items[{i}]"
                )
            lines.append(
                {
                    "name": name,
                    "currency": currency.lower(),
                    "unit_amount": unit,
                    "quantity": quantity,
                    "amount": unit * quantity,
                }
            )
        if len({line["currency"] for line in lines}) > 1:
            raise StripeError(400, "All line items must have the same currency.", param="line_items")
        return lines

    def _session(self, session_id: str, account: str | None) -> dict:
        """The session, expired first if its time is up (Stripe expires them by itself, too)."""
        session = self._find("checkout.session", session_id, account)
        if session["status"] == "open" and self._now() >= session["expires_at"]:
            self._expire(session, account)
        return session

    def _hosted(self, session_id: str) -> tuple[dict, str | None]:
        """For the hosted page, whose URL does not say the account: the session and its account."""
        found = self._objects.get(session_id)
        if found is None or found["object"] != "checkout.session":
            raise no_such("checkout.session", session_id)
        return self._session(session_id, self._owner[session_id]), self._owner[session_id]

    def _expire(self, session: dict, account: str | None) -> None:
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", session, account)

    def api_retrieve_checkout_session(self, call: Call, object_id: str) -> dict:
        return self._expanded(self._session(object_id, call.account), call)

    def api_expire_checkout_session(self, call: Call, object_id: str) -> dict:
        session = self._session(object_id, call.account)
        if session["status"] != "open":
            raise StripeError(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. '
                f"This Checkout Session has a status of {session['status']}.",
            )
        self._expire(session, call.account)
        return session

    def checkout_page(self, request: Request, session_id: str) -> Response:
        return self._checkout_page(self._hosted(session_id)[0])

    def _checkout_page(self, session: dict, error: str | None = None, status: int = 200) -> Response:
        title, path = "Stripe stand-in: checkout", f"/_standin/checkout/{session['id']}"
        if session["status"] != "open":
            done = session["status"] == "complete"
            back = success_url(session) if done else session["cancel_url"]
            text = "This checkout is complete." if done else "This checkout has expired."
            link = f'<p><a href="{html.escape(back)}">Return to the shop</a></p>' if back else ""
            return page(title, f"<p>{text}</p>{link}", status)
        if session["mode"] == "setup":
            return self._setup_page(session, error, status)
        lines = self._checkout[session["id"]]["lines"]
        rows = "".join(
            f'<tr><td>{html.escape(line["name"])}</td><td class="num">{line["quantity"]}</td>'
            f'<td class="num">{money(line["amount"], line["currency"])}</td></tr>'
            for line in lines
        )
        total = money(session["amount_total"], session["currency"])
        alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        return page(
            title,
            f"""{alert}<table><caption>Your order</caption>
<thead><tr><th scope="col">Item</th><th scope="col" class="num">Quantity</th>
<th scope="col" class="num">Amount</th></tr></thead>
<tbody>{rows}</tbody>
<tfoot><tr><th scope="row" colspan="2">Total</th><td class="num">{total}</td></tr></tfoot></table>
<form method="post" action="{path}/pay"><p><label for="outcome">Test outcome</label>
<select id="outcome" name="outcome"><option value="paid">The payment succeeds</option>
<option value="async">The payment is processing (settled later)</option>
<option value="declined">The card is declined</option></select></p>
<button type="submit">Pay</button></form>
<form method="post" action="{path}/cancel"><button type="submit" class="secondary">Cancel</button></form>""",
            status,
        )

    def checkout_pay(self, request: Request, session_id: str) -> Response:
        session, account = self._hosted(session_id)
        if session["mode"] != "payment":
            raise StripeError(400, "This Checkout Session saves a card: it takes one at /setup.")
        outcome = self._input(request).get("outcome", "paid")
        if outcome not in ("paid", "async", "declined"):
            raise StripeError(400, "outcome must be paid, async or declined", param="outcome")
        if session["status"] != "open":
            if wants_json(request):
                raise StripeError(400, f"This Checkout Session is {session['status']}.")
            return self._checkout_page(session, status=409)
        if outcome == "declined":  # nothing changes: the customer may try again
            if wants_json(request):
                raise StripeError(402, "Your card was declined.", type="card_error", code="card_declined")
            return self._checkout_page(
                session, "Your card was declined. Nothing was charged: try again or cancel.", 402
            )
        intent = self._new_intent(session, account)
        session.update(status="complete", payment_intent=intent["id"], url=None)
        if outcome == "paid":
            self._succeed(intent, account)
            session["payment_status"] = "paid"
        self._emit("checkout.session.completed", session, account)
        if outcome == "paid":
            self._emit("payment_intent.succeeded", intent, account)
        return self._moved(request, success_url(session), session=session)

    def _setup_page(
        self,
        session: dict,
        error: str | None = None,
        status: int = 200,
        number: str = TEST_CARD,
        expiry: str = TEST_EXPIRY,
    ) -> Response:
        path = f"/_standin/checkout/{session['id']}"
        alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        return page(
            "Stripe stand-in: save a card",
            f"""{alert}<p>Your card is saved to pay later bills without you having to be there.</p>
<form method="post" action="{path}/setup">
<p><label for="card-number">Card number</label>
<input id="card-number" name="card_number" value="{html.escape(number)}" inputmode="numeric"
 autocomplete="cc-number" aria-describedby="card-hint" required></p>
<p id="card-hint">Test cards, by how later charges go: 4242 4242 4242 4242 succeeds, 4000 0027 6000 3184
needs authentication, 4000 0000 0000 0341 is declined.</p>
<p><label for="card-expiry">Expiry (MM/YY)</label>
<input id="card-expiry" name="exp" value="{html.escape(expiry)}" autocomplete="cc-exp" required></p>
<button type="submit">Save card</button></form>
<form method="post" action="{path}/cancel"><button type="submit" class="secondary">Cancel</button></form>""",
            status,
        )

    def checkout_setup(self, request: Request, session_id: str) -> Response:
        """The card setup page's Save: the card becomes a PaymentMethod of the session's customer,
        saved for off-session use by a succeeded SetupIntent."""
        session, account = self._hosted(session_id)
        if session["mode"] != "setup":
            raise StripeError(400, "This Checkout Session takes a payment: it is paid at /pay.")
        if session["status"] != "open":
            if wants_json(request):
                raise StripeError(400, f"This Checkout Session is {session['status']}.")
            return self._checkout_page(session, status=409)
        entered = self._input(request)
        number, expiry = entered.get("card_number", TEST_CARD), entered.get("exp", TEST_EXPIRY)
        try:
            card = read_card(number, expiry, self._now())
        except StripeError as error:
            if wants_json(request):
                raise
            return self._setup_page(session, error.body["error"]["message"], error.status, number, expiry)
        method = self._new_payment_method(card, session["customer"], account)
        intent = self._new_setup_intent(session, method["id"], account)
        session.update(status="complete", setup_intent=intent["id"], url=None)
        if session["customer"]:
            self._emit("payment_method.attached", method, account)
        self._emit("setup_intent.succeeded", intent, account)
        self._emit("checkout.session.completed", session, account)
        return self._moved(request, success_url(session), session=session, setup_intent=intent, payment_method=method)

    def checkout_cancel(self, request: Request, session_id: str) -> Response:
        session, _ = self._hosted(session_id)  # stays open: the customer may come back before it expires
        return self._moved(request, session["cancel_url"] or f"/_standin/checkout/{session_id}", session=session)

    def checkout_settle(self, request: Request, session_id: str) -> Response:
        session, account = self._hosted(session_id)
        intent = self._objects.get(session["payment_intent"] or "")
        if intent is None or intent["status"] != "processing":
            raise StripeError(400, "This Checkout Session has no payment processing.")
        outcome = self._input(request).get("outcome")
        if outcome == "succeeded":
            self._succeed(intent, account)
            session["payment_status"] = "paid"
            self._emit("checkout.session.async_payment_succeeded", session, account)
            self._emit("payment_intent.succeeded", intent, account)
        elif outcome == "failed":
            declined = {
                "code": "payment_method_provider_decline",
                "message": "The payment was declined.",
                "type": "card_error",
            }
            intent.update(status="requires_payment_method", last_payment_error=declined)
            self._emit("checkout.session.async_payment_failed", session, account)
            self._emit("payment_intent.payment_failed", intent, account)
        else:
            raise StripeError(400, "outcome must be succeeded or failed", param="outcome")
        return json_response({"session": session, "payment_intent": intent})

    # --- PaymentIntents and charges ---

    def _new_intent(self, session: dict, account: str | None) -> dict:
        extras = self._checkout[session["id"]]
        return self._intent(
            account,
            session["amount_total"],
            session["currency"],
            extras["intent_metadata"],
            application_fee_amount=extras["application_fee_amount"],
            customer=session.get("customer"),
            receipt_email=session["customer_email"],
        )

    def _intent(self, account: str | None, amount: int, currency: str, metadata: dict, **fields: Any) -> dict:
        """A new PaymentIntent, processing until its outcome is known; `fields` are what its payment sets."""
        suffix = secrets.token_hex(12)
        intent = {
            "id": f"pi_{suffix}",
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "application_fee_amount": None,
            "capture_method": "automatic",
            "client_secret": f"pi_{suffix}_secret_{secrets.token_hex(12)}",
            "created": self._now(),
            "currency": currency,
            "customer": None,
            "description": None,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "payment_method": None,
            "payment_method_types": ["card"],
            "receipt_email": None,
            "status": "processing",
            **fields,
        }
        return self._store(intent, account)

    def _succeed(self, intent: dict, account: str | None, **charge_fields: Any) -> None:
        """The charge and its balance transaction: Stripe's fee (1.5 % + 25 cents) plus the platform's;
        `charge_fields` are what the way it was paid adds (a card-present charge's reader and card)."""
        amount, currency, application_fee = intent["amount"], intent["currency"], intent["application_fee_amount"]
        charge_id = "ch_" + intent["id"].removeprefix("pi_")
        fees = [fee_detail("stripe_fee", (amount * 15 + 500) // 1000 + 25, currency)]  # rounded half up
        if application_fee:
            fees.append(fee_detail("application_fee", application_fee, currency))
        txn = self._transaction(account, "charge", amount, charge_id, currency, fees)
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "application_fee_amount": application_fee,
            "balance_transaction": txn["id"],
            "captured": True,
            "created": self._now(),
            "currency": currency,
            "disputed": False,
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "paid": True,
            "payment_intent": intent["id"],
            "refunded": False,
            "status": "succeeded",
            **charge_fields,
        }
        self._store(charge, account)
        intent.update(amount_received=amount, latest_charge=charge_id, last_payment_error=None, status="succeeded")

    def api_retrieve_payment_intent(self, call: Call, object_id: str) -> dict:
        return self._expanded(self._find("payment_intent", object_id, call.account), call)

    def api_create_payment_intent(self, call: Call) -> dict:
        """One for a card reader (`payment_method_types` naming `card_present`), or a saved card's."""
        methods = call.fields.get("payment_method_types")
        if isinstance(methods, list) and "card_present" in methods:
            return self._card_present_intent(call, methods)
        return self.api_create_off_session_payment(call)

    def api_create_off_session_payment(self, call: Call) -> dict:
        """A saved card charged without its holder (`confirm` and `off_session`, as Stripe's own
        PaymentIntents are made for that): it succeeds, or fails with a 402 card error carrying the
        PaymentIntent, as the card saved decides (`OFF_SESSION_FAILURES`)."""
        params = call.params
        if params.get("confirm") != "true" or params.get("off_session") != "true":
            raise StripeError(400, "The stand-in only charges saved cards: confirm and off_session must be true.")
        if not params.get("currency"):
            raise missing("currency")
        currency, amount = params["currency"].lower(), integer(params.get("amount"), "amount")
        if amount < MIN_CHARGE:
            raise StripeError(
                400, f"Amount must be at least {money(MIN_CHARGE, currency)}", param="amount", code="amount_too_small"
            )
        if not params.get("payment_method"):
            raise missing("payment_method")
        customer = params.get("customer")
        if customer:
            self._find("customer", customer, call.account, param="customer", status=400)
        method = self._attached(params["payment_method"], customer, call.account, "payment_method")
        intent = self._intent(
            call.account,
            amount,
            currency,
            sub(call.fields, "metadata"),
            customer=customer,
            description=params.get("description"),
            payment_method=method["id"],
        )
        failure = OFF_SESSION_FAILURES.get(self._cards[method["id"]])
        if failure is None:
            self._succeed(intent, call.account)
            self._emit("payment_intent.succeeded", intent, call.account)
            return intent
        code, decline_code, message = failure
        error = {"code": code, "decline_code": decline_code, "message": message, "payment_method": method}
        # as on Stripe: the intent lets go of the card that failed and waits for another
        intent.update(
            last_payment_error=error | {"type": "card_error"}, payment_method=None, status="requires_payment_method"
        )
        self._emit("payment_intent.payment_failed", intent, call.account)
        raise StripeError(
            402,
            message,
            type="card_error",
            code=code,
            took_effect=True,
            decline_code=decline_code,
            payment_intent=copy.deepcopy(intent),
            payment_method=method,
        )

    def _attached(self, method_id: str, customer: str | None, account: str | None, param: str) -> dict:
        """The payment method, if it is the customer's: Stripe charges a saved card only for its customer."""
        method = self._find("payment_method", method_id, account, param=param, status=400)
        if method["customer"] != customer:
            raise StripeError(
                400,
                f"The customer does not have a payment method with the ID {method_id}. "
                "The payment method must be attached to the customer.",
                param=param,
                code="resource_missing",
            )
        return method

    def _new_payment_method(self, card: dict, customer: str | None, account: str | None) -> dict:
        method = {
            "id": new_id("pm_"),
            "object": "payment_method",
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "card": {
                "brand": card["brand"],
                "display_brand": card["brand"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "fingerprint": hashlib.sha256(card["number"].encode()).hexdigest()[:16],  # one per card number
                "funding": "credit",
                "last4": card["number"][-4:],
            },
            "created": self._now(),
            "customer": customer,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }
        self._cards[method["id"]] = card["number"]
        return self._store(method, account)

    def _new_setup_intent(self, session: dict, method_id: str, account: str | None) -> dict:
        suffix = secrets.token_hex(12)
        intent = {
            "id": f"seti_{suffix}",
            "object": "setup_intent",
            "application": None,
            "cancellation_reason": None,
            "client_secret": f"seti_{suffix}_secret_{secrets.token_hex(12)}",
            "created": self._now(),
            "customer": session["customer"],
            "description": None,
            "last_setup_error": None,
            "latest_attempt": None,
            "livemode": False,
            "mandate": None,
            "metadata": self._checkout[session["id"]]["setup_metadata"],
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": method_id,
            "payment_method_types": ["card"],
            "status": "succeeded",
            "usage": "off_session",
        }
        return self._store(intent, account)

    def api_retrieve_setup_intent(self, call: Call, object_id: str) -> dict:
        return self._expanded(self._find("setup_intent", object_id, call.account), call)

    def api_retrieve_payment_method(self, call: Call, object_id: str) -> dict:
        return self._find("payment_method", object_id, call.account)

    def api_create_customer(self, call: Call) -> dict:
        fields = call.fields
        customer = {
            "id": new_id("cus_", 14),
            "object": "customer",
            "created": self._now(),
            "description": fields.get("description"),
            "email": fields.get("email"),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": sub(fields, "metadata"),
            "name": fields.get("name"),
        }
        self._store(customer, call.account)
        self._emit("customer.created", customer, call.account)
        return customer

    def api_retrieve_customer(self, call: Call, object_id: str) -> dict:
        return self._expanded(self._find("customer", object_id, call.account), call)

    def api_update_customer(self, call: Call, object_id: str) -> dict:
        """Changes only the card the customer's invoices are charged to (`invoice_settings[default_payment_method]`,
        empty unsets it): all the stand-in is asked to change."""
        customer = self._find("customer", object_id, call.account)
        param = "invoice_settings[default_payment_method]"
        if param in call.params:
            method = call.params[param] or None
            if method:
                self._attached(method, customer["id"], call.account, param)
            customer["invoice_settings"]["default_payment_method"] = method
            self._emit("customer.updated", customer, call.account)
        return self._expanded(customer, call)

    def _expanded(self, found: dict, call: Call) -> dict:
        """The object with the ids that `expand[]` names replaced by their objects, nested ones too
        (`setup_intent.payment_method`): a copy, the stored objects stay as they are."""
        expand = call.fields.get("expand", [])
        answer = dict(found)
        for path in expand if isinstance(expand, list) else [expand]:
            node = answer
            for name in path.split("."):
                value = node.get(name)
                if isinstance(value, str) and value in self._objects:
                    value = self._objects[value]
                elif name not in node or not (value is None or isinstance(value, dict)):
                    raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
                if value is None:  # a null on the way: nothing further to expand
                    break
                node[name] = node = dict(value)
        return answer

    # --- Terminal: locations, readers and card-present payments ---

    def api_create_location(self, call: Call) -> dict:
        fields = call.fields
        if not call.params.get("display_name"):
            raise missing("display_name")
        address = sub(fields, "address")
        if not address.get("country"):
            raise missing("address[country]")
        location = {
            "id": new_id("tml_"),
            "object": "terminal.location",
            "address": {
                name: address.get(name) for name in ("city", "country", "line1", "line2", "postal_code", "state")
            },
            "display_name": fields["display_name"],
            "livemode": False,
            "metadata": sub(fields, "metadata"),
        }
        return self._store(location, call.account)

    def api_retrieve_location(self, call: Call, object_id: str) -> dict:
        return self._find("terminal.location", object_id, call.account)

    def api_create_reader(self, call: Call) -> dict:
        """A simulated reader, registered as Stripe registers one: by its code, at a location of the account."""
        code, location = call.params.get("registration_code"), call.params.get("location")
        if not code:
            raise missing("registration_code")
        if code not in SIMULATED_READERS:
            raise StripeError(
                400,
                f"The registration code '{code}' is invalid or has expired: type the code the reader shows.",
                param="registration_code",
            )
        if not location:
            raise missing("location")
        self._find("terminal.location", location, call.account, param="location", status=400)
        serial_number = str(uuid.uuid4())
        reader = {
            "id": new_id("tmr_"),
            "object": "terminal.reader",
            "action": None,
            "device_sw_version": "",
            "device_type": SIMULATED_READERS[code],
            "ip_address": "0.0.0.0",
            "label": call.params.get("label") or serial_number,
            "last_seen_at": self._now_ms(),
            "livemode": False,
            "location": location,
            "metadata": sub(call.fields, "metadata"),
            "serial_number": serial_number,
            "status": "online",
        }
        return self._store(reader, call.account)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)  # `last_seen_at`: unlike Stripe's other times, in milliseconds

    def _reader(self, reader_id: str, account: str | None) -> dict:
        """The reader; one that is online reports to Stripe all the time, so it was last seen now."""
        reader = self._find("terminal.reader", reader_id, account)
        if reader["status"] == "online":
            reader["last_seen_at"] = self._now_ms()
        return reader

    def _online_reader(self, reader_id: str, account: str | None) -> dict:
        reader = self._reader(reader_id, account)
        if reader["status"] != "online":
            raise StripeError(
                400,
                f"Reader {reader_id} is offline: make sure it is switched on and connected, then try again.",
                code="terminal_reader_offline",
            )
        return reader

    def api_retrieve_reader(self, call: Call, object_id: str) -> dict:
        return self._reader(object_id, call.account)

    def api_delete_reader(self, call: Call, object_id: str) -> dict:
        self._reader(object_id, call.account)
        del self._objects[object_id], self._owner[object_id]
        return {"id": object_id, "object": "terminal.reader", "deleted": True}

    def api_process_payment_intent(self, call: Call, object_id: str) -> dict:
        """The reader asks the customer for a card to pay the PaymentIntent: its action is in
        progress until a card is presented (`api_present_payment_method`) or it is canceled."""
        reader = self._online_reader(object_id, call.account)
        if not call.params.get("payment_intent"):
            raise missing("payment_intent")
        intent = self._find("payment_intent", call.params["payment_intent"], call.account, "payment_intent", 400)
        if reader["action"] and reader["action"]["status"] == "in_progress":
            raise StripeError(
                400,
                f"Reader {object_id} is busy with another action: wait for it or cancel it.",
                code="terminal_reader_busy",
            )
        if "card_present" not in intent["payment_method_types"] or intent["status"] != "requires_payment_method":
            raise StripeError(
                400,
                f"This PaymentIntent's status is {intent['status']}: a reader can only process one that "
                "requires a card_present payment method.",
                param="payment_intent",
                code="payment_intent_unexpected_state",
            )
        reader["action"] = {
            "api_error": None,
            "failure_code": None,
            "failure_message": None,
            "process_payment_intent": {"payment_intent": intent["id"]},
            "status": "in_progress",
            "type": "process_payment_intent",
        }
        return reader

    def _reader_in_action(self, reader: dict) -> dict:
        action = reader["action"]
        if action is None or action["status"] != "in_progress":
            raise StripeError(400, f"Reader {reader['id']} has no action in progress.")
        return action

    def api_cancel_reader_action(self, call: Call, object_id: str) -> dict:
        """The reader back to its idle screen, without its action (as Stripe answers it)."""
        reader = self._online_reader(object_id, call.account)
        self._reader_in_action(reader)
        reader["action"] = None
        return reader

    def api_present_payment_method(self, call: Call, object_id: str) -> dict:
        """Stripe's test helper: a customer taps a test card on the simulated reader. Approved, the
        PaymentIntent succeeds with its charge; declined, the charge fails and the PaymentIntent waits
        for another card. Either way the action ends, and its webhooks follow unless withheld."""
        reader = self._online_reader(object_id, call.account)
        action = self._reader_in_action(reader)
        if call.params.get("type", "card_present") != "card_present":
            raise StripeError(400, "The stand-in's readers take card_present payment methods only.", param="type")
        number = sub(call.fields, "card_present").get("number") or DEFAULT_TERMINAL_CARD
        if number not in TERMINAL_TEST_CARDS:
            cards = ", ".join(TERMINAL_TEST_CARDS)
            raise StripeError(400, f"Present one of Stripe's test cards: {cards}.", param="card_present[number]")
        brand, decline_code = TERMINAL_TEST_CARDS[number]
        intent = self._objects[action["process_payment_intent"]["payment_intent"]]
        method = self._card_present_method(number, brand, call.account)
        details = {"payment_method": method["id"], "payment_method_details": card_present_details(method, reader)}
        if decline_code is None:
            self._succeed(intent, call.account, outcome=charge_outcome(None), **details)
            intent["payment_method"] = method["id"]
            action.update(status="succeeded")
            outcome = ("payment_intent.succeeded", "terminal.reader.action_succeeded")
        else:
            charge = self._failed_charge(intent, call.account, decline_code, details)
            error = {"charge": charge["id"], "code": "card_declined", "decline_code": decline_code, "message": DECLINED}
            intent.update(
                last_payment_error=error | {"payment_method": method, "type": "card_error"},
                latest_charge=charge["id"],
                payment_method=None,
                status="requires_payment_method",
            )
            action.update(
                api_error=error | {"type": "card_error"},
                failure_code="card_declined",
                failure_message=DECLINED,
                status="failed",
            )
            outcome = ("payment_intent.payment_failed", "terminal.reader.action_failed")
        if object_id in self._withheld_readers:
            self._withheld_readers.discard(object_id)
        else:
            self._emit(outcome[0], intent, call.account)
            self._emit(outcome[1], reader, call.account)
        return reader

    def _card_present_method(self, number: str, brand: str, account: str | None) -> dict:
        method = {
            "id": new_id("pm_"),
            "object": "payment_method",
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "card_present": {
                "brand": brand,
                "cardholder_name": None,
                "country": "US",  # where Stripe's test cards are issued
                "exp_month": 12,
                "exp_year": 2034,
                "fingerprint": hashlib.sha256(number.encode()).hexdigest()[:16],
                "funding": "credit",
                "last4": number[-4:],
                "networks": {"available": [brand], "preferred": None},
                "read_method": "contactless_emv",
            },
            "created": self._now(),
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": "card_present",
        }
        self._cards[method["id"]] = number
        return self._store(method, account)

    def _failed_charge(self, intent: dict, account: str | None, decline_code: str, details: dict) -> dict:
        """A declined card's charge: Stripe keeps it (status `failed`), no money moved."""
        charge = {
            "id": new_id("ch_"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": 0,
            "amount_refunded": 0,
            "application_fee_amount": None,
            "balance_transaction": None,
            "captured": False,
            "created": self._now(),
            "currency": intent["currency"],
            "disputed": False,
            "failure_code": "card_declined",
            "failure_message": DECLINED,
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "outcome": charge_outcome(decline_code),
            "paid": False,
            "payment_intent": intent["id"],
            "refunded": False,
            "status": "failed",
            **details,
        }
        return self._store(charge, account)

    def _any_reader(self, reader_id: str) -> dict:
        """For the controls, whose URL does not say the account: the reader on whichever it lives."""
        found = self._objects.get(reader_id)
        if found is None or found["object"] != "terminal.reader":
            raise no_such("terminal.reader", reader_id)
        return found

    def control_reader_connection(self, request: Request, reader_id: str) -> Response:
        """The reader switched off or on (`{"online": false}`): offline, it takes no action and keeps the
        time it was last seen."""
        reader, online = self._any_reader(reader_id), self._input(request).get("online")
        if online not in (True, False):
            raise StripeError(400, "online must be true or false", param="online")
        reader["status"] = "online" if online else "offline"
        if online:
            reader["last_seen_at"] = self._now_ms()
        return json_response(reader)

    def control_withhold_reader_events(self, request: Request, reader_id: str) -> Response:
        """The webhooks of the reader's next outcome are never sent: what Tresen learns of it, it must ask."""
        self._withheld_readers.add(self._any_reader(reader_id)["id"])
        return json_response({"ok": True})

    def _card_present_intent(self, call: Call, methods: list) -> dict:
        """A PaymentIntent a reader collects: it requires a payment method until a card is presented."""
        params = call.params
        if not params.get("currency"):
            raise missing("currency")
        amount = integer(params.get("amount"), "amount")
        if amount < MIN_CHARGE:
            raise StripeError(
                400, f"Amount must be at least {money(MIN_CHARGE)}", param="amount", code="amount_too_small"
            )
        capture_method = params.get("capture_method", "automatic")
        if capture_method != "automatic":
            raise StripeError(400, "The stand-in's readers capture automatically only.", param="capture_method")
        return self._intent(
            call.account,
            amount,
            params["currency"].lower(),
            sub(call.fields, "metadata"),
            application_fee_amount=self._application_fee(call, amount, "application_fee_amount"),
            description=params.get("description"),
            payment_method_types=methods,
            status="requires_payment_method",
        )

    def api_cancel_payment_intent(self, call: Call, object_id: str) -> dict:
        intent = self._find("payment_intent", object_id, call.account)
        if intent["status"] in ("succeeded", "canceled"):
            raise StripeError(
                400,
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. Only a "
                "PaymentIntent with one of the following statuses may be canceled: requires_payment_method, "
                "requires_capture, requires_confirmation, requires_action, processing.",
                code="payment_intent_unexpected_state",
                payment_intent=copy.deepcopy(intent),
            )
        intent.update(
            canceled_at=self._now(),
            cancellation_reason=call.params.get("cancellation_reason"),
            status="canceled",
        )
        self._emit("payment_intent.canceled", intent, call.account)
        return intent

    def api_list_charges(self, call: Call) -> dict:
        """The account's charges, newest first, of any outcome, within `created[gte|gt|lte|lt]`."""
        created = created_within(call.fields.get("created"))
        rows = self._list("charge", call.account, lambda charge: created(charge["created"]))
        return self._page(rows, call, "/v1/charges")

    # --- refunds ---

    def api_create_refund(self, call: Call) -> dict:
        if not call.params.get("payment_intent"):
            raise missing("payment_intent")
        amount = call.params.get("amount")
        reason = call.params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise StripeError(400, f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", param="reason")
        return self._refund(
            call.account,
            call.params["payment_intent"],
            None if amount is None else integer(amount, "amount"),
            sub(call.fields, "metadata"),
            reason,
        )

    def _refund(self, account, intent_id: str, amount: int | None, metadata: dict, reason: str | None) -> dict:
        """Refunds the charge; answers the refund as created (a refund set to fail is still pending then)."""
        intent = self._find("payment_intent", intent_id, account, param="payment_intent", status=400)
        if intent["status"] != "succeeded":
            raise StripeError(
                400,
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        charge = self._objects[intent["latest_charge"]]
        refundable = charge["amount"] - charge["amount_refunded"]
        if refundable == 0:
            raise StripeError(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = refundable if amount is None else amount
        if amount <= 0:
            raise StripeError(400, "Invalid positive integer", param="amount", code="parameter_invalid_integer")
        if amount > refundable:
            what = "charge amount" if refundable == charge["amount"] else "unrefunded amount on charge"
            raise StripeError(
                400,
                f"Refund amount ({money(amount)}) is greater than {what} ({money(refundable)})",
                param="amount",
                code="amount_too_large",
            )
        fails = self._take_failing(account)
        refund_id = new_id("re_")
        txn = self._transaction(account, "refund", -amount, refund_id, charge["currency"])
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": txn["id"],
            "charge": charge["id"],
            "created": self._now(),
            "currency": charge["currency"],
            "destination_details": None,
            "metadata": metadata,
            "payment_intent": intent_id,
            "reason": reason,
            "receipt_number": None,
            "status": "pending" if fails else "succeeded",
        }
        self._store(refund, account)
        charge["amount_refunded"] += amount  # pending refunds count as refunded, as on Stripe
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("refund.created", refund, account)
        self._emit("charge.refunded", charge, account)  # without a `refunds` list, as in current API versions
        answer = copy.deepcopy(refund)
        if fails:
            self._fail_refund(refund, charge, account)
        return answer

    def _take_failing(self, account: str | None) -> bool:
        for flag in (account, ANY_ACCOUNT):
            if flag in self._failing_refunds:
                self._failing_refunds.discard(flag)
                return True
        return False

    def _fail_refund(self, refund: dict, charge: dict, account: str | None) -> None:
        """What Stripe does days later when the card is gone: the money comes back to the balance."""
        reversal = self._transaction(account, "refund_failure", refund["amount"], refund["id"], refund["currency"])
        refund.update(
            failure_balance_transaction=reversal["id"], failure_reason="expired_or_canceled_card", status="failed"
        )
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        self._emit("refund.updated", refund, account)
        self._emit("refund.failed", refund, account)

    def api_retrieve_refund(self, call: Call, object_id: str) -> dict:
        return self._find("refund", object_id, call.account)

    def api_list_refunds(self, call: Call) -> dict:
        intent = call.params.get("payment_intent")
        rows = self._list("refund", call.account, lambda refund: intent in (None, refund["payment_intent"]))
        return self._page(rows, call, "/v1/refunds")

    def control_fail_next_refund(self, request: Request) -> Response:
        self._failing_refunds.add(self._input(request).get("account") or ANY_ACCOUNT)
        return json_response({"ok": True})

    def control_refund(self, request: Request) -> Response:
        """A refund made in Stripe's dashboard: no metadata of ours."""
        body = self._input(request)
        if not body.get("payment_intent"):
            raise missing("payment_intent")
        amount = body.get("amount")
        return json_response(
            self._refund(
                body.get("account"),
                body["payment_intent"],
                None if amount is None else integer(amount, "amount"),
                {},
                None,
            )
        )

    # --- payouts and balance transactions ---

    def control_payout(self, request: Request) -> Response:
        """What Stripe does daily: pays out everything available and not yet paid out."""
        account = self._input(request).get("account")
        due = self._list("balance_transaction", account, lambda txn: txn["id"] not in self._paid_out)
        if not due:
            raise StripeError(400, "Nothing to pay out: no available balance transactions.")
        amount, payout_id, now = sum(txn["net"] for txn in due), new_id("po_"), self._now()
        own = self._transaction(account, "payout", -amount, payout_id, "eur")
        payout = {
            "id": payout_id,
            "object": "payout",
            "amount": amount,
            "arrival_date": (now // 86400 + PAYOUT_DAYS) * 86400,  # midnight UTC, as Stripe gives it
            "automatic": True,
            "balance_transaction": own["id"],
            "created": now,
            "currency": "eur",
            "description": "STRIPE PAYOUT",
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": {},
            "method": "standard",
            "reconciliation_status": "completed",
            "source_type": "card",
            "status": "paid",
            "type": "bank_account",
        }
        self._store(payout, account)
        for txn in (*due, own):
            self._paid_out[txn["id"]] = payout_id
        self._emit("payout.paid", payout, account)
        return json_response(payout)

    def api_list_balance_transactions(self, call: Call) -> dict:
        payout = call.params.get("payout")
        if payout:
            self._find("payout", payout, call.account, param="payout", status=400)
        rows = self._list(
            "balance_transaction", call.account, lambda txn: payout in (None, self._paid_out.get(txn["id"]))
        )
        listing = self._page(rows, call, "/v1/balance_transactions")
        expand = call.fields.get("expand", [])
        if "data.source" in (expand if isinstance(expand, list) else [expand]):
            listing["data"] = [txn | {"source": self._objects[txn["source"]]} for txn in listing["data"]]
        return listing

    # --- events and the stand-in's own controls ---

    def control_events(self, request: Request) -> Response:
        return json_response({"data": self._webhooks.listing()})

    def control_event(self, request: Request, event_id: str) -> Response:
        return Response(self._delivery(event_id).body, 200, mimetype="application/json")

    def control_resend(self, request: Request, event_id: str) -> Response:
        delivery = self._delivery(event_id)
        if not self._webhooks.url:
            raise StripeError(400, "The stand-in has no webhook URL to send to.")
        status, text = self._webhooks.send(delivery)
        return json_response({"status": status, "body": text})

    def _delivery(self, event_id: str) -> Delivery:
        delivery = self._webhooks.get(event_id)
        if delivery is None:
            raise no_such("event", event_id)
        return delivery

    def control_wait(self, request: Request) -> Response:
        return json_response({"pending": self.wait_delivered()})

    def control_reset(self, request: Request) -> Response:
        self._clear()
        self._webhooks.clear()
        return json_response({"ok": True})

    def control_requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self._requests.clear()
        return json_response({"data": self._requests})

    @staticmethod
    def _input(request: Request) -> dict:
        body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        if not isinstance(body, dict):
            raise StripeError(400, "Send a JSON object or form fields.")
        return body

    @staticmethod
    def _moved(request: Request, url: str, **objects: dict) -> Response:
        """A browser is sent on (303); a program calling the control gets the URL and the objects."""
        return json_response({"redirect": url, **objects}) if wants_json(request) else redirect(url, 303)


def success_url(session: dict) -> str:
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


def read_card(number: str, expiry: str, now: int) -> dict:
    """A card as typed on the setup page: a number that passes the Luhn check (spaces allowed), an
    expiry `MM/YY` not in the past. Refused with Stripe's card errors."""
    digits = re.sub(r"[\s-]", "", number)
    if not (digits.isdigit() and 12 <= len(digits) <= 19 and luhn_valid(digits)):
        raise StripeError(402, "Your card number is invalid.", param="number", code="invalid_number", type="card_error")
    written = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2})\s*", expiry)
    month = int(written[1]) if written else 0
    if not 1 <= month <= 12:
        raise StripeError(
            402,
            "Your card's expiration month is invalid.",
            param="exp_month",
            code="invalid_expiry_month",
            type="card_error",
        )
    year, today = 2000 + int(written[2]), time.gmtime(now)
    if (year, month) < (today.tm_year, today.tm_mon):
        raise StripeError(
            402,
            "Your card's expiration year is invalid.",
            param="exp_year",
            code="invalid_expiry_year",
            type="card_error",
        )
    return {"number": digits, "brand": card_brand(digits), "exp_month": month, "exp_year": year}


def luhn_valid(digits: str) -> bool:
    doubled = (int(digit) * (2 if position % 2 else 1) for position, digit in enumerate(reversed(digits)))
    return sum(value - 9 if value > 9 else value for value in doubled) % 10 == 0


def card_brand(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return "mastercard"
    return "unknown"


def card_present_details(method: dict, reader: dict) -> dict:
    """A card-present charge's `payment_method_details`: the card as the reader read it, and the reader."""
    card = method["card_present"]
    return {
        "card_present": {
            **{name: card[name] for name in ("brand", "cardholder_name", "country", "exp_month", "exp_year")},
            **{name: card[name] for name in ("fingerprint", "funding", "last4", "read_method")},
            "generated_card": None,
            "incremental_authorization_supported": False,
            "location": reader["location"],
            "network": card["brand"],
            "overcapture_supported": False,
            "reader": reader["id"],
        },
        "type": "card_present",
    }


def charge_outcome(decline_code: str | None) -> dict:
    """What the card's network answered (None: approved). Radar scores no card-present charge."""
    if decline_code is None:
        return {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "not_assessed",
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    return {
        "network_status": "declined_by_network",
        "reason": decline_code,
        "risk_level": "not_assessed",
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }


CREATED_BOUNDS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def created_within(bounds: Any) -> Callable[[int], bool]:
    """A list's `created` filter as Stripe reads it: one exact time, or bounds (`created[gte]=…`)."""
    if bounds is None:
        return lambda _: True
    if not isinstance(bounds, dict):
        exact = integer(bounds, "created")
        return lambda created: created == exact
    unknown = sorted(set(bounds) - set(CREATED_BOUNDS))
    if unknown:
        raise StripeError(400, f"Received unknown parameter: created[{unknown[0]}]", param=f"created[{unknown[0]}]")
    limits = [(CREATED_BOUNDS[name], integer(value, f"created[{name}]")) for name, value in bounds.items()]
    return lambda created: all(compare(created, limit) for compare, limit in limits)


UNLOCKED = {"control_resend", "control_wait"}  # they wait on receivers, who may call the stand-in meanwhile
ROUTES = Map(
    [
        Rule(path, methods=[method], endpoint=endpoint)
        for method, path, endpoint in (
            ("POST", "/v1/accounts", "api_create_account"),
            ("GET", "/v1/accounts/<object_id>", "api_retrieve_account"),
            ("POST", "/v1/account_links", "api_create_account_link"),
            ("POST", "/v1/checkout/sessions", "api_create_checkout_session"),
            ("GET", "/v1/checkout/sessions/<object_id>", "api_retrieve_checkout_session"),
            ("POST", "/v1/checkout/sessions/<object_id>/expire", "api_expire_checkout_session"),
            ("POST", "/v1/payment_intents", "api_create_payment_intent"),
            ("GET", "/v1/payment_intents/<object_id>", "api_retrieve_payment_intent"),
            ("POST", "/v1/payment_intents/<object_id>/cancel", "api_cancel_payment_intent"),
            ("GET", "/v1/charges", "api_list_charges"),
            ("POST", "/v1/terminal/locations", "api_create_location"),
            ("GET", "/v1/terminal/locations/<object_id>", "api_retrieve_location"),
            ("POST", "/v1/terminal/readers", "api_create_reader"),
            ("GET", "/v1/terminal/readers/<object_id>", "api_retrieve_reader"),
            ("DELETE", "/v1/terminal/readers/<object_id>", "api_delete_reader"),
            ("POST", "/v1/terminal/readers/<object_id>/process_payment_intent", "api_process_payment_intent"),
            ("POST", "/v1/terminal/readers/<object_id>/cancel_action", "api_cancel_reader_action"),
            (
                "POST",
                "/v1/test_helpers/terminal/readers/<object_id>/present_payment_method",
                "api_present_payment_method",
            ),
            ("GET", "/v1/setup_intents/<object_id>", "api_retrieve_setup_intent"),
            ("GET", "/v1/payment_methods/<object_id>", "api_retrieve_payment_method"),
            ("POST", "/v1/customers", "api_create_customer"),
            ("GET", "/v1/customers/<object_id>", "api_retrieve_customer"),
            ("POST", "/v1/customers/<object_id>", "api_update_customer"),
            ("POST", "/v1/refunds", "api_create_refund"),
            ("GET", "/v1/refunds", "api_list_refunds"),
            ("GET", "/v1/refunds/<object_id>", "api_retrieve_refund"),
            ("GET", "/v1/balance_transactions", "api_list_balance_transactions"),
            ("GET", "/_standin/onboarding/<link_id>", "onboarding"),
            ("POST", "/_standin/onboarding/<link_id>", "onboarding"),
            ("POST", "/_standin/accounts/<account_id>", "control_account"),
            ("GET", "/_standin/checkout/<session_id>", "checkout_page"),
            ("POST", "/_standin/checkout/<session_id>/pay", "checkout_pay"),
            ("POST", "/_standin/checkout/<session_id>/setup", "checkout_setup"),
            ("POST", "/_standin/checkout/<session_id>/cancel", "checkout_cancel"),
            ("POST", "/_standin/checkout/<session_id>/settle", "checkout_settle"),
            ("POST", "/_standin/refunds/fail-next", "control_fail_next_refund"),
            ("POST", "/_standin/refunds", "control_refund"),
            ("POST", "/_standin/payouts", "control_payout"),
            ("POST", "/_standin/terminal/readers/<reader_id>/connection", "control_reader_connection"),
            ("POST", "/_standin/terminal/readers/<reader_id>/withhold-events", "control_withhold_reader_events"),
            ("GET", "/_standin/events", "control_events"),
            ("GET", "/_standin/events/<event_id>", "control_event"),
            ("POST", "/_standin/events/<event_id>/resend", "control_resend"),
            ("POST", "/_standin/wait", "control_wait"),
            ("POST", "/_standin/reset", "control_reset"),
            ("GET", "/_standin/requests", "control_requests"),
            ("DELETE", "/_standin/requests", "control_requests"),
        )
    ]
)


def main() -> None:
    parser = command_line("Stripe", 12111)
    parser.add_argument("--webhook-secret", default="whsec_stripe_dev")
    parser.add_argument("--connect-webhook-secret", default="whsec_stripe_connect_dev")
    options = parser.parse_args()
    stand_in = StripeStandIn(options.webhook_url, options.webhook_secret, options.connect_webhook_secret)
    serve_until_stopped(stand_in, "Stripe", options.port, options.host)


if __name__ == "__main__":
    main()
