"""Where each named write of a use case lives, and what its document holds.

The use cases name their writes by what they are (services/unit_of_work.py `Writes`); this is the
one place that turns each into a document path and a document, and that tells the unit of work
which of them are create-only, numbered from a read, guarded by a version, or set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..services.documents import Batch
from ..services.unit_of_work import Write
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


def as_is(value: Any) -> dict[str, Any]:
    return dict(value)


@dataclass(frozen=True)
class Mapping:
    path: Callable[..., str]  # of the write's key
    document: Callable[[Any], dict[str, Any]]  # of the write's value


MAPPINGS: dict[str, Mapping] = {
    "new_order": Mapping(repo.order_path, lambda value: repo.order_to_doc(*value)),
    "order": Mapping(repo.order_path, repo.order_to_doc),
    "payment": Mapping(repo.payment_path, repo.payment_to_doc),
    "payment_amount": Mapping(repo.payment_path, lambda amount: {"amount": amount}),
    "refund": Mapping(repo.refund_path, repo.refund_to_doc),
    "refund_status": Mapping(
        repo.refund_path, lambda value: {"status": value[0], "provider_refund_id": value[1]}
    ),
    "card": Mapping(cards.card_path, cards.card_to_doc),
    "card_activity": Mapping(cards.activity_path, lambda value: cards.activity_to_doc(*value)),
    "event_seen": Mapping(repo.event_path, as_is),
    "payout": Mapping(payout_path, as_is),
    "passkey": Mapping(passkey_path, as_is),
    "api_key": Mapping(api_key_path, as_is),
    "api_key_revoked": Mapping(api_key_path, lambda revoked_at: {"revoked_at": revoked_at}),
    "accounting": Mapping(accounting_path, as_is),
    "closing": Mapping(closing_path, as_is),
    "statement": Mapping(statement_path, as_is),
    "activation": Mapping(cards.activation_path, as_is),
    "activation_done": Mapping(cards.activation_path, lambda _: {"status": "done"}),
    "activation_chunk": Mapping(cards.chunk_path, as_is),
}


@dataclass(frozen=True)
class Placed:
    """A write as a document: where, what, and how it is guarded."""

    kind: str
    path: str
    data: dict[str, Any]
    read_at: Any = None


def placed(write: Write) -> Placed:
    mapping = MAPPINGS[write.record]
    return Placed(write.kind, mapping.path(*write.key), mapping.document(write.value), write.read_at)


def add_to(batch: Batch, write: Placed) -> None:
    if write.kind in ("create", "sequenced"):
        batch.create(write.path, write.data)
    elif write.kind == "set":
        batch.set(write.path, write.data)
    else:
        batch.update(write.path, write.data, write.read_at)
