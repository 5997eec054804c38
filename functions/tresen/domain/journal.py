"""The journal: an append-only, hash-chained log of business events per store.

Each entry's `hash` is SHA-256 over the RFC 8785 canonical JSON of the entry without `hash`, and
each entry names the previous entry's hash, so changing, removing or reordering any entry breaks
every hash after it. Personal data enters only as a keyed hash (HMAC-SHA256 with a per-store key):
erasing a customer means dropping the key material, not rewriting the chain.

Every event type and its payload is declared in events.py: an entry is made only of a declared
type whose payload validates, and it carries `v` when its type is past version 1.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785

from .events import Payload, checked

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class JournalEvent:
    """What a use case wants journaled; seq, time and chain are added when it is appended."""

    type: str
    data: Mapping[str, Any]

    @classmethod
    def of(cls, payload: Payload) -> JournalEvent:
        return cls(payload.TYPE, payload.as_data())


# The platform's own journal (its licence billing), kept and verified like a store's: origin
# `tresen/<project>/platform`. No store may take this id.
PLATFORM_JOURNAL = "platform"


def rfc3339(moment: datetime) -> str:
    """A moment as the journal writes it: RFC 3339 to the second, with its offset."""
    return moment.isoformat(timespec="seconds")


def entry_hash(entry_without_hash: Mapping[str, Any]) -> str:
    return hashlib.sha256(rfc8785.dumps(dict(entry_without_hash))).hexdigest()


def make_entry(
    *, store_id: str, seq: int, event: JournalEvent, at: str, actor: Mapping[str, Any], prev_hash: str
) -> dict[str, Any]:
    """The entry of `event`; raises UndeclaredEvent or InvalidPayload (events.py) for an event the
    journal does not take."""
    version = checked(event.type, event.data)
    entry = {"store_id": store_id, "seq": seq, "type": event.type}
    if version > 1:  # version 1 has no `v`: entries written before versions keep their bytes
        entry["v"] = version
    entry |= {"at": at, "actor": dict(actor), "data": dict(event.data), "prev_hash": prev_hash}
    entry["hash"] = entry_hash(entry)
    return entry


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(dict(entry))


def first_chain_break(entries: Iterable[Mapping[str, Any]]) -> tuple[int, str] | None:
    """(seq, reason) of the first entry that breaks the chain, or None if it is whole from seq 1."""
    expected_seq, prev = 1, GENESIS_HASH
    for entry in entries:
        seq = entry.get("seq")
        if seq != expected_seq:
            return expected_seq, f"missing or out of order (found seq {seq})"
        if entry.get("prev_hash") != prev:
            return expected_seq, "prev_hash does not match the previous entry"
        body = {k: v for k, v in entry.items() if k != "hash"}
        if entry_hash(body) != entry.get("hash"):
            return expected_seq, "hash does not match the entry's content"
        prev, expected_seq = entry["hash"], expected_seq + 1
    return None


def pseudonym(key: bytes, value: str) -> str:
    """Keyed hash of a personal datum, normalised so the same person maps to the same value."""
    return hmac.new(key, value.strip().casefold().encode(), hashlib.sha256).hexdigest()
