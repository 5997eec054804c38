"""Licence billing: a store's invoices and card on file (owner, finance), paying an invoice and
saving a card (owner), the monthly run (scheduler) and PayPal's webhook — routes and their models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from urllib.parse import urljoin

from pydantic import Field
from werkzeug.wrappers import Response

from ..config import settings
from ..domain.licence_billing import MANDATE_TEXT, MANDATE_VERSION, InvoiceAccount
from ..domain.licence_invoices import Party
from ..services.licence_invoicing import BillingRun, RunLicenceBilling, run_licence_billing
from ..services.licence_payments import (
    Billing,
    ReceivePayPalWebhook,
    StartCardSetup,
    StartPayment,
    billing_of,
    invoice_pdf,
    receive_paypal_webhook,
    start_card_setup,
    start_payment,
)
from . import models as m
from .job_runs import LONGEST_BUDGET, StoreRunOut, StoreRunQuery, run_fields, walk_command
from .router import JOB, PUBLIC, Call, route, staff

DENIED = ("unauthenticated", "forbidden")
PROVIDER_DOWN = ("service_unavailable",)


class CardOut(m.Model):
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class LicenceInvoiceOut(m.Model):
    id: str
    number: str = Field(description="TRESEN-YYYY-NNNNNN, gap-free")
    period: str = Field(description="the month billed, YYYY-MM")
    gross: int
    status: Literal["open", "paid", "overdue"]
    due_date: date
    paid_at: datetime | None = None


class MandateOut(m.Model):
    version: str
    text: str = Field(description="what the owner agrees to when saving a card")


class BillingOut(m.Model):
    plan: str
    card_on_file: CardOut | None
    open_amount: int = Field(description="cents of the invoices not paid yet")
    invoices: list[LicenceInvoiceOut]
    mandate: MandateOut


class PayIn(m.Inbound):
    method: Literal["card", "paypal"]


class CheckoutOut(m.Model):
    checkout_url: str = Field(description="the provider's page: Stripe Checkout, or PayPal's approval")


class RunQuery(StoreRunQuery):
    on: date | None = Field(
        None,
        description="the day of the run (default today, UTC): the previous month is billed; the run's default name",
    )


class RunOut(StoreRunOut):
    period: str
    issued: list[str] = Field(description="invoices this invocation issued")
    paid: list[str] = Field(description="invoices this invocation's charges of saved cards paid")
    failed: list[str] = Field(description="invoices whose saved card the bank refused")
    errors: list[str] = Field(description="charges the provider did not answer: the next day's run asks again")


class PayPalWebhookOut(m.Model):
    received: bool = True
    duplicate: bool = False


def billing_out(billing: Billing) -> BillingOut:
    card = billing.profile.card
    return BillingOut(
        plan=billing.profile.plan,
        card_on_file=CardOut(brand=card.brand, last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year)
        if card
        else None,
        open_amount=billing.open_amount,
        invoices=[invoice_out(account, billing.today) for account in billing.invoices],
        mandate=MandateOut(version=MANDATE_VERSION, text=MANDATE_TEXT),
    )


def invoice_out(account: InvoiceAccount, today: date) -> LicenceInvoiceOut:
    invoice = account.invoice
    return LicenceInvoiceOut(
        id=account.id,
        number=invoice.number,
        period=invoice.period.label,
        gross=invoice.gross,
        status=account.status_on(today),
        due_date=invoice.due_on,
        paid_at=account.paid_at,
    )


def portal_url() -> str:
    """The portal page, where invitation links and payment links lead."""
    return urljoin(settings().order_page_url, "portal")


def platform_issuer() -> Party:
    issuer = settings().platform_issuer
    if not issuer:
        raise RuntimeError("TRESEN_PLATFORM_ISSUER is not set: licence invoices cannot name their issuer")
    return Party(**issuer)


@route(
    "GET",
    "/v1/stores/{store}/billing",
    summary="The store's licence: plan, card on file, invoices and what is open",
    tag="staff",
    access=staff("owner", "finance"),
    response=BillingOut,
    present=billing_out,
    errors=(*DENIED, "store_not_found"),
)
def get_billing(call: Call) -> Billing:
    return billing_of(call.params["store"], call.uow)


@route(
    "GET",
    "/v1/stores/{store}/billing/invoices/{invoice}.pdf",
    summary="A licence invoice's PDF as issued (with its e-invoice embedded above 250 €)",
    tag="staff",
    access=staff("owner", "finance"),
    media_type="application/pdf",
    errors=(*DENIED, "invoice_not_found"),
)
def get_invoice_pdf(call: Call) -> Response:
    number, document = invoice_pdf(call.params["store"], call.params["invoice"], call.uow)
    disposition = f'attachment; filename="{number}.pdf"'
    return Response(document, content_type="application/pdf", headers={"Content-Disposition": disposition})


@route(
    "POST",
    "/v1/stores/{store}/billing/invoices/{invoice}/pay",
    summary="Pay a licence invoice: a link to Stripe Checkout (card) or PayPal",
    tag="staff",
    access=staff("owner"),
    body=PayIn,
    response=CheckoutOut,
    present=lambda url: CheckoutOut(checkout_url=url),
    status=201,
    errors=(*DENIED, "invoice_not_found", "invoice_paid", *PROVIDER_DOWN),
)
def pay_invoice(call: Call) -> str:
    command = StartPayment(
        call.params["store"], call.params["invoice"], call.body.method, portal_url(), call.caller.actor()
    )
    return start_payment(command, call.uow)


@route(
    "POST",
    "/v1/stores/{store}/billing/payment-method",
    summary="Save a card for the monthly licence fees (Stripe Checkout in setup mode; the mandate is agreed to)",
    tag="staff",
    access=staff("owner"),
    response=CheckoutOut,
    present=lambda url: CheckoutOut(checkout_url=url),
    status=201,
    errors=(*DENIED, "store_not_found", *PROVIDER_DOWN),
)
def post_payment_method(call: Call) -> str:
    return start_card_setup(StartCardSetup(call.params["store"], portal_url(), call.caller.actor()), call.uow)


@route(
    "POST",
    "/v1/jobs/licence-invoices",
    summary="Issue last month's licence invoices (once each) and charge saved cards: the day's run, store by store",
    tag="jobs",
    access=JOB,
    query=RunQuery,
    response=RunOut,
    present=lambda run: RunOut(
        period=run.period,
        issued=run.issued,
        paid=run.paid,
        failed=run.failed,
        errors=run.errors,
        **run_fields(run.walked),
    ),
)
def licence_invoices_job(call: Call) -> BillingRun:
    on = call.query.on or call.uow.now().date()
    # the run of the day `on`; as much of it as one call may do (issuing is a PDF each)
    walk = walk_command(call, lambda _now: on.isoformat(), LONGEST_BUDGET)
    return run_licence_billing(RunLicenceBilling(on, platform_issuer(), portal_url()), call.uow, walk)


@route(
    "POST",
    "/v1/webhooks/paypal",
    summary="PayPal's webhook (licence invoices paid by PayPal), verified through PayPal",
    tag="webhooks",
    access=PUBLIC,
    raw_body=True,
    response=PayPalWebhookOut,
    present=lambda outcome: PayPalWebhookOut(duplicate=outcome.duplicate),
    errors=("invalid_signature", "service_unavailable"),
)
def paypal_webhook(call: Call):
    return receive_paypal_webhook(ReceivePayPalWebhook(dict(call.request.headers), call.raw), call.uow)
