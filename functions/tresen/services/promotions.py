"""Promotions: made and ended by owners and supervisors, each journaled; listed with their uses;
and the one an order gets (domain/promotions.py), priced before the order's commit and used in it.

**Uses hold under concurrency.** A promotion's uses are numbered 1, 2, 3 … like pickup numbers:
the order that gets it claims the next number of the counter `promotion_uses` scoped by the
promotion's id, in its own commit, a create-only record per number (services/unit_of_work.py
`Counter`). Of two orders racing for number n exactly one commits; the other is built again on
fresh numbers, and past `max_uses` that build refuses: `promotion_not_applicable`, `used_up`.
Nothing is read inside the commit and no document is hot. Before the commit the uses so far are
read once for a promotion with a limit, so that a code used up is refused before an online payment
is made for the order; the claim in the commit is what holds.

**A use is consumed by a placed order**, and not given back when the order is canceled, expires,
is rejected or refunded: a number given back would be a gap below the counter's head that no
later order finds, and the customer's next try is an order of its own.

**A code names one promotion of the store at a time**: the promotion's commit holds it, fresh, or
taken over from a promotion that has ended (an ended code may be given out again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.catalog import Product, Store
from ..domain.errors import DomainError, FieldError
from ..domain.events import PromotionCreated, PromotionEnded
from ..domain.journal import JournalEvent, rfc3339
from ..domain.orders import Order, OrderRequest, PricedCart
from ..domain.promotions import (
    CODE,
    UNKNOWN,
    USED_UP,
    Promotion,
    PromotionTerms,
    applied,
    best,
    ended_now,
    new_promotion,
    normalized_code,
    not_applicable,
    refusal,
    with_promotion,
)
from .order_ports import OrderUnitOfWork, catalog_or_404
from .promotion_ports import PROMOTION_USES
from .unit_of_work import Claims, Counter, Plan, Writes


@dataclass(frozen=True)
class CreatePromotion:
    store_id: str
    terms: PromotionTerms
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class EndPromotion:
    store_id: str
    promotion_id: str
    actor: Mapping[str, Any]


class PromotionWrites(Writes):
    """The promotion use cases' writes, named like every other use case's (`Writes`)."""

    def promotion(self, promotion: Promotion, read_at: Any = None) -> None:
        """A new promotion (`read_at` None: create-only), or one ended since read at `read_at`."""
        kind = "create" if read_at is None else "update"
        self._add(kind, "promotion", (promotion.store_id, promotion.id), promotion, read_at)

    def promotion_code(self, store_id: str, code: str, promotion_id: str, read_at: Any = None) -> None:
        """The promotion a code names in the store. Taken fresh (`read_at` None) it is numbered-like:
        another promotion taking it first makes the use case decide again on what it then finds;
        taken over from a promotion that ended, only if that hold is still as read at `read_at`."""
        kind = "sequenced" if read_at is None else "update"
        self._add(kind, "promotion_code", (store_id, code), promotion_id, read_at)


@dataclass(frozen=True)
class PromotionView:
    promotion: Promotion
    uses: int
    status: str


def check_goods(promotion: Promotion, products: Mapping[str, Product]) -> None:
    """The products it names are the store's, and none is a gift card (sold at its face value)."""
    problems = []
    for index, product_id in enumerate(promotion.applies_to.products):
        product = products.get(product_id)
        if product is None or product.kind == "giftcard":
            why = "unknown product" if product is None else "a gift card is sold at its face value"
            problems.append(FieldError(f"applies_to.products[{index}]", why))
    if problems:
        raise DomainError("validation_failed", "The promotion names goods it cannot be for.", problems)


def create_promotion(command: CreatePromotion, uow: OrderUnitOfWork) -> PromotionView:
    """A new promotion, with the hold on its code: `promotion_code_taken` while another promotion of
    the store that has not ended has it."""
    _, products = catalog_or_404(uow, command.store_id)
    now = uow.now()
    promotion = new_promotion(uow.new_id("promo_"), command.store_id, command.terms, now)
    check_goods(promotion, products)
    created = JournalEvent.of(created_event(promotion))

    def build(_claims: Claims) -> Plan[PromotionView]:
        writes = PromotionWrites(command.actor)
        if promotion.code:
            holder, read_at = uow.promotions.by_code(promotion.store_id, promotion.code)
            if holder is not None and not holder.ended(now):
                raise DomainError(
                    "promotion_code_taken",
                    f"Promotion {holder.id} has the code {promotion.code} until it ends.",
                    extra={"promotion_id": holder.id},
                )
            writes.promotion_code(promotion.store_id, promotion.code, promotion.id, read_at)
        writes.promotion(promotion)
        view = PromotionView(promotion, 0, promotion.status(now, 0))
        return Plan(view, now, command.actor, [created], writes)

    view = uow.commit(command.store_id, build).result
    uow.promotions.refresh(command.store_id, now)
    return view


