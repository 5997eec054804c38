"""What one use case writes, named by what it is: an order, a refund, a card and its ledger, a
webhook event seen. The repositories' mappings turn each into documents here; the unit of work
(store_writer.py) commits them with the journal as one batch. Services never name a document.

Four kinds of document write, which the unit of work treats apart:
- `creates`: create-only; if one exists, this very effect happened before (`AlreadyWritten`);
- `sequenced`: create-only and numbered from a version read (a card's ledger): if one exists,
  someone appended first, and the decision is made again on fresh reads;
- `updates`: only if the document is still the version read (any version if None);
- `sets`: whatever was there.
"""

from __future__ import annotations

from typing import Any

from ..domain.giftcards import CardChange
from ..domain.journal import JournalEvent
from ..domain.orders import Order
from ..domain.payments import PaymentRecord
from ..domain.refunds import Refund
from ..services.documents import Documents
from . import giftcard_store as cards
from . import repository as repo
from .passkeys import passkey_path


def api_key_path(key_hash: str) -> str:
    """Top-level, named by the key's hash: authentication finds a key from the bearer token alone,
    and so can tell a key of another store (403) from no key at all (401)."""
    return f"api_keys/{key_hash}"


def closing_path(store_id: str, z_number: int) -> str:
    return f"stores/{store_id}/closings/{z_number:09d}"


def payout_path(provider: str, payout_id: str) -> str:
    return f"payouts/{provider}:{payout_id}"


def statement_path(store_id: str, statement_id: str) -> str:
    return f"stores/{store_id}/statements/{statement_id}"


def accounting_path(store_id: str) -> str:
    return f"stores/{store_id}/settings/accounting"


class Writes:
    def __init__(self, actor: dict[str, Any]):
        self.actor = actor  # recorded on every ledger activity
        self.creates: dict[str, dict[str, Any]] = {}
        self.sequenced: dict[str, dict[str, Any]] = {}
        self.updates: dict[str, tuple[dict[str, Any], Any]] = {}
        self.sets: dict[str, dict[str, Any]] = {}
        self.events: list[JournalEvent] = []  # the card activities' journal entries

    def new_order(self, order: Order, access_token_hash: str) -> None:
        self.creates[repo.order_path(order.id)] = repo.order_to_doc(order, access_token_hash)

    def order(self, order: Order, read_at: Any) -> None:
        self.updates[repo.order_path(order.id)] = (repo.order_to_doc(order), read_at)

    def new_payment(self, payment: PaymentRecord) -> None:
        self.creates[repo.payment_path(payment.id)] = repo.payment_to_doc(payment)

    def payment_amount(self, payment_id: str, amount: int) -> None:
        self.updates[repo.payment_path(payment_id)] = ({"amount": amount}, None)

    def new_refund(self, refund: Refund) -> None:
        self.creates[repo.refund_path(refund.id)] = repo.refund_to_doc(refund)

    def refund_status(self, refund_id: str, status: str, provider_refund_id: str, read_at: Any) -> None:
        known = {"status": status, "provider_refund_id": provider_refund_id}
        self.updates[repo.refund_path(refund_id)] = (known, read_at)

    def card(self, key: str, change: CardChange, read_at: Any | None, new: bool = False) -> None:
        """`new`: create the card (fails if the code exists); else update it if unchanged since
        `read_at`. Each ledger activity is its own numbered document and journal entry."""
        if new:
            self.creates[cards.card_path(key)] = cards.card_to_doc(change.card)
        else:
            self.updates[cards.card_path(key)] = (cards.card_to_doc(change.card), read_at)
        for activity in change.activities:
            doc = cards.activity_to_doc(change.card, activity, self.actor)
            self.sequenced[cards.activity_path(key, activity.n)] = doc
            self.events.append(cards.journal_event(change.card, activity))

    def event_seen(self, provider: str, event_id: str, record: dict[str, Any]) -> None:
        """Created once per provider event: a second delivery finds it and changes nothing."""
        self.creates[repo.event_path(provider, event_id)] = record

    def payout(self, payout: dict[str, Any]) -> None:
        """Created once: a second event about the same payout finds it."""
        self.creates[payout_path(payout["provider"], payout["payout_id"])] = payout

    def passkey(self, store_id: str, doc: dict[str, Any]) -> None:
        self.sets[passkey_path(store_id)] = doc

    def new_api_key(self, key_hash: str, doc: dict[str, Any]) -> None:
        self.creates[api_key_path(key_hash)] = doc

    def api_key_revoked(self, key_hash: str, revoked_at: Any, read_at: Any) -> None:
        self.updates[api_key_path(key_hash)] = ({"revoked_at": revoked_at}, read_at)

    def accounting(self, store_id: str, doc: dict[str, Any]) -> None:
        self.sets[accounting_path(store_id)] = doc

    def new_closing(self, closing: dict[str, Any]) -> None:
        self.creates[closing_path(closing["store_id"], closing["z_number"])] = closing

    def new_statement(self, statement: dict[str, Any]) -> None:
        self.creates[statement_path(statement["store_id"], statement["id"])] = statement

    def new_activation(self, activation: dict[str, Any]) -> None:
        self.creates[cards.activation_path(activation["id"])] = activation

    def activation_done(self, activation_id: str) -> None:
        self.updates[cards.activation_path(activation_id)] = ({"status": "done"}, None)

    def chunk_done(self, activation_id: str, index: int, marker: dict[str, Any]) -> None:
        self.creates[cards.chunk_path(activation_id, index)] = marker

    def commit_to(self, docs: Documents) -> None:
        """For writes that carry no journal entry (a webhook event only acknowledged, a block
        activation finished): one batch, without the unit of work. Raises Conflict."""
        batch = docs.batch()
        for path, data in self.creates.items():
            batch.create(path, data)
        for path, data in self.sets.items():
            batch.set(path, data)
        for path, (data, read_at) in self.updates.items():
            batch.update(path, data, read_at)
        batch.commit()
