"""The gift-card expiry job (scheduled): holds past their 7 days released, cards past their
validity expired, each one an ordinary card change with its ledger and journal entries."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import giftcards as gc
from .card_changes import change_card
from .card_ports import CardUnitOfWork

SCHEDULER = {"type": "system", "job": "giftcards"}


@dataclass(frozen=True)
class ExpireCards:
    """Release holds past their 7 days and mark cards past their validity expired, at most
    `limit` cards of each per run (the scheduler runs it again)."""

    limit: int = 500


def expire_giftcards(command: ExpireCards, uow: CardUnitOfWork) -> dict[str, int]:
    now = uow.now()
    released = expired = 0
    for found in uow.cards.holds_due(now, command.limit):
        change = change_card(uow, found, lambda card: gc.release_due(card, now), SCHEDULER)
        released += sum(activity.type == "release" for activity in change.activities)
    for found in uow.cards.past_validity(now, command.limit):
        change = change_card(uow, found, lambda card: gc.expire(card, now), SCHEDULER)
        expired += bool(change.activities)
    return {"holds_released": released, "cards_expired": expired}
