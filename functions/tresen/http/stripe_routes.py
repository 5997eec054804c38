"""Stripe Connect on the staff side: the owner sets up the store's connected account, owners and
supervisors see what it may do, the platform sets its fee — routes and their models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode, urljoin

from pydantic import Field, StringConstraints

from ..config import settings
from ..domain.errors import DomainError
from ..domain.stripe_connect import StripeAccount
from ..services import stripe_connect
from ..services.ports import OnboardingLink
from ..services.stripe_connect import SetPlatformFee, StartOnboarding
from .models import Inbound, Model
from .router import PLATFORM_ADMIN, Call, route, staff

DENIED = ("unauthenticated", "forbidden")
Percent = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$")]
FixedCents = Annotated[int, Field(strict=True, ge=0, le=100_000)]


class OnboardingOut(Model):
    url: str = Field(description="Stripe's onboarding page for the store's account: single-use, short-lived")
    expires_at: datetime


class PlatformFeeBody(Inbound):
    percent: Percent = Field(description='percentage of each payment, a decimal string ("1.5")')
    fixed: FixedCents = Field(0, description="fixed cents per payment")


class PlatformFeeOut(Model):
    percent: str
    fixed: int


class StripeSettingsIn(Inbound):
    platform_fee: PlatformFeeBody | None = Field(description="null: the platform takes no fee")


class StripeAccountOut(Model):
    account_id: str | None = Field(description="the store's connected account (null: not set up yet)")
    charges_enabled: bool = Field(description="the account may take payments: the store offers Stripe")
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: list[str] = Field(description="what Stripe still needs to know (its field names)")
    platform_fee: PlatformFeeOut | None


def account_out(account: StripeAccount | None) -> StripeAccountOut:
    if account is None:
        return StripeAccountOut(
            account_id=None,
            charges_enabled=False,
            payouts_enabled=False,
            details_submitted=False,
            requirements_due=[],
            platform_fee=None,
        )
    status, fee = account.status, account.platform_fee
    return StripeAccountOut(
        account_id=account.account_id,
        charges_enabled=status.charges_enabled,
        payouts_enabled=status.payouts_enabled,
        details_submitted=status.details_submitted,
        requirements_due=list(status.requirements_due),
        platform_fee=PlatformFeeOut(percent=fee.percent, fixed=fee.fixed) if fee else None,
    )


def with_connect() -> None:
    if not settings().stripe_api_key:
        raise DomainError("provider_not_ready", "This deployment has no Stripe API key.")
    if not settings().stripe_connect:
        raise DomainError("connect_disabled", "This deployment runs one merchant on its own Stripe account.")


def staff_board(store_id: str, stripe: str) -> str:
    """The staff board, where the owner comes back from Stripe's onboarding."""
    return urljoin(settings().order_page_url, "staff") + "?" + urlencode({"store": store_id, "stripe": stripe})


@route(
    "POST",
    "/v1/stores/{store}/payments/stripe/onboarding",
    summary="Set up the store's Stripe account: a link to Stripe's onboarding (the account is made once)",
    tag="staff",
    access=staff("owner"),
    response=OnboardingOut,
    present=lambda link: OnboardingOut(url=link.url, expires_at=link.expires_at),
    status=201,
    errors=(*DENIED, "store_not_found", "provider_not_ready", "connect_disabled"),
)
def start_onboarding(call: Call) -> OnboardingLink:
    with_connect()
    store_id = call.params["store"]
    command = StartOnboarding(
        store_id, staff_board(store_id, "return"), staff_board(store_id, "refresh"), call.caller.actor()
    )
    return stripe_connect.start_onboarding(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/payments/stripe",
    summary="The store's Stripe account: what it may do, what Stripe still needs",
    tag="staff",
    access=staff("owner", "supervisor"),
    response=StripeAccountOut,
    present=account_out,
    errors=(*DENIED, "store_not_found", "provider_not_ready", "connect_disabled"),
)
def get_stripe(call: Call) -> StripeAccount | None:
    with_connect()
    return stripe_connect.stripe_status(call.uow, call.params["store"])


@route(
    "PUT",
    "/v1/stores/{store}/payments/stripe",
    summary="The platform's fee on each of the store's Stripe payments (platform admins only)",
    tag="staff",
    access=PLATFORM_ADMIN,
    body=StripeSettingsIn,
    response=StripeAccountOut,
    present=account_out,
    errors=(*DENIED, "store_not_found", "validation_failed", "provider_not_ready", "connect_disabled"),
)
def put_stripe(call: Call) -> StripeAccount:
    with_connect()
    fee: PlatformFeeBody | None = call.body.platform_fee
    command = SetPlatformFee(
        call.params["store"], fee.percent if fee else None, fee.fixed if fee else 0, call.caller.actor()
    )
    return stripe_connect.set_platform_fee(command, call.uow)
