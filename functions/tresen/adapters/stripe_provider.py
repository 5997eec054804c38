"""Stripe: Checkout Sessions, refunds, payouts and connected accounts through the `stripe` library;
its webhooks verified by it and read into our events.

With Connect (the default) each store is paid on its own connected account: every request made for
a store carries its `Stripe-Account` header, and only the onboarding calls (creating the account,
its onboarding link) are the platform's own. Without Connect one merchant runs on the deployment's
own account. Every call that moves money carries an idempotency key derived from our own id (the
order for a Checkout Session, the refund for a refund), so a retry after a lost answer never
charges or pays back twice. `STRIPE_API_BASE` points the library at a local stand-in (dev, tests);
`HTTP_CLIENT` is the library's pluggable transport, which unit tests fake.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from pydantic import Field, StringConstraints

from ..config import settings
from ..domain.errors import DomainError
from ..domain.ids import is_id
from ..domain.orders import PaymentRef
from ..domain.payments import (
    AccountEvent,
    BillingEvent,
    OtherEvent,
    PaymentEvent,
    PayoutEvent,
    ProviderEvent,
    ReaderEvent,
    RefundEvent,
)
from ..domain.refunds import ReportedRefund
from ..domain.signatures import InvalidSignature, check_timestamp, signature_timestamp
from ..domain.stripe_connect import AccountStatus, PlatformFee
from ..services.ports import OnboardingLink, PaymentRequest
from .webhook_bodies import Body, Cents, EventType, PayoutCents, ProviderId, read_event, validated

HTTP_CLIENT = None
PAYMENT_EVENTS = {
    "payment_intent.succeeded": "payment.succeeded",
    "payment_intent.payment_failed": "payment.failed",
    "payment_intent.canceled": "payment.canceled",
}
CHECKOUT_EVENTS = {  # what a Checkout Session's event says of its payment
    "checkout.session.async_payment_succeeded": "payment.succeeded",
    "checkout.session.async_payment_failed": "payment.failed",
    "checkout.session.expired": "payment.canceled",
}
CHECKOUT_COMPLETED = "checkout.session.completed"
CHECKOUT_METADATA = {"checkout": "session"}  # marks the PaymentIntents our Checkout Sessions make
# The platform's own billing (adapters/stripe_billing.py) names what its payments are for:
INVOICE_METADATA = "tresen_licence_invoice"  # a licence invoice, on its Checkout Session and PaymentIntent
CARD_SETUP_METADATA = "tresen_card_setup"  # the store saving a card, on its session and SetupIntent
TERMINAL_METADATA = "tresen_terminal"  # the terminal of a card-present payment (adapters/stripe_terminal.py)
READER_EVENTS = ("terminal.reader.action_succeeded", "terminal.reader.action_failed")
# Stripe keeps a Checkout Session open 30 minutes at least: one made for a shorter payment window
# outlives it by that much (a payment after the order expired is refunded, as any late success)
MIN_SESSION = timedelta(minutes=30, seconds=30)
REFUND_EVENTS = ("charge.refunded", "refund.created", "refund.updated")
# Stripe's refund statuses in ours: waiting on the customer is still pending; canceled paid nothing back
REFUND_STATUS = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}
StripeCurrency = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z]{3}$")]  # Stripe writes "eur"
AccountId = Annotated[str, StringConstraints(pattern=r"^acct_[A-Za-z0-9]{1,100}$")]
StripeName = Annotated[str, StringConstraints(max_length=100)]  # a type, status or code: `process_payment_intent`


class StripeEventData(Body):
    object: dict


class StripeEventIn(Body):
    """Stripe's Event: `data.object` is the Checkout Session, PaymentIntent, Charge, Refund, Payout,
    Account or Terminal Reader it is about; `account` the connected account it happened on (Connect
    events)."""

    id: ProviderId
    type: EventType
    created: Annotated[int, Field(strict=True, ge=0)] = 0
    data: StripeEventData
    account: AccountId | None = None


class StripeCheckoutSessionIn(Body):
    id: ProviderId
    amount_total: Cents | None = None
    currency: StripeCurrency | None = None
    payment_status: Literal["paid", "unpaid", "no_payment_required"]
    payment_intent: ProviderId | None = None
    mode: Literal["payment", "setup", "subscription"] = "payment"
    metadata: dict | None = None
    setup_intent: ProviderId | None = None


class StripeRequirementsIn(Body):
    currently_due: list[Annotated[str, StringConstraints(max_length=200)]] = Field(default=[], max_length=200)


class StripeAccountIn(Body):
    id: AccountId
    charges_enabled: bool = False
    payouts_enabled: bool = False
    details_submitted: bool = False
    requirements: StripeRequirementsIn | None = None


class StripePaymentError(Body):
    message: Annotated[str, StringConstraints(max_length=500)] | None = None


class StripePaymentIntentIn(Body):
    id: ProviderId
    amount: Cents
    amount_received: Cents = 0
    currency: StripeCurrency
    last_payment_error: StripePaymentError | None = None
    metadata: dict | None = None


class StripeRefundIn(Body):
    id: ProviderId
    amount: Cents
    status: Literal["pending", "requires_action", "succeeded", "failed", "canceled"]
    payment_intent: ProviderId | None = None
    metadata: dict | None = None


class StripeRefundListIn(Body):
    data: list[StripeRefundIn] = Field(max_length=1000)
    has_more: bool = False


class StripeChargeIn(Body):
    """`refunds` (the Charge's Refund objects) is there only in API versions before 2022-11-15."""

    id: ProviderId
    payment_intent: ProviderId | None = None
    refunds: StripeRefundListIn | None = None


class StripeReaderPaymentIn(Body):
    payment_intent: ProviderId


class StripeReaderActionIn(Body):
    type: StripeName
    status: StripeName
    failure_code: StripeName | None = None
    failure_message: Annotated[str, StringConstraints(max_length=500)] | None = None
    process_payment_intent: dict | None = None  # read as `StripeReaderPaymentIn` where it is a payment's


class StripeReaderIn(Body):
    """A Terminal Reader, as its `terminal.reader.action_*` events show it: the action that ended."""

    id: ProviderId
    action: StripeReaderActionIn


class StripePayoutIn(Body):
    id: ProviderId
    amount: PayoutCents
    currency: StripeCurrency
    arrival_date: Annotated[int, Field(strict=True, ge=0, le=253_402_300_799)]  # unix seconds, up to 9999


def client(account: str | None = None):
    """The library's client, for `account` (its `Stripe-Account`) or for the platform (None)."""
    import stripe

    config = settings()
    if not config.stripe_api_key:
        raise LookupError("STRIPE_API_KEY is not set")
    base = config.stripe_api_base or None
    return stripe.StripeClient(
        config.stripe_api_key,
        stripe_account=account,
        base_addresses={"api": base, "connect": base} if base else None,
        http_client=HTTP_CLIENT,
        max_network_retries=2,
    )


@contextmanager
def stripe_errors(refused: str | None = None) -> Iterator[None]:
    """Stripe's failures in our terms: unreachable, rate-limited or failing on its side is transient
    (503, the caller retries); a request Stripe refuses is `refused` (a problem code), if given."""
    import stripe

    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
        raise ConnectionError(str(error)) from error
    except stripe.StripeError as error:
        if refused is None:
            raise
        raise DomainError(refused, f"Stripe refused: {error.user_message or error}") from error


@dataclass(frozen=True)
class StripeProvider:
    """Stripe acting for one store: on its connected account (`account`), or on the deployment's own
    account without Connect (None). The platform's fee is taken from each payment on an account."""

    account: str | None = None
    platform_fee: PlatformFee | None = None
    name = "stripe"

    def create_payment(self, request: PaymentRequest) -> PaymentRef:
        """A Checkout Session: Stripe's hosted page, which sends the customer back to the order."""
        intent_data: dict[str, Any] = {"metadata": order_metadata(request) | CHECKOUT_METADATA}
        if self.account and self.platform_fee:
            intent_data["application_fee_amount"] = self.platform_fee.of(request.amount)
        with stripe_errors(refused="provider_not_ready"):  # a restricted account, say
            session = client(self.account).v1.checkout.sessions.create(
                {
                    "mode": "payment",
                    "line_items": checkout_lines(request),
                    "client_reference_id": request.order_id,
                    "metadata": order_metadata(request),
                    "payment_intent_data": intent_data,
                    "success_url": order_page(request),
                    "cancel_url": order_page(request),
                    "expires_at": session_expiry(request.expires_at),
                },
                {"idempotency_key": f"tresen-checkout-{request.order_id}"},
            )
        return PaymentRef(id=session.id, provider=self.name, status=session.status, checkout_url=session.url)

    def update_amount(self, *, payment_id: str, amount: int) -> None:
        """A Checkout Session's amount cannot change: a payment of the old amount is a mismatch,
        never marked paid (PaymentIntents of orders placed before Checkout can)."""
        if payment_id.startswith("pi_"):
            client(self.account).v1.payment_intents.update(payment_id, {"amount": amount})

    def refund(self, *, payment_id: str, amount: int, refund_id: str) -> ReportedRefund:
        with stripe_errors():
            refund = client(self.account).v1.refunds.create(
                {
                    "payment_intent": self.intent_of(payment_id),
                    "amount": amount,
                    "metadata": {"tresen_refund_id": refund_id},
                },
                {"idempotency_key": f"tresen-refund-{refund_id}"},
            )
        return reported_refund(refund.to_dict())

    def intent_of(self, payment_id: str) -> str:
        """The PaymentIntent that moved the money of a payment (a Checkout Session's, asked of Stripe)."""
        if not payment_id.startswith("cs_"):
            return payment_id
        session = client(self.account).v1.checkout.sessions.retrieve(payment_id)
        if not session.payment_intent:
            raise LookupError(f"checkout session {payment_id} has no payment")
        return session.payment_intent if isinstance(session.payment_intent, str) else session.payment_intent.id

    def refunds_of(self, payment_id: str) -> list[ReportedRefund]:
        """Every refund of a PaymentIntent: `charge.refunded` lists them only in older API versions."""
        with stripe_errors():  # transient: the webhook answers 503, Stripe retries
            page = client(self.account).v1.refunds.list({"payment_intent": self.intent_of(payment_id), "limit": 100})
            return [reported_refund(refund.to_dict()) for refund in page.auto_paging_iter()]

    def order_of(self, payment_id: str) -> tuple[str, str] | None:
        """A PaymentIntent made by one of our Checkout Sessions names its order in its metadata."""
        if not payment_id.startswith("pi_"):
            return None
        try:
            with stripe_errors(refused="not_found"):  # transient: the webhook answers 503, Stripe retries
                intent = client(self.account).v1.payment_intents.retrieve(payment_id).to_dict()
        except DomainError:
            return None  # not on this account: not ours
        metadata = intent.get("metadata") or {}
        if metadata.get("checkout") != CHECKOUT_METADATA["checkout"]:
            return None
        return metadata.get("store_id"), metadata.get("order_id")

    def payout_transactions(self, payout_id: str) -> list[dict[str, Any]]:
        """The balance transactions a payout paid out, each with its source (the Charge or Refund)
        expanded: Stripe's `payout.paid` names none of them."""
        with stripe_errors():  # transient: the webhook answers 503, Stripe retries
            page = client(self.account).v1.balance_transactions.list(
                {"payout": payout_id, "expand": ["data.source"], "limit": 100}
            )
            return [transaction.to_dict() for transaction in page.auto_paging_iter()]

    def read_webhook(self, headers: Mapping[str, str], raw: bytes) -> ProviderEvent:
        """Signed by the platform's endpoint secret or, for Connect events, the Connect endpoint's."""
        config = settings()
        secrets = [secret for secret in (config.stripe_webhook_secret, config.stripe_connect_webhook_secret) if secret]
        verify_signature(headers.get("Stripe-Signature"), raw, secrets)
        return read_event(self.name, raw, stripe_event)


class StripePlatform:
    """services/ports.py `StripeConnect`: the platform's calls about its connected accounts."""

    def create_account(self, store_id: str) -> str:
        account = client().v1.accounts.create(
            {"type": "express", "country": "DE", "metadata": {"store_id": store_id}},
            {"idempotency_key": f"tresen-account-{store_id}"},
        )
        return account.id

    def onboarding_link(self, account_id: str, return_url: str, refresh_url: str) -> OnboardingLink:
        link = client().v1.account_links.create(
            {"account": account_id, "type": "account_onboarding", "return_url": return_url, "refresh_url": refresh_url}
        )
        return OnboardingLink(link.url, datetime.fromtimestamp(link.expires_at, UTC))

    def account_status(self, account_id: str) -> AccountStatus:
        account = client().v1.accounts.retrieve(account_id)
        return account_status(validated(StripeAccountIn, account.to_dict(), "account"), int(time.time()))


def order_page(request: PaymentRequest) -> str:
    """Where the ordering page follows the order: the customer comes back there from Checkout."""
    return f"{settings().order_page_url}?{urlencode({'store': request.store_id})}#order={request.order_id}"


def order_metadata(request: PaymentRequest) -> dict[str, str]:
    return {"order_id": request.order_id, "store_id": request.store_id}


def checkout_lines(request: PaymentRequest) -> list[dict[str, Any]]:
    return [
        {
            "quantity": line.quantity,
            "price_data": {
                "currency": request.currency.lower(),
                "unit_amount": line.unit_amount,
                "product_data": {"name": line.name},
            },
        }
        for line in request.lines
    ]


def session_expiry(expires_at: datetime | None) -> int:
    earliest = datetime.now(UTC) + MIN_SESSION
    return int(max(expires_at or earliest, earliest).timestamp())


def account_status(account: StripeAccountIn, reported_at: int) -> AccountStatus:
    due = account.requirements.currently_due if account.requirements else []
    return AccountStatus(
        account.charges_enabled, account.payouts_enabled, account.details_submitted, tuple(due), reported_at
    )


def reported_refund(refund: Mapping[str, Any]) -> ReportedRefund:
    """Our view of a Stripe Refund object. `metadata.tresen_refund_id` names a refund of ours only
    if it can be one: anyone may type metadata in the dashboard."""
    ours = (refund.get("metadata") or {}).get("tresen_refund_id")
    return ReportedRefund(
        id=refund["id"],
        amount=refund["amount"],
        status=REFUND_STATUS[refund["status"]],
        payment_id=refund.get("payment_intent"),
        tresen_refund_id=ours if is_id(ours) else None,
    )


def verify_signature(header: str | None, raw: bytes, secrets: list[str], now: int | None = None) -> None:
    """Passes if Stripe signed the body with one of `secrets` within the last 300 s and not more
    than 60 s ahead."""
    import stripe

    now = int(time.time()) if now is None else now
    check_timestamp(signature_timestamp(header), now)  # the library does not refuse future timestamps
    failure = "no webhook secret is configured"
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(raw.decode("utf-8", "replace"), header, secret, tolerance=300)
            return
        except stripe.SignatureVerificationError as error:
            failure = str(error)
    raise InvalidSignature(failure)


def stripe_event(body: dict) -> ProviderEvent:
    event = validated(StripeEventIn, body, "")
    found, account = event.data.object, event.account
    if event.type == CHECKOUT_COMPLETED or event.type in CHECKOUT_EVENTS:
        session = validated(StripeCheckoutSessionIn, found, "data.object")
        return billing_checkout_event(event, session) or checkout_event(event, session)
    if event.type in PAYMENT_EVENTS:
        intent = validated(StripePaymentIntentIn, found, "data.object")
        if (intent.metadata or {}).get("checkout") == CHECKOUT_METADATA["checkout"]:
            return OtherEvent("stripe", event.id, event.type, "handled through its Checkout Session's events")
        if TERMINAL_METADATA in (intent.metadata or {}):
            return OtherEvent("stripe", event.id, event.type, "a terminal payment: handled through its reader's events")
        if INVOICE_METADATA in (intent.metadata or {}):
            # a licence invoice's: paid by its Checkout Session's event, or by the off-session charge's answer
            return OtherEvent("stripe", event.id, event.type, "a licence invoice's payment: handled where it is made")
        kind = PAYMENT_EVENTS[event.type]
        return PaymentEvent(
            provider="stripe",
            id=event.id,
            type=kind,
            payment_id=intent.id,
            amount=intent.amount_received if kind == "payment.succeeded" else intent.amount,
            currency=intent.currency.upper(),
            error=intent.last_payment_error.message if intent.last_payment_error else None,
            account=account,
        )
    if event.type in READER_EVENTS:
        return reader_event(event, validated(StripeReaderIn, found, "data.object"))
    if event.type in ("refund.created", "refund.updated"):
        refund = validated(StripeRefundIn, found, "data.object")
        reported = (reported_refund(refund.model_dump()),)
        return RefundEvent("stripe", event.id, event.type, refund.payment_intent, reported, account)
    if event.type == "charge.refunded":
        charge = validated(StripeChargeIn, found, "data.object")
        listed = charge.refunds
        refunds = None  # not listed, or not all of them: asked from Stripe
        if listed is not None and not listed.has_more:
            refunds = tuple(reported_refund(refund.model_dump()) for refund in listed.data)
        return RefundEvent("stripe", event.id, event.type, charge.payment_intent, refunds, account)
    if event.type == "payout.paid":
        payout = stripe_payout(validated(StripePayoutIn, found, "data.object"))
        return PayoutEvent("stripe", event.id, event.type, payout, account)
    if event.type == "account.updated":
        updated = validated(StripeAccountIn, found, "data.object")
        return AccountEvent("stripe", event.id, event.type, updated.id, account_status(updated, event.created))
    return OtherEvent("stripe", event.id, event.type)


def billing_checkout_event(event: StripeEventIn, session: StripeCheckoutSessionIn) -> BillingEvent | None:
    """A Checkout Session of the platform's own billing (a licence invoice paid, a card saved), not of
    a store's sale; None for any other session."""
    metadata = session.metadata or {}
    if event.account is not None or event.type != CHECKOUT_COMPLETED:
        return None
    if (
        session.mode == "payment"
        and isinstance(metadata.get(INVOICE_METADATA), str)
        and session.payment_status == "paid"
    ):
        reference = metadata[INVOICE_METADATA]
        paid_with = session.payment_intent or session.id
        return BillingEvent(
            "stripe", event.id, event.type, "invoice_paid", reference, paid_with, "card", session.amount_total
        )
    if session.mode == "setup" and isinstance(metadata.get(CARD_SETUP_METADATA), str) and session.setup_intent:
        return BillingEvent(
            "stripe", event.id, event.type, "card_saved", metadata[CARD_SETUP_METADATA], session.setup_intent
        )
    return None


def checkout_event(event: StripeEventIn, session: StripeCheckoutSessionIn) -> ProviderEvent:
    """A Checkout Session's event as what it says of the session's payment. A session completed
    but not yet paid (a bank debit) says nothing: its async outcome follows."""
    if event.type == CHECKOUT_COMPLETED and session.payment_status != "paid":
        return OtherEvent(
            "stripe", event.id, event.type, f"the session is {session.payment_status}: its outcome follows"
        )
    kind = CHECKOUT_EVENTS.get(event.type, "payment.succeeded")
    return PaymentEvent(
        provider="stripe",
        id=event.id,
        type=kind,
        payment_id=session.id,
        amount=session.amount_total,
        currency=session.currency.upper() if session.currency else None,
        error="the payment failed" if kind == "payment.failed" else None,
        account=event.account,
        paid_with=session.payment_intent,
    )


def reader_event(event: StripeEventIn, reader: StripeReaderIn) -> ProviderEvent:
    """A reader's action ended: what became of the payment it was asked to take. Its other actions
    (a display, a refund at the reader) are none of ours."""
    action = reader.action
    if action.type != "process_payment_intent":
        return OtherEvent("stripe", event.id, event.type, f"a reader's {action.type} action: not a payment")
    payment = validated(
        StripeReaderPaymentIn, action.process_payment_intent, "data.object.action.process_payment_intent"
    )
    return ReaderEvent(
        "stripe",
        event.id,
        event.type,
        payment_id=payment.payment_intent,
        succeeded=event.type.endswith("succeeded"),
        error=action.failure_message or action.failure_code,
        account=event.account,
    )


def stripe_payout(payout: StripePayoutIn) -> dict:
    """Stripe's payout names no items: `items: None` has them asked of Stripe (its balance
    transactions) when the payout is recorded."""
    return {
        "payout_id": payout.id,
        "arrival_date": datetime.fromtimestamp(payout.arrival_date, UTC).date().isoformat(),
        "amount": payout.amount,
        "currency": payout.currency.upper(),
        "items": None,
    }