def created_event(promotion: Promotion) -> PromotionCreated:
    return PromotionCreated(
        promotion_id=promotion.id,
        code=promotion.code,
        name=promotion.name,
        percent=promotion.percent,
        amount=promotion.amount,
        applies_to={
            "products": list(promotion.applies_to.products),
            "categories": list(promotion.applies_to.categories),
        },
        starts_at=rfc3339(promotion.starts_at),
        ends_at=rfc3339(promotion.ends_at),
        channels=list(promotion.channels),
        max_uses=promotion.max_uses,
    )


def promotion_or_404(uow: OrderUnitOfWork, store_id: str, promotion_id: str) -> tuple[Promotion, Any]:
    found = uow.promotions.read(store_id, promotion_id)
    if found is None:
        raise DomainError("promotion_not_found", f"Store {store_id} has no promotion {promotion_id!r}.")
    return found


def end_promotion(command: EndPromotion, uow: OrderUnitOfWork) -> Promotion:
    """Ended now, journaled; one that has ended already stays as it is (nothing is written)."""
    now = uow.now()
    promotion, _ = promotion_or_404(uow, command.store_id, command.promotion_id)
    if promotion.ended(now):
        return promotion

    def build(_claims: Claims) -> Plan[Promotion]:
        current, read_at = promotion_or_404(uow, command.store_id, command.promotion_id)
        writes = PromotionWrites(command.actor)
        if current.ended(now):  # another request ended it meanwhile
            return Plan(current, now, command.actor, [], writes)
        ended = ended_now(current, now)
        writes.promotion(ended, read_at)
        event = PromotionEnded(promotion_id=ended.id, ends_at=rfc3339(now))
        return Plan(ended, now, command.actor, [JournalEvent.of(event)], writes)

    ended = uow.commit(command.store_id, build).result
    uow.promotions.refresh(command.store_id, now)
    return ended


def promotions(uow: OrderUnitOfWork, store_id: str) -> list[PromotionView]:
    """Every promotion of the store, newest first, with its uses so far."""
    catalog_or_404(uow, store_id)
    now = uow.now()
    views = []
    for promotion in uow.promotions.of_store(store_id):
        uses = uow.promotions.uses(store_id, promotion.id)
        views.append(PromotionView(promotion, uses, promotion.status(now, uses)))
    return views


# -- An order's promotion ------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """An order's cart as priced with the promotion it gets (if any), and that promotion."""

    cart: PricedCart
    promotion: Promotion | None = None

    def use(self, claims: Claims, order_id: str) -> None:
        """Claims the promotion's next use in the order's commit; past `max_uses` the order is refused."""
        if self.promotion is None:
            return
        n = claims.next(Counter(PROMOTION_USES, self.promotion.id), order_id)
        if self.promotion.max_uses is not None and n > self.promotion.max_uses:
            raise not_applicable(self.promotion, USED_UP, self.promotion.code)


def promotion_offer(
    uow: OrderUnitOfWork,
    store: Store,
    products: Mapping[str, Product],
    request: OrderRequest,
    cart: PricedCart,
    now: datetime,
) -> Offer:
    """The promotion the order gets: of the store's promotions without a code that fit it, and the
    customer's code, which must fit, the one giving the largest discount."""
    code = normalized_code(request.promotion_code)
    live = uow.promotions.live(store.id, now)
    if not live and code is None:
        return Offer(cart)
    categories = {product_id: product.category for product_id, product in products.items()}
    named = promotion_named(uow, store.id, code, live, now) if code else None
    offers = []
    for promotion in [*(p for p in live if p.code is None), *([named] if named else [])]:
        given = applied(promotion, cart.lines, categories)
        reason = refusal(promotion, now, request.channel, given) or used_up(uow, promotion)
        if promotion is named and reason:
            raise not_applicable(promotion, reason, code)
        if reason is None:
            offers.append((promotion, given))
    if not offers:
        return Offer(cart)
    promotion, given = best(offers, code)
    return Offer(with_promotion(cart, given), promotion)


def promotion_named(uow: OrderUnitOfWork, store_id: str, code: str, live: list[Promotion], now: datetime) -> Promotion:
    """The promotion holding the code: among those read lately, else (made on another instance a
    moment ago, or ended) as read now."""
    if not CODE.fullmatch(code):  # no promotion can have it: nothing to read
        raise not_applicable(None, UNKNOWN, code)
    cached = next((p for p in live if p.code == code and not p.ended(now)), None)
    found = cached or uow.promotions.by_code(store_id, code)[0]
    if found is None:
        raise not_applicable(None, UNKNOWN, code)
    return found


def used_up(uow: OrderUnitOfWork, promotion: Promotion) -> str | None:
    if promotion.max_uses is None:
        return None
    return USED_UP if uow.promotions.uses(promotion.store_id, promotion.id) >= promotion.max_uses else None


def placed_promotion(order: Order) -> dict[str, Any]:
    """The `promotion` member of the order's `order.placed` entry, where it got one."""
    if order.promotion is None:
        return {}
    given = order.promotion
    return {"promotion": {"id": given.id, "code": given.code, "discount": given.discount}}
