"""Gift cards in Firestore: `giftcards/{keyed hash of the code}` and its ledger below it.

The document id is an HMAC of the code under a key that lives outside the database
(`TRESEN_GIFTCARD_KEY`), and the document keeps only the last four characters: a leaked database
yields no usable code. A card is created with a create-only write, so two cards can never share a
code; each activity is a create-only document `activities/{n:09d}` beside a card update guarded
by the card's update time, so concurrent changes are applied one after another, never lost.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ..config import settings
from ..domain.catalog import Store
from ..domain.errors import DomainError
from ..domain.giftcards import Activity, Card, CardChange, Hold, code_from_digest, normalize_code, pending_card
from ..services.documents import Documents
from ..services.unit_of_work import Writes
from .clock import new_id
from .repository import as_aware


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


def derived_code(label: str) -> str:
    """A code derived from a random `label` under the server's key: cards created in bulk (a block)
    or in an order can be recreated and shown again later, though the database holds no code."""
    return code_from_digest(hmac.new(giftcard_key(), label.encode(), hashlib.sha256).digest())


def card_path(hashed: str) -> str:
    return f"giftcards/{hashed}"


def activity_path(hashed: str, n: int) -> str:
    return f"giftcards/{hashed}/activities/{n:09d}"


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


@dataclass(frozen=True)
class Found:
    key: str  # the card's document key
    card: Card
    read_at: Any  # the update time of the version read: a first commit attempt can go on it


def find_card(docs: Documents, raw_code: str) -> tuple[str, Card | None, Any]:
    """(key, card or None, update time read) for a code as typed: a malformed code is looked up as
    typed too, so it costs what an unknown one costs and answers the same."""
    code = normalize_code(raw_code)
    key = keyed_hash(code or raw_code)
    card, read_at = read_card(docs, key)
    return key, card if code is not None else None, read_at


def new_pending_card(store: Store, code: str, now: datetime, order_id: str | None = None) -> Card:
    """A card with this code, not active yet (sold in an unpaid order, or about to be issued)."""
    return pending_card(new_id("gc_"), store.id, code[-4:], store.currency, store.timezone, now, order_id)


def read_card(docs: Documents, hashed: str) -> tuple[Card | None, Any]:
    found = docs.get(card_path(hashed))
    return (card_from_doc(found.data), found.version) if found else (None, None)


def latest_activities(docs: Documents, hashed: str, limit: int = 20) -> list[Activity]:
    newest = docs.query(f"{card_path(hashed)}/activities", order_by=[("n", True)], limit=limit)
    return [activity_from_doc(d.data) for d in newest]


def due_cards(docs: Documents, now: datetime, limit: int) -> list[Found]:
    return found_cards(docs.query("giftcards", where=[("next_hold_due", "<=", now)], limit=limit))


def expired_cards(docs: Documents, now: datetime, limit: int) -> list[Found]:
    valid_until_now = [("status", "in", ["active", "deactivated"]), ("expires_at", "<=", now)]
    return found_cards(docs.query("giftcards", where=valid_until_now, limit=limit))


def found_cards(found: list) -> list[Found]:
    return [Found(d.id, card_from_doc(d.data), d.version) for d in found]


def apply_card_ops(docs: Documents, ops, writes: Writes, fresh: dict[str, Card] | None = None) -> dict[str, CardChange]:
    """Read each card the ops name (or take it from `fresh`: cards this commit creates), apply its
    ops in order and add the result to `writes`. Returns each card's combined change."""
    fresh = dict(fresh or {})
    by_card: dict[str, list] = {}
    for op in ops:
        by_card.setdefault(op.card_key, []).append(op)
    changes = {}
    for key in by_card.keys() | fresh.keys():
        new = key in fresh
        card, read_at = (fresh[key], None) if new else read_card(docs, key)
        if card is None:
            raise DomainError("giftcard_not_found", "A gift card of this order no longer exists.")
        activities: list[Activity] = []
        for op in by_card.get(key, ()):
            change = op.apply(card)
            card, activities = change.card, activities + list(change.activities)
        changes[key] = CardChange(card, tuple(activities))
        writes.card(key, changes[key], read_at, new=new)
    return changes


def activation_path(activation_id: str) -> str:
    return f"giftcard_activations/{activation_id}"


def chunk_path(activation_id: str, index: int) -> str:
    return f"{activation_path(activation_id)}/chunks/{index:05d}"


def read_activation(docs: Documents, activation_id: str) -> dict[str, Any] | None:
    found = docs.get(activation_path(activation_id))
    return found.data if found else None


def chunks_done(docs: Documents, activation_id: str) -> dict[int, dict[str, Any]]:
    """The markers of a block's chunks committed so far, by index."""
    return {chunk.data["index"]: chunk.data for chunk in docs.query(f"{activation_path(activation_id)}/chunks")}


def chunk_marker(docs: Documents, activation_id: str, index: int) -> dict[str, Any] | None:
    found = docs.get(chunk_path(activation_id, index))
    return found.data if found else None


def running_activations(docs: Documents) -> list[str]:
    return [found.id for found in docs.query("giftcard_activations", where=[("status", "==", "running")])]
