"""What the gift-card use cases read through, as protocols: the cards and their ledgers, block
activations, and the rate limits of the holder's balance inquiry. The adapters implement them
(adapters/giftcard_store.py, adapters/rate_limits.py); the unit of work carries them
(`CardUnitOfWork`). The order use cases change cards through `uow.cards` too.

A card is stored under a key derived from its code by a keyed hash whose key the server holds
outside the database: a use case never sees how, it asks the repository for a code's key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from ..domain.card_blocks import BlockActivation, ChunkDone
from ..domain.catalog import Store
from ..domain.giftcards import Activity, Card, CardChange
from ..domain.order_giftcards import CardOp
from .unit_of_work import UnitOfWork, Writes


class FoundCard(NamedTuple):
    """A card as read, with what a commit needs to change it: unpacks as (key, card, read_at)."""

    key: str  # what the card is stored under
    card: Card | None  # None: no card with this code
    read_at: Any  # the version read: a write guarded by it fails if the card changed since


class CardRepository(Protocol):
    def key_of(self, code: str) -> str:
        """The key a card with this (normalized) code is stored under."""

    def derived_code(self, label: str) -> str:
        """A code derived from a random `label` under the server's key: cards created in bulk (a
        block) or in an order can be recreated and shown again later, though no code is stored."""

    def find(self, raw_code: str) -> FoundCard:
        """The card of a code as typed. A malformed code is looked up as typed too, so it costs
        what an unknown one costs and is answered the same: no card."""

    def read(self, key: str) -> tuple[Card | None, Any]:
        """(the card, the version read): for another attempt of a commit."""

    def new_pending(self, store: Store, code: str, now: datetime, order_id: str | None = None) -> tuple[str, Card]:
        """(its key, a new card with this code): not active yet and not stored yet (sold in an
        unpaid order, or about to be activated by a transfer or a refund)."""

    def apply(
        self, ops: Iterable[CardOp], writes: Writes, fresh: Mapping[str, Card] | None = None
    ) -> dict[str, CardChange]:
        """Read each card the ops name (or take it from `fresh`: cards this commit creates, by
        key), apply its ops in order and add the result to `writes`, guarded by the version read.
        Each card's combined change, by key; `giftcard_not_found` if a card named is gone."""

    def existing(self, keys: Iterable[str]) -> set[str]:
        """Those of `keys` a card is stored under."""

    def latest_activities(self, key: str, limit: int) -> list[Activity]:
        """The card's newest ledger activities, newest first."""

    def holds_due(self, now: datetime, limit: int) -> list[FoundCard]:
        """Cards with a hold whose 7 days are over."""

    def past_validity(self, now: datetime, limit: int) -> list[FoundCard]:
        """Cards still active or deactivated whose validity has ended."""


class BlockActivations(Protocol):
    def read(self, activation_id: str) -> BlockActivation | None: ...

    def chunks_done(self, activation_id: str) -> dict[int, ChunkDone]:
        """The markers of the chunks committed so far, by index."""

    def chunk_done(self, activation_id: str, index: int) -> ChunkDone | None: ...

    def running(self) -> list[str]:
        """The ids of the activations not done yet."""


@dataclass(frozen=True)
class Limit:
    """At most `allowed` requests per fixed window of `window`, for each key counted."""

    name: str
    allowed: int
    window: timedelta


class RateLimits(Protocol):
    def hit(self, counted: Sequence[tuple[Limit, str]], now: datetime) -> int | None:
        """Count one request against each (limit, key), all at once; the seconds to wait if any
        limit is exceeded (the longest wait), else None. The keys (a client's address, a code)
        are never stored in the clear."""


class CardUnitOfWork(UnitOfWork, Protocol):
    """The unit of work as the gift-card use cases use it."""

    cards: CardRepository
    card_activations: BlockActivations
    rate_limits: RateLimits
