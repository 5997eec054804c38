"""Stripe's side, played through the `stripe` library's own pluggable HTTP client: no network.

Each request is recorded (method, path, form fields, idempotency key) and answered with the
object Stripe would return. Signatures for webhooks are made exactly as Stripe makes them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import parse_qsl, urlparse

import stripe
from stripe._http_client import HTTPClient

STRIPE_SECRET = "whsec_stripe_dev"


class FakeStripe(HTTPClient):
    name = "fake"

    def __init__(self, page_size: int = 100):
        super().__init__()
        self.calls: list[dict] = []
        self.refunds: list[dict] = []  # every Refund object, oldest first (ours and the dashboard's)
        self.page_size = page_size  # at most this many per list page, whatever `limit` asks
        self.balance_transactions: dict[str, list[dict]] = {}  # payout id → its transactions, newest first
        self.unreachable = 0  # the next this many requests fail as a dropped connection would
        self.sessions: dict[str, dict] = {}  # Checkout Session id → the session as created

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parsed = urlparse(url)
        fields = dict(parse_qsl(post_data or parsed.query))
        path = parsed.path
        self.calls.append(
            {"method": method, "path": path, "fields": fields, "idempotency_key": headers.get("Idempotency-Key")}
        )
        n = f"{len(self.calls)}_{uuid.uuid4().hex[:10]}"  # unique across tests, like Stripe's ids
        if self.unreachable:
            self.unreachable -= 1
            raise stripe.APIConnectionError("Could not connect to Stripe (fake)")
        if method == "get" and path == "/v1/balance_transactions":
            return json.dumps(self.balance_page(fields)), 200, {"Request-Id": f"req_{n}"}
        if method == "get" and path == "/v1/refunds":
            return json.dumps(self.refund_page(fields)), 200, {"Request-Id": f"req_{n}"}
        if method == "post" and path == "/v1/checkout/sessions":
            body = checkout_session(f"cs_{n}", fields)
            self.sessions[body["id"]] = body
        elif method == "get" and path.startswith("/v1/payment_intents/"):
            intent_id = path.rsplit("/", 1)[1]
            made_by = [session for session in self.sessions.values() if intent_of(session["id"]) == intent_id]
            if not made_by:
                return json.dumps({"error": {"type": "invalid_request_error", "code": "resource_missing"}}), 404, {}
            body = {"id": intent_id, "object": "payment_intent", "metadata": made_by[0]["intent_metadata"]}
        elif method == "get" and path.startswith("/v1/checkout/sessions/"):
            session_id = path.rsplit("/", 1)[1]
            body = self.sessions[session_id] | {"payment_intent": intent_of(session_id)}  # as once paid
        elif path == "/v1/refunds":
            metadata = {"tresen_refund_id": fields["metadata[tresen_refund_id]"]}
            body = self.add_refund(fields["payment_intent"], int(fields["amount"]), "succeeded", metadata, f"re_{n}")
        else:
            return json.dumps({"error": {"message": "not faked"}}), 404, {}
        self.calls[-1]["response_id"] = body["id"]
        return json.dumps(body), 200, {"Request-Id": f"req_{n}"}

    def add_refund(self, intent_id: str, amount: int, status: str, metadata: dict, refund_id: str | None = None):
        """A Refund object as Stripe keeps it: made through the API (ours) or in the dashboard."""
        refund_id = refund_id or f"re_{uuid.uuid4().hex[:24]}"
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": f"txn_{refund_id[3:]}",
            "charge": charge_id(intent_id),
            "created": int(time.time()),
            "currency": "eur",
            "metadata": metadata,
            "payment_intent": intent_id,
            "reason": None,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": status,
            "transfer_reversal": None,
        }
        self.refunds.append(refund)
        return refund

    def refund_page(self, query: dict) -> dict:
        """GET /v1/refunds?payment_intent=…: newest first, `starting_after` continues a page."""
        matching = [r for r in reversed(self.refunds) if r["payment_intent"] == query.get("payment_intent")]
        if "starting_after" in query:
            matching = matching[[r["id"] for r in matching].index(query["starting_after"]) + 1 :]
        size = min(int(query.get("limit", 10)), self.page_size)
        return {"object": "list", "data": matching[:size], "has_more": len(matching) > size, "url": "/v1/refunds"}

    def pay_out(self, payout_id: str, charges: list[tuple[str, int, int]], refunds: list[tuple[dict, int]]) -> int:
        """A payout of charges (intent id, amount, fee) and refunds (Refund object, fee): their
        balance transactions with the payout's own, as Stripe lists them; returns the payout's amount."""
        transactions = [
            self.transaction(
                "charge", amount, fee, {"id": charge_id(intent), "object": "charge", "payment_intent": intent}
            )
            for intent, amount, fee in charges
        ]
        transactions += [self.transaction("refund", -refund["amount"], fee, refund) for refund, fee in refunds]
        net = sum(t["net"] for t in transactions)
        transactions.append(self.transaction("payout", -net, 0, {"id": payout_id, "object": "payout"}))
        self.balance_transactions[payout_id] = list(reversed(transactions))
        return net

    @staticmethod
    def transaction(kind: str, amount: int, fee: int, source: dict) -> dict:
        return {
            "id": f"txn_{uuid.uuid4().hex[:24]}",
            "object": "balance_transaction",
            "amount": amount,
            "currency": "eur",
            "fee": fee,
            "net": amount - fee,
            "reporting_category": kind,
            "source": source,  # as `expand[]=data.source` returns it
            "status": "available",
            "type": kind,
        }

    def balance_page(self, query: dict) -> dict:
        """GET /v1/balance_transactions?payout=…: newest first, paginated like every Stripe list."""
        assert query.get("expand[0]") == "data.source", query
        matching = self.balance_transactions.get(query.get("payout"), [])
        if "starting_after" in query:
            matching = matching[[t["id"] for t in matching].index(query["starting_after"]) + 1 :]
        size = min(int(query.get("limit", 10)), self.page_size)
        page = matching[:size]
        return {"object": "list", "data": page, "has_more": len(matching) > size, "url": "/v1/balance_transactions"}

    def close(self):
        pass


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver(client, payload, timestamp=None, secret=STRIPE_SECRET):
    """A Stripe webhook to the test client, signed as Stripe signs it."""
    return client.post(
        "/v1/webhooks/stripe",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": stripe_signature(payload, secret, timestamp)},
    )


def checkout_session(session_id: str, fields: dict) -> dict:
    """A Checkout Session as Stripe answers its creation: open, no PaymentIntent yet."""
    lines = sorted({key.split("]")[0] for key in fields if key.startswith("line_items[")})
    total = sum(int(fields[f"{line}][price_data][unit_amount]"]) * int(fields[f"{line}][quantity]"]) for line in lines)
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": total,
        "currency": fields["line_items[0][price_data][currency]"],
        "client_reference_id": fields.get("client_reference_id"),
        "expires_at": int(fields["expires_at"]),
        "metadata": {"order_id": fields["metadata[order_id]"], "store_id": fields["metadata[store_id]"]},
        "intent_metadata": {  # not Stripe's: what the session's PaymentIntent will carry
            key.removeprefix("payment_intent_data[metadata][").rstrip("]"): value
            for key, value in fields.items()
            if key.startswith("payment_intent_data[metadata][")
        },
        "mode": fields["mode"],
        "payment_intent": None,
        "payment_status": "unpaid",
        "status": "open",
        "success_url": fields["success_url"],
        "cancel_url": fields["cancel_url"],
        "url": f"https://checkout.stripe.com/c/pay/{session_id}",
    }


def intent_of(session_id: str) -> str:
    """The PaymentIntent the fake gives a Checkout Session once it is paid."""
    return "pi_" + session_id.removeprefix("cs_")


def session_event(kind: str, session_id: str, amount: int, payment_status: str | None = None, account=None) -> bytes:
    """`checkout.session.{kind}` (completed, async_payment_succeeded/failed, expired) from `account`."""
    paid = kind in ("completed", "async_payment_succeeded")
    session = {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": amount,
        "currency": "eur",
        "payment_intent": None if kind == "expired" else intent_of(session_id),
        "payment_status": payment_status or ("paid" if paid else "unpaid"),
        "status": "expired" if kind == "expired" else "complete",
    }
    payload = json.loads(event(f"checkout.session.{kind}", session, f"evt_{session_id}_{kind}_{time.time_ns()}"))
    if account:
        payload["account"] = account
    return json.dumps(payload).encode()


def charge_id(intent_id: str) -> str:
    return "ch_" + intent_id.removeprefix("pi_")


def event(kind: str, found: dict, event_id: str | None = None) -> bytes:
    """An Event as Stripe sends it, about `found` (a PaymentIntent, Charge, Refund, Payout)."""
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "data": {"object": found},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
    ).encode()


def intent_event(kind: str, intent_id: str, amount: int, currency: str = "eur") -> bytes:
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": currency,
        "amount_received": amount if kind == "succeeded" else 0,
        "last_payment_error": {"message": "Your card was declined."} if kind == "payment_failed" else None,
        "status": {"succeeded": "succeeded", "canceled": "canceled"}.get(kind, "requires_payment_method"),
    }
    return event(f"payment_intent.{kind}", intent, f"evt_{intent_id}_{kind}_{time.time_ns()}")


def charge_refunded_event(intent_id: str, amount: int, refunds: list[dict], listed: bool) -> bytes:
    """`charge.refunded`: the Charge lists its refunds only in API versions before 2022-11-15."""
    refunded = sum(r["amount"] for r in refunds if r["status"] in ("pending", "succeeded"))
    charge = {
        "id": charge_id(intent_id),
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": refunded,
        "currency": "eur",
        "captured": True,
        "paid": True,
        "payment_intent": intent_id,
        "refunded": refunded == amount,
        "status": "succeeded",
    }
    if listed:
        charge["refunds"] = {
            "object": "list",
            "data": list(reversed(refunds)),
            "has_more": False,
            "url": f"/v1/charges/{charge['id']}/refunds",
        }
    return event("charge.refunded", charge)


class FakeConnect:
    """The platform's Connect calls (services/ports.py `StripeConnect`), answered as Stripe would:
    one account per store however often it is asked for, not ready until told otherwise."""

    def __init__(self):
        self.accounts: dict[str, str] = {}  # store id → account id
        self.status: dict = {}  # account id → the AccountStatus a fetch answers
        self.links: list[tuple[str, str, str]] = []  # (account, return url, refresh url)

    def create_account(self, store_id: str) -> str:
        return self.accounts.setdefault(store_id, f"acct_{store_id.replace('-', '')}{len(self.accounts)}")

    def onboarding_link(self, account_id: str, return_url: str, refresh_url: str):
        from datetime import UTC, datetime, timedelta

        from tresen.services.ports import OnboardingLink

        self.links.append((account_id, return_url, refresh_url))
        expires = datetime(2026, 12, 6, tzinfo=UTC) + timedelta(minutes=5)
        return OnboardingLink(f"https://connect.stripe.com/setup/e/{account_id}/{len(self.links)}", expires)

    def account_status(self, account_id: str):
        from tresen.domain.stripe_connect import AccountStatus

        return self.status.get(account_id, AccountStatus(requirements_due=("external_account",)))
