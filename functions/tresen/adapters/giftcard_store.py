"""Gift cards in the document store: `giftcards/{keyed hash of the code}` and its ledger below it,
and the block activations that issue cards in bulk.

The document id is an HMAC of the code under a key that lives outside the database
(`TRESEN_GIFTCARD_KEY`), and the document keeps only the last four characters: a leaked database
yields no usable code. A card is created with a create-only write, so two cards can never share a
code; each activity is a create-only document `activities/{n:09d}` beside a card update guarded
by the card's update time, so concurrent changes are applied one after another, never lost.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from ..config import settings
from ..domain.card_blocks import BlockActivation, ChunkDone
from ..domain.catalog import Store
from ..domain.errors import DomainError
from ..domain.giftcards import Activity, Card, CardChange, Hold, code_from_digest, normalize_code, pending_card
from ..domain.order_giftcards import CardOp
from ..services.card_ports import FoundCard
from ..services.documents import Doc, Documents
from ..services.unit_of_work import Writes
from .clock import new_id
from .repository import as_aware

CARDS = "giftcards"
ACTIVATIONS = "giftcard_activations"


def giftcard_key() -> bytes:
    """The key codes are hashed under; a function deployed without it (the exports) must never
    hash a code under an empty key."""
    key = settings().giftcard_key
    if not key:
        raise LookupError("TRESEN_GIFTCARD_KEY is not set for this function")
    return key.encode()


def keyed_hash(text: str) -> str:
    """HMAC-SHA256 under the gift-card key: the document key of a code (and of rate-limit keys)."""
    return hmac.new(giftcard_key(), text.encode(), hashlib.sha256).hexdigest()


def card_path(hashed: str) -> str:
    return f"{CARDS}/{hashed}"


def activity_path(hashed: str, n: int) -> str:
    return f"{card_path(hashed)}/activities/{n:09d}"


def card_to_doc(card: Card) -> dict[str, Any]:
    doc = asdict(card)
    doc["holds"] = [asdict(hold) for hold in card.holds]
    # the earliest moment a hold falls due: the expiry job finds cards to release by it
    doc["next_hold_due"] = min((hold.expires_at for hold in card.holds), default=None)
    return doc


def card_from_doc(doc: dict[str, Any]) -> Card:
    return Card(
        **{
            **{k: doc[k] for k in Card.__dataclass_fields__ if k in doc},
            "issued_at": as_aware(doc["issued_at"]),
            "expires_at": as_aware(doc["expires_at"]),
            "holds": tuple(Hold(**(h | {"expires_at": as_aware(h["expires_at"])})) for h in doc.get("holds", ())),
        }
    )


def activity_to_doc(card: Card, activity: Activity, actor: dict[str, Any]) -> dict[str, Any]:
    return asdict(activity) | {"card_id": card.id, "store_id": card.store_id, "actor": actor}


def activity_from_doc(doc: dict[str, Any]) -> Activity:
    fields = {k: doc[k] for k in Activity.__dataclass_fields__ if k in doc}
    return Activity(**(fields | {"at": as_aware(doc["at"])}))


def found_card(doc: Doc) -> FoundCard:
    return FoundCard(doc.id, card_from_doc(doc.data), doc.version)


class DocumentCards:
    """The cards and their ledgers (services/card_ports.py `CardRepository`)."""

    def __init__(self, docs: Documents):
        self.docs = docs

    @staticmethod
    def key_of(code: str) -> str:
        return keyed_hash(code)

    @staticmethod
    def derived_code(label: str) -> str:
        return code_from_digest(hmac.new(giftcard_key(), label.encode(), hashlib.sha256).digest())

    def find(self, raw_code: str) -> FoundCard:
        code = normalize_code(raw_code)
        key = keyed_hash(code or raw_code)
        card, read_at = self.read(key)
        return FoundCard(key, card if code is not None else None, read_at)

    def read(self, key: str) -> tuple[Card | None, Any]:
        found = self.docs.get(card_path(key))
        return (card_from_doc(found.data), found.version) if found else (None, None)

    def new_pending(self, store: Store, code: str, now: datetime, order_id: str | None = None) -> tuple[str, Card]:
        card = pending_card(new_id("gc_"), store.id, code[-4:], store.currency, store.timezone, now, order_id)
        return keyed_hash(code), card

    def apply(
        self, ops: Iterable[CardOp], writes: Writes, fresh: Mapping[str, Card] | None = None
    ) -> dict[str, CardChange]:
        fresh = dict(fresh or {})
        by_card: dict[str, list[CardOp]] = {}
        for op in ops:
            by_card.setdefault(op.card_key, []).append(op)
        changes = {}
        for key in by_card.keys() | fresh.keys():
            new = key in fresh
            card, read_at = (fresh[key], None) if new else self.read(key)
            if card is None:
                raise DomainError("giftcard_not_found", "A gift card of this order no longer exists.")
            activities: list[Activity] = []
            for op in by_card.get(key, ()):
                change = op.apply(card)
                card, activities = change.card, activities + list(change.activities)
            changes[key] = CardChange(card, tuple(activities))
            writes.card(key, changes[key], read_at, new=new)
        return changes

    def existing(self, keys: Iterable[str]) -> set[str]:
        return {found.id for found in self.docs.get_all([card_path(key) for key in keys]) if found}

    def latest_activities(self, key: str, limit: int) -> list[Activity]:
        newest = self.docs.query(f"{card_path(key)}/activities", order_by=[("n", True)], limit=limit)
        return [activity_from_doc(doc.data) for doc in newest]

    def holds_due(self, now: datetime, limit: int) -> list[FoundCard]:
        return [found_card(doc) for doc in self.docs.query(CARDS, where=[("next_hold_due", "<=", now)], limit=limit)]

    def past_validity(self, now: datetime, limit: int) -> list[FoundCard]:
        valid_until_now = [("status", "in", ["active", "deactivated"]), ("expires_at", "<=", now)]
        return [found_card(doc) for doc in self.docs.query(CARDS, where=valid_until_now, limit=limit)]


def activation_path(activation_id: str) -> str:
    return f"{ACTIVATIONS}/{activation_id}"


def chunk_path(activation_id: str, index: int) -> str:
    return f"{activation_path(activation_id)}/chunks/{index:05d}"


def activation_to_doc(activation: BlockActivation) -> dict[str, Any]:
    # `chunks` is stored for whoever reads the document itself (the console, an operator)
    return asdict(activation) | {"actor": dict(activation.actor), "chunks": activation.chunks}


def activation_from_doc(doc: dict[str, Any]) -> BlockActivation:
    fields = {k: doc[k] for k in BlockActivation.__dataclass_fields__ if k in doc}
    return BlockActivation(**(fields | {"created_at": as_aware(doc["created_at"])}))


def chunk_to_doc(chunk: ChunkDone) -> dict[str, Any]:
    return asdict(chunk) | {"failed_members": list(chunk.failed_members), "failed": chunk.failed}


def chunk_from_doc(doc: dict[str, Any]) -> ChunkDone:
    return ChunkDone(doc["index"], doc["activated"], tuple(doc["failed_members"]), as_aware(doc["at"]))


class DocumentActivations:
    """The block activations and their chunks' markers (services/card_ports.py `BlockActivations`)."""

    def __init__(self, docs: Documents):
        self.docs = docs

    def read(self, activation_id: str) -> BlockActivation | None:
        found = self.docs.get(activation_path(activation_id))
        return activation_from_doc(found.data) if found else None

    def chunks_done(self, activation_id: str) -> dict[int, ChunkDone]:
        done = (chunk_from_doc(doc.data) for doc in self.docs.query(f"{activation_path(activation_id)}/chunks"))
        return {chunk.index: chunk for chunk in done}

    def chunk_done(self, activation_id: str, index: int) -> ChunkDone | None:
        found = self.docs.get(chunk_path(activation_id, index))
        return chunk_from_doc(found.data) if found else None

    def running(self) -> list[str]:
        return [found.id for found in self.docs.query(ACTIVATIONS, where=[("status", "==", "running")])]
