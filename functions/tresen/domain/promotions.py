"""Promotions: a percent or an amount off some of an order's goods, for a while, on some channels,
with or without a code, perhaps a limited number of times.

**Which goods.** The lines of the products a promotion names and of the products in the
categories it names (it names neither: every item); never a gift card sold, which a multi-purpose
voucher is at its face value. **How much.** A percent of those lines' total, rounded half up to
the cent, or an amount, at most their total; taken off their VAT rates in proportion to each
rate's gross (largest remainder, so the parts add up to the cent), so the order's VAT is computed
on what is charged, rate by rate (orders.py `totals_for`).

**Which one.** An order gets one promotion at most. Those without a code apply by themselves
where they fit (one of their goods in the cart, now within [starts_at, ends_at), the order's
channel); a code the customer gives must fit — an unknown, not yet started, ended, other channel's
or used-up code, or one for none of the cart's goods, is refused with the reason, never ignored.
Of all that fit, the order gets the one giving the largest discount; on a tie the code's (the
customer asked for it), then the one made first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from .errors import DomainError, FieldError
from .money import split_by_rate
from .orders import COUNTER_CHANNEL, ONLINE_CHANNEL, AppliedPromotion, OrderLine, PricedCart, totals_for

CHANNELS = (ONLINE_CHANNEL, COUNTER_CHANNEL)
SCHEDULED, ACTIVE, USED_UP, ENDED = "scheduled", "active", "used_up", "ended"
# why a code is refused (the problem's `reason`)
UNKNOWN, NOT_STARTED, EXPIRED, WRONG_CHANNEL, NO_MATCHING_ITEMS = (
    "unknown",
    "not_started",
    "expired",
    "wrong_channel",
    "no_matching_items",
)
REFUSED = {
    UNKNOWN: "is not a promotion of this store",
    NOT_STARTED: "is not valid yet",
    EXPIRED: "has expired",
    WRONG_CHANNEL: "is not valid for this kind of order",
    USED_UP: "is used up",
    NO_MATCHING_ITEMS: "is for none of the items ordered",
}
CODE = re.compile(r"[A-Z0-9_-]{3,32}")
PERCENT = re.compile(r"(\d{1,3})(?:\.(\d{1,2}))?")
WHOLE = 10_000  # 100 % in hundredths of a percent


@dataclass(frozen=True)
class AppliesTo:
    """The goods a promotion is for: these products, and the products in these categories; neither
    named: every item."""

    products: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def covers(self, product_id: str, category: str | None) -> bool:
        if not self.products and not self.categories:
            return True
        return product_id in self.products or (category is not None and category in self.categories)


@dataclass(frozen=True)
class PromotionTerms:
    """What an owner or supervisor asks for."""

    percent: str | None
    amount: int | None
    applies_to: AppliesTo
    starts_at: datetime
    ends_at: datetime
    channels: tuple[str, ...]
    code: str | None = None
    name: str | None = None
    max_uses: int | None = None


@dataclass(frozen=True)
class Promotion:
    id: str
    store_id: str
    code: str | None  # upper case; None: it applies by itself where it fits
    name: str | None  # what the receipt names it by where it has no code
    percent: str | None  # a decimal string, at most two places ("10", "12.5"); or
    amount: int | None  # cents
    applies_to: AppliesTo
    starts_at: datetime
    ends_at: datetime  # exclusive; an early end (DELETE) moves it to that moment
    channels: tuple[str, ...]
    max_uses: int | None
    created_at: datetime
    ended_at: datetime | None = None  # ended before its time (DELETE)

    @property
    def label(self) -> str:
        """How a receipt and a refusal name it: its code, else its name."""
        return self.code or self.name or self.id

    def ended(self, now: datetime) -> bool:
        return self.ended_at is not None or now >= self.ends_at

    def status(self, now: datetime, uses: int) -> str:
        if self.ended(now):
            return ENDED
        if now < self.starts_at:
            return SCHEDULED
        return USED_UP if self.max_uses is not None and uses >= self.max_uses else ACTIVE


def normalized_code(typed: str | None) -> str | None:
    """A code as kept and compared: trimmed, upper case (customers type `sommer10`)."""
    return typed.strip().upper() if typed and typed.strip() else None


def hundredths(percent: str) -> int | None:
    """ "12.5" → 1250; None for what is not a decimal of at most two places."""
    match = PERCENT.fullmatch(percent)
    if match is None:
        return None
    whole, fraction = match.groups()
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


def percent_text(value: int) -> str:
    """1250 → "12.5": one spelling for each percent."""
    whole, fraction = divmod(value, 100)
    return f"{whole}.{fraction:02d}".rstrip("0") if fraction else str(whole)


def new_promotion(promotion_id: str, store_id: str, terms: PromotionTerms, now: datetime) -> Promotion:
    """A promotion of these terms, or `validation_failed` naming each field that is wrong."""
    problems = []
    code = normalized_code(terms.code)
    if code is not None and not CODE.fullmatch(code):
        problems.append(FieldError("code", "3 to 32 letters, digits, - or _"))
    if code is None and not terms.name:
        problems.append(FieldError("name", "a promotion without a code needs a name (receipts print it)"))
    if (terms.percent is None) == (terms.amount is None):
        problems.append(FieldError("percent", "give either percent or amount"))
    percent = None
    if terms.percent is not None:
        value = hundredths(terms.percent)
        if value is None or not 0 < value <= WHOLE:
            problems.append(FieldError("percent", 'a decimal of at most two places above 0 and up to 100, e.g. "12.5"'))
        else:
            percent = percent_text(value)
    if terms.amount is not None and terms.amount <= 0:
        problems.append(FieldError("amount", "cents, more than 0"))
    if terms.ends_at <= terms.starts_at:
        problems.append(FieldError("ends_at", "must be after starts_at"))
    elif terms.ends_at <= now:
        problems.append(FieldError("ends_at", "must lie ahead"))
    if not terms.channels or any(channel not in CHANNELS for channel in terms.channels):
        problems.append(FieldError("channels", f"one or more of {', '.join(CHANNELS)}"))
    if terms.max_uses is not None and terms.max_uses <= 0:
        problems.append(FieldError("max_uses", "more than 0 (or none: unlimited)"))
    if problems:
        raise DomainError("validation_failed", "The promotion cannot be made as asked.", problems)
    return Promotion(
        id=promotion_id,
        store_id=store_id,
        code=code,
        name=terms.name,
        percent=percent,
        amount=terms.amount,
        applies_to=terms.applies_to,
        starts_at=terms.starts_at,
        ends_at=terms.ends_at,
        channels=tuple(channel for channel in CHANNELS if channel in terms.channels),
        max_uses=terms.max_uses,
        created_at=now,
    )


def ended_now(promotion: Promotion, now: datetime) -> Promotion:
    """Ended early: from now on it applies to no order."""
    return replace(promotion, ends_at=min(promotion.ends_at, now), ended_at=now)


# -- An order's promotion ------------------------------------------------------------------------


def discount_on(percent: str | None, amount: int | None, lines: Iterable[OrderLine]) -> int:
    """The discount on these lines: a percent of their total, half up to the cent; or an amount, at
    most their total."""
    total = sum(line.total for line in lines)
    if percent is not None:
        return (total * hundredths(percent) * 2 + WHOLE) // (2 * WHOLE)
    return min(amount or 0, total)


def given_on(
    promotion: AppliedPromotion | Promotion, lines: Iterable[OrderLine], line_ids: tuple[str, ...]
) -> AppliedPromotion | None:
    """The promotion on these of the lines, its discount split over their VAT rates; None where it
    takes nothing off."""
    lines = [line for line in lines if line.id in line_ids]
    discount = discount_on(promotion.percent, promotion.amount, lines)
    if discount == 0:
        return None
    gross: dict[str, int] = {}
    for line in lines:
        gross[line.vat_rate] = gross.get(line.vat_rate, 0) + line.total
    return AppliedPromotion(
        id=promotion.id,
        code=promotion.code,
        name=promotion.name,
        percent=promotion.percent,
        amount=promotion.amount,
        line_ids=tuple(line.id for line in lines),
        discount=discount,
        by_rate={rate: part for rate, part in split_by_rate(discount, gross).items() if part},
    )


def applied(
    promotion: Promotion, lines: Iterable[OrderLine], categories: Mapping[str, str | None]
) -> AppliedPromotion | None:
    """The promotion on the lines of goods it is for (never a gift card sold); None where it takes
    nothing off them."""
    lines = tuple(lines)
    fitting = tuple(
        line.id
        for line in lines
        if line.vat_rate is not None and promotion.applies_to.covers(line.product_id, categories.get(line.product_id))
    )
    return given_on(promotion, lines, fitting)


def refusal(promotion: Promotion, now: datetime, channel: str, given: AppliedPromotion | None) -> str | None:
    """Why the promotion does not apply to an order of `channel` now, its uses aside; None: it does."""
    if promotion.ended(now):
        return EXPIRED
    if now < promotion.starts_at:
        return NOT_STARTED
    if channel not in promotion.channels:
        return WRONG_CHANNEL
    return NO_MATCHING_ITEMS if given is None else None


def not_applicable(promotion: Promotion | None, reason: str, code: str | None) -> DomainError:
    """The problem of an order refused for its promotion: the customer's code, or (its last use
    taken meanwhile) one that applied by itself."""
    named = f"The code {code}" if code else f"The promotion {promotion.label if promotion else ''}"
    extra = {"reason": reason, "promotion_code": code, "promotion_id": promotion.id if promotion else None}
    return DomainError("promotion_not_applicable", f"{named} {REFUSED[reason]}.", extra=extra)


def best(offers: Iterable[tuple[Promotion, AppliedPromotion]], code: str | None) -> tuple[Promotion, AppliedPromotion]:
    """The largest discount; on a tie the customer's code, then the promotion made first."""
    return min(offers, key=lambda offer: (-offer[1].discount, offer[0].code != code, offer[0].created_at, offer[0].id))


def with_promotion(cart: PricedCart, given: AppliedPromotion) -> PricedCart:
    """The cart with its promotion's discount, the VAT computed on what is charged."""
    totals = totals_for(cart.lines, given.discount, cart.totals.tip, given.by_rate)
    return replace(cart, totals=totals, promotion=given)
