"""Refunding a paid order: to the gift cards that paid first and the rest through the provider,
or all of it onto a gift card."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.changes import OrderChange
from ..domain.errors import DomainError
from ..domain.giftcards import CardResult
from ..domain.giftcards import new_code as gc_new_code
from ..domain.orders import Order
from ..domain.refunds import RefundRequest, plan_refund
from .order_changes import Changed, ChangeOrder, ToGiftCard, change_order
from .order_ports import OrderUnitOfWork, catalog_or_404
from .passkeys import approved_actor


@dataclass(frozen=True)
class RefundOrder:
    store_id: str
    order_id: str
    request: RefundRequest
    actor: Mapping[str, Any]
    role: str
    passkey: str | None  # staff may refund only with it
    to_giftcard: bool = False
    giftcard_code: str | None = None  # the store's card to credit; None: a new card
    restock: bool = False  # a refund by lines: the refunded units go back to the stock


@dataclass(frozen=True)
class RefundResult:
    id: str
    order_id: str
    amount: int
    status: str
    to: str
    provider_amount: int  # paid back through the provider (or at the counter)
    giftcard_amount: int  # credited to gift cards
    giftcard: CardResult | None = None  # the card a `to: giftcard` refund went onto


def refund_order(command: RefundOrder, uow: OrderUnitOfWork) -> RefundResult:
    """Pay back part or all of a paid order: to the gift cards that paid first, the rest through
    the provider; or all of it onto a gift card (an existing one, or a new one). The answer
    (stored for idempotent replays in the same commit) shows a provider refund as `pending`; the
    provider's answer follows right after the commit and is journaled (the sandbox succeeds at once).
    Staff may refund only with the passkey."""
    store_id, request = command.store_id, command.request
    actor = approved_actor(uow, store_id, "refund", command.actor, command.role, command.passkey, staff_needs_it=True)
    store, _ = catalog_or_404(uow, store_id)
    now = uow.now()
    target = refund_card(uow, store_id, command.giftcard_code) if command.to_giftcard else None

    def decide(order: Order) -> OrderChange:
        plan = plan_refund(order, request, now)
        return OrderChange(
            plan.order,
            refund_amount=plan.amount,
            refund_reason=request.reason or "",
            refund_vat=plan.vat,
            refund_lines=dict(request.lines),
            restock=command.restock,
        )

    uow.presenting(lambda changed: refund_result(changed, now))
    changed = change_order(ChangeOrder(store, command.order_id, decide, actor, now, to_giftcard=target), uow)
    return refund_result(changed, now)


def refund_result(changed: Changed, now: datetime) -> RefundResult:
    """The answer: a provider's refund `pending` until it answers (right after the commit)."""
    provider_pays = changed.provider_amount and changed.order.payment_method == "online"
    card = changed.refund_card
    return RefundResult(
        changed.refund_id,
        changed.order.id,
        changed.refund_amount,
        "pending" if provider_pays else "succeeded",
        "giftcard" if card else "original",
        changed.provider_amount,
        changed.refund_amount - changed.provider_amount,
        CardResult(card.card, now, code=changed.refund_card_code) if card else None,
    )


def refund_card(uow: OrderUnitOfWork, store_id: str, giftcard_code: str | None) -> ToGiftCard:
    """The card a refund goes onto: the store's card with this code (anything else:
    `giftcard_not_active`), or a new one."""
    if giftcard_code is None:
        return ToGiftCard(new_code=gc_new_code())
    key, card, _ = uow.cards.find(giftcard_code)
    if card is None or card.store_id != store_id:
        raise DomainError("giftcard_not_active", "No active gift card of this store with this code.")
    return ToGiftCard(card_key=key)
