"""A store's Stripe connected account (Connect): whether it may take payments, and the platform's fee.

Stripe tells an account's state in `account.updated` events, which may arrive late, twice or out of
order: a report older than the one kept changes nothing. The platform fee is a percentage of the
amount charged plus a fixed amount, in cents, rounded half up once; it never exceeds the charge.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

MAX_FEE_PERCENT = Decimal("100")


@dataclass(frozen=True)
class PlatformFee:
    percent: str  # a decimal string, "1.5"
    fixed: int  # cents

    def of(self, amount: int) -> int:
        """The fee on a charge of `amount` cents."""
        share = (Decimal(self.percent) * amount / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return min(amount, int(share) + self.fixed)


@dataclass(frozen=True)
class AccountStatus:
    """What Stripe last said about the account; `reported_at` is the unix time of that report."""

    charges_enabled: bool = False
    payouts_enabled: bool = False
    details_submitted: bool = False
    requirements_due: tuple[str, ...] = ()
    reported_at: int = 0


@dataclass(frozen=True)
class StripeAccount:
    """A store's connected account."""

    store_id: str
    account_id: str
    status: AccountStatus = field(default_factory=AccountStatus)
    platform_fee: PlatformFee | None = None

    @property
    def ready(self) -> bool:
        return self.status.charges_enabled

    def reported(self, status: AccountStatus) -> StripeAccount | None:
        """The account after Stripe's report, or None if the report is older than the one kept."""
        if status.reported_at < self.status.reported_at:
            return None
        return replace(self, status=status)


def platform_fee(percent: str, fixed: int) -> PlatformFee:
    """A fee the platform takes: ValueError unless 0 <= percent <= 100 with at most 2 decimals."""
    value = Decimal(percent)
    if not value.is_finite() or value < 0 or value > MAX_FEE_PERCENT or value.as_tuple().exponent < -2:
        raise ValueError("percent must be 0 to 100 with at most two decimals")
    return PlatformFee(format(value.normalize(), "f"), fixed)
