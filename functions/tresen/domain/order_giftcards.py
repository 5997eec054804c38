"""Gift cards inside orders: cards paying for an order, and cards an order sells (no I/O).

Paying: each card's amount is held (an authorization) when the order is placed, captured once
the order is settled (the online payment succeeded, or the cards cover everything), released
if it is canceled, rejected or expires unpaid. A failed payment attempt keeps the holds, since
the customer may try again. Selling: a gift-card line creates `pending` cards at placement;
they are activated with their value when the order is settled and voided if it never is.

Refund rule: money goes back the way it came, gift cards first. A refund of an order paid
partly by card is credited to its cards (the last card used first, each up to what it paid)
before anything is paid back through the provider: the merchant keeps the cash, the customer
gets spendable value back at once, and card money never turns into cash.

Everything here returns the changed order plus `CardOp`s: what to do to which card; the
service reads each card, applies its ops in order, and commits all of it with the order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from . import giftcards as gc
from .errors import DomainError, FieldError
from .orders import GiftCardUse, Order, SoldCard
from .refunds import paid


@dataclass(frozen=True)
class CardOp:
    card_key: str
    apply: Callable[[gc.Card], gc.CardChange]


def plan_uses(
    found: list[tuple[str, gc.Card | None]], amounts: list[int | None], store_id: str, total: int, now: datetime
) -> tuple[GiftCardUse, ...]:
    """How much each card pays (as asked, else as much as it has and is left to pay), checked on
    the cards as read; the holds themselves are taken in the order's commit. Unknown cards, other
    stores' cards and inactive ones get the same answer."""
    uses: list[GiftCardUse] = []
    remaining = total
    for index, ((key, card), requested) in enumerate(zip(found, amounts, strict=True)):
        field = f"gift_cards[{index}]"
        if any(use.card_key == key for use in uses):
            raise DomainError("validation_failed", "A card is given twice.", [FieldError(f"{field}.code", "repeated")])
        if card is None or card.store_id != store_id or card.status_at(now) != "active":
            raise DomainError("giftcard_not_active", f"Gift card {index + 1} is unknown here or not active.")
        amount = min(card.balance, remaining) if requested is None else requested
        if amount > remaining or amount == 0 and remaining == 0:
            raise DomainError(
                "validation_failed", "More than the order costs.", [FieldError(f"{field}.amount", f"{remaining} left")]
            )
        if amount == 0 or amount > card.balance:
            raise DomainError("giftcard_insufficient_funds", f"Gift card …{card.last4} has {card.balance} cents.")
        auth_code = gc.new_auth_code({hold.auth_code for hold in card.holds})
        uses.append(GiftCardUse(card.id, key, card.last4, amount, auth_code))
        remaining -= amount
    return tuple(uses)


def hold_at_placement(order: Order, now: datetime) -> list[CardOp]:
    """Authorize each card's amount for the new order (funds and state are checked on the card
    as read inside the commit)."""
    return [
        CardOp(
            use.card_key,
            partial(
                gc.authorize, type_="redeem", amount=use.amount, now=now, order_id=order.id, auth_code=use.auth_code
            ),
        )
        for use in order.gift_cards
    ]


def settle(before: Order, after: Order, now: datetime) -> tuple[Order, list[CardOp]]:
    """The card effects of an order's change: capture and activate once it is settled, release
    and void if it closes unpaid, shrink holds and void sold cards when items are voided."""
    ops: list[CardOp] = []
    uses, sold = list(after.gift_cards), list(after.cards_sold)
    if paid(after) and not paid(before):
        for index, use in enumerate(uses):
            if use.status == "held":
                ops.append(
                    CardOp(use.card_key, partial(gc.capture, auth_code=use.auth_code, amount=use.amount, now=now))
                )
                uses[index] = replace(use, status="captured")
        for index, card in enumerate(sold):
            if card.status == "pending":
                ops.append(CardOp(card.card_key, partial(gc.activate, amount=card.amount, now=now, order_id=after.id)))
                sold[index] = replace(card, status="active")
    elif after.status in ("canceled", "rejected") and not paid(after):
        for index, use in enumerate(uses):
            if use.status == "held":
                ops.append(CardOp(use.card_key, partial(gc.release, auth_code=use.auth_code, now=now)))
                uses[index] = replace(use, status="released")
            elif use.status == "captured" and use.amount > use.refunded:
                # an on-site order takes its cards at placement; rejected, it gives the money back
                credit = partial(gc.refund, amount=use.amount - use.refunded, now=now, order_id=after.id)
                ops.append(CardOp(use.card_key, credit))
                uses[index] = replace(use, refunded=use.amount)
        sold = _void_sold(sold, {}, after.id, now, ops)
    else:
        uses = _shrink_holds(uses, after.totals.total, after.id, now, ops)
        sold = _void_sold(sold, {line.id: line.quantity for line in after.lines}, after.id, now, ops)
    # a released hold keeps its amount (what the card was to pay, for the record); a shrunk one has less
    changed = replace(
        after, gift_cards=tuple(uses), cards_sold=tuple(sold), gift_card_amount=sum(use.amount for use in uses)
    )
    return changed, ops


def _shrink_holds(
    uses: list[GiftCardUse], total: int, order_id: str, now: datetime, ops: list[CardOp]
) -> list[GiftCardUse]:
    """A void or discount left less to pay than the cards cover: give back the excess, last card
    first — from a hold (online, not paid yet) or, for an on-site order whose cards were taken at
    placement, as a credit to the card."""
    excess = sum(use.amount for use in uses if use.status in ("held", "captured")) - total
    for index in reversed(range(len(uses))):
        use = uses[index]
        if excess <= 0 or use.status not in ("held", "captured"):
            continue
        cut = min(excess, use.amount)
        if use.status == "held":
            give_back = partial(gc.reduce_hold, auth_code=use.auth_code, to=use.amount - cut, now=now)
        else:
            give_back = partial(gc.refund, amount=cut, now=now, order_id=order_id)
        ops.append(CardOp(use.card_key, give_back))
        uses[index] = replace(use, amount=use.amount - cut, status=use.status if cut < use.amount else "released")
        excess -= cut
    return uses


def _void_sold(
    sold: list[SoldCard], quantities: dict[str, int], order_id: str, now: datetime, ops: list[CardOp]
) -> list[SoldCard]:
    """Keep as many pending cards per line as the line still has; void the rest."""
    kept: dict[str, int] = {}
    result = []
    for card in sold:
        kept[card.line_id] = kept.get(card.line_id, 0) + (card.status == "pending")
        if card.status == "pending" and kept[card.line_id] > quantities.get(card.line_id, 0):
            ops.append(CardOp(card.card_key, partial(gc.void_pending, now=now, order_id=order_id)))
            card = replace(card, status="void")
        result.append(card)
    return result


def refund_to_cards(order: Order, amount: int, refund_id: str, now: datetime) -> tuple[Order, list[CardOp], int]:
    """Credit up to `amount` to the cards that paid, last first; returns what is left for the provider."""
    uses, ops, left = list(order.gift_cards), [], amount
    for index in reversed(range(len(uses))):
        use = uses[index]
        room = use.amount - use.refunded if use.status == "captured" else 0
        credit = min(room, left)
        if credit > 0:
            ops.append(
                CardOp(use.card_key, partial(gc.refund, amount=credit, now=now, order_id=order.id, refund_id=refund_id))
            )
            uses[index] = replace(use, refunded=use.refunded + credit)
            left -= credit
    return replace(order, gift_cards=tuple(uses)), ops, left
