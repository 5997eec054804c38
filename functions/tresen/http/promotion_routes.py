"""Promotions: made and ended by owners and supervisors, listed for staff — routes and their models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints
from werkzeug.wrappers import Response

from ..domain.promotions import CHANNELS, AppliesTo, Promotion, PromotionTerms
from ..services import promotions
from ..services.promotions import CreatePromotion, EndPromotion, PromotionView
from . import models as m
from .present import local_time
from .router import UNKNOWN, Call, current_uow, route, staff

UNKNOWN.update(promotion="promotion_not_found")
DENIED = ("unauthenticated", "forbidden")
SUPERVISORS = staff("owner", "supervisor")
STAFF = staff("owner", "supervisor", "staff")
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class AppliesToIn(m.Inbound):
    products: list[m.Id] = Field(default_factory=list, max_length=100, description="the products it is for, by id")
    categories: list[Category] = Field(
        default_factory=list, max_length=50, description="the categories whose products it is for"
    )


class PromotionIn(m.Inbound):
    model_config = ConfigDict(extra="ignore", defer_build=True, json_schema_extra=m.one_of("percent", "amount"))

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = Field(
        None, description="what customers give (3 to 32 letters, digits, - or _; any case): none, it applies by itself"
    )
    name: m.ShortText | None = Field(None, description="what receipts name it by where it has no code (then required)")
    percent: Annotated[str, StringConstraints(strip_whitespace=True, max_length=6)] | None = Field(
        None, description='percent off, a decimal string of at most two places above 0 up to 100: "10", "12.5"'
    )
    amount: m.Cents | None = Field(None, description="cents off the goods it is for, at most their total")
    applies_to: AppliesToIn = Field(description="the goods it is for; neither products nor categories: every item")
    starts_at: m.Time
    ends_at: m.Time = Field(description="valid until before this moment")
    channels: list[Literal[CHANNELS]] = Field(min_length=1, max_length=2, description="online, counter")
    max_uses: Annotated[int, Field(strict=True, ge=1, le=10_000_000)] | None = Field(
        None, description="how many orders may use it (none: unlimited)"
    )


class AppliesToOut(m.Outbound):
    products: list[str]
    categories: list[str]


class PromotionOut(m.Outbound):
    id: str
    code: str | None
    name: str | None
    percent: str | None
    amount: int | None
    applies_to: AppliesToOut
    starts_at: datetime
    ends_at: datetime
    channels: list[str]
    max_uses: int | None
    uses: int = Field(description="orders placed with it so far")
    status: Literal["scheduled", "active", "used_up", "ended"]


class PromotionList(m.Outbound):
    data: list[PromotionOut]


def promotion_out(view: PromotionView) -> PromotionOut:
    promotion: Promotion = view.promotion
    zone = current_uow().catalog.get(promotion.store_id)[0].zone  # cached: the use case has just read the store
    return PromotionOut(
        id=promotion.id,
        code=promotion.code,
        name=promotion.name,
        percent=promotion.percent,
        amount=promotion.amount,
        applies_to=AppliesToOut.model_validate(promotion.applies_to),
        starts_at=local_time(promotion.starts_at, zone),
        ends_at=local_time(promotion.ends_at, zone),
        channels=list(promotion.channels),
        max_uses=promotion.max_uses,
        uses=view.uses,
        status=view.status,
    )


@route(
    "POST",
    "/v1/stores/{store}/promotions",
    summary="Make a promotion: a percent or an amount off some goods, for a while, per channel, with or "
    "without a code, perhaps a limited number of times",
    tag="staff",
    access=SUPERVISORS,
    body=PromotionIn,
    response=PromotionOut,
    present=promotion_out,
    status=201,
    errors=(*DENIED, "store_not_found", "validation_failed", "promotion_code_taken"),
)
def create_promotion(call: Call) -> PromotionView:
    body: PromotionIn = call.body
    terms = PromotionTerms(
        percent=body.percent,
        amount=body.amount,
        applies_to=AppliesTo(tuple(body.applies_to.products), tuple(body.applies_to.categories)),
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        channels=tuple(body.channels),
        code=body.code,
        name=body.name,
        max_uses=body.max_uses,
    )
    return promotions.create_promotion(CreatePromotion(call.params["store"], terms, call.caller.actor()), call.uow)


@route(
    "GET",
    "/v1/stores/{store}/promotions",
    summary="The store's promotions, newest first, ended ones too, each with its uses so far",
    tag="staff",
    access=STAFF,
    response=PromotionList,
    errors=(*DENIED, "store_not_found"),
)
def list_promotions(call: Call) -> PromotionList:
    return PromotionList(data=[promotion_out(view) for view in promotions.promotions(call.uow, call.params["store"])])


@route(
    "DELETE",
    "/v1/stores/{store}/promotions/{promotion}",
    summary="End a promotion now: no order placed after gets it (its uses and the orders that had it stay)",
    tag="staff",
    access=SUPERVISORS,
    status=204,
    errors=(*DENIED, "promotion_not_found"),
)
def end_promotion(call: Call) -> Response:
    command = EndPromotion(call.params["store"], call.params["promotion"], call.caller.actor())
    promotions.end_promotion(command, call.uow)
    return Response(status=204)
