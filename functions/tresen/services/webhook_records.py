"""The record an event is about, read as the API's own reads read it (its GET route, or the answer
that made it): the HTTP layer then shows it with its own presenters (http/webhook_objects.py), so an
event's `object` is exactly what the API shows of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.errors import DomainError
from ..domain.giftcards import CardResult
from ..domain.webhooks import ObjectRef
from . import card_blocks, closings, customer_imports, customers, order_views, stock
from .cards import LATEST_ACTIVITIES
from .webhook_ports import WebhookUnitOfWork


def record_of(uow: WebhookUnitOfWork, store_id: str, ref: ObjectRef) -> Any:
    """The record `ref` names in the store; None once it is gone (an erased customer)."""
    try:
        return READERS[ref.kind](uow, store_id, ref.id)
    except DomainError as error:
        if error.code.endswith("not_found"):
            return None
        raise


def _refund(uow: WebhookUnitOfWork, store_id: str, refund_id: str) -> Any:
    found = uow.refunds.read(refund_id)
    return found[0] if found and found[0].store_id == store_id else None


def _card(uow: WebhookUnitOfWork, store_id: str, card_id: str) -> CardResult | None:
    """As the card's inquiry shows it, but never with its code."""
    found = uow.cards_by_id.find(card_id)
    if found is None or found.card.store_id != store_id:
        return None
    return CardResult(
        found.card, uow.now(), activities=tuple(uow.cards.latest_activities(found.key, LATEST_ACTIVITIES))
    )


def _activation(uow: WebhookUnitOfWork, store_id: str, activation_id: str) -> Any:
    def same_store(owner: str) -> None:
        if owner != store_id:
            raise DomainError("not_found", f"Store {store_id} has no block activation {activation_id!r}.")

    return card_blocks.block_status(uow, activation_id, same_store)


READERS: dict[str, Callable[[WebhookUnitOfWork, str, str], Any]] = {
    "order": order_views.order_view_for_staff,
    "refund": _refund,
    "giftcard": _card,
    "giftcard_activation": _activation,
    "closing": lambda uow, store_id, z: closings.closing_at(uow, store_id, int(z)),
    "customer": lambda uow, store_id, customer_id: customers.read_customer(uow, store_id, customer_id)[0],
    "customer_import": customer_imports.import_status,
    "stock": stock.stock_level,
}
