"""How one gift card changes on its own (the card use cases, the expiry job); the cards an order
changes are changed in its own commit (`uow.cards.apply`).

Every change reads the card inside the store writer's attempt, decides (domain/giftcards.py) and
commits the card, its new ledger records and their journal entries atomically, guarded by the
version of the card read: concurrent changes to one card are applied one after another, never lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from ..domain import giftcards as gc
from ..domain.errors import DomainError
from .card_ports import CardRepository, CardUnitOfWork, FoundCard
from .unit_of_work import Claims, Plan, Writes


def not_found() -> DomainError:
    return DomainError("giftcard_not_found", "No gift card with this code.")


def lookup(uow: CardUnitOfWork, raw_code: str) -> FoundCard:
    """The card as read now; unknown and malformed codes get the same 404 (after the same read)."""
    found = uow.cards.find(raw_code)
    if found.card is None:
        raise not_found()
    return found


def change_card(
    uow: CardUnitOfWork,
    found: FoundCard,
    decide: Callable[[gc.Card], gc.CardChange],
    actor: Mapping[str, Any],
    respond: Callable[[gc.CardChange], Any] = lambda change: change,
) -> Any:
    """Commit what `decide` makes of the card (first as found, then as read again after a
    conflict); answers `respond(change)`."""
    now = uow.now()
    reads = reads_from(uow.cards, found)

    def build(claims: Claims) -> Plan:
        card, read_at = next(reads)
        change = decide(card)
        writes = Writes(actor)
        writes.card(found.key, change, read_at)
        return card_plan(respond(change), now, writes)

    return uow.commit(found.card.store_id, build).result


def reads_from(cards: CardRepository, found: FoundCard) -> Iterator[tuple[gc.Card, Any]]:
    """The version found first, then a fresh read for every further attempt (the precondition on
    its version tells whether it is still current)."""
    yield found.card, found.read_at
    while True:
        yield cards.read(found.key)


def card_plan(result: Any, now: datetime, writes: Writes) -> Plan:
    """A plan of card changes alone: their ledger activities are its journal events."""
    return Plan(result, now, writes.actor, writes.events, writes)
