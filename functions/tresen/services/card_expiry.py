"""The gift-card expiry job (scheduled): holds past their 7 days released, cards past their
validity expired, each one an ordinary card change with its ledger and journal entries."""

from __future__ import annotations

from ..adapters import giftcard_store as cards
from ..adapters.backend import Backend
from ..domain import giftcards as gc
from .cards import change_card

SCHEDULER = {"type": "system", "job": "giftcards"}


def expire_giftcards(backend: Backend, limit: int = 500) -> dict[str, int]:
    """Release holds past their 7 days, and mark cards past their validity expired."""
    now = backend.now()
    released = expired = 0
    for found in cards.due_cards(backend.docs, now, limit):
        change = change_card(backend, found, lambda c: gc.release_due(c, now), SCHEDULER)
        released += sum(a.type == "release" for a in change.activities)
    for found in cards.expired_cards(backend.docs, now, limit):
        change = change_card(backend, found, lambda c: gc.expire(c, now), SCHEDULER)
        expired += bool(change.activities)
    return {"holds_released": released, "cards_expired": expired}
