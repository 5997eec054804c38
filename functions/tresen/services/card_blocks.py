"""Block activations: up to 10 000 cards sold at once, activated in chunks of 100.

Each chunk's cards and its marker are committed atomically, so a block interrupted anywhere (an
instance stopped, a crash) is resumed exactly where it stood by `run_block` — from the API's
background thread, `tresen sweep`, `tresen giftcard-block --resume` or the jobs endpoint.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters import giftcard_store as cards
from ..adapters.backend import Backend
from ..adapters.clock import new_id, rfc3339
from .unit_of_work import AlreadyWritten, Claims, Plan
from .unit_of_work import Writes
from ..domain import giftcards as gc
from ..domain.catalog import Store
from ..domain.errors import DomainError
from ..domain.journal import JournalEvent
from .csv_export import csv_document
from .orders import catalog_or_404

log = logging.getLogger(__name__)
CHUNK_SIZE = 100
CODES_HEADER = ("number", "code", "amount", "currency", "expires_at")


def block_code(seed: str, index: int) -> str:
    """Card `index` of a block, derived from the block's random seed: a resumed chunk recreates
    exactly the same cards, and the codes CSV can be produced again later."""
    return cards.derived_code(f"block:{seed}:{index}")


OnChunk = Callable[[str, int, int, dict[str, Any]], None]  # (activation id, index, chunks, marker)


def start_block(
    backend: Backend,
    store_id: str,
    amount: int,
    count: int,
    actor: Mapping[str, Any],
    background: bool = True,
    on_chunk: OnChunk | None = None,
) -> str:
    """Record the activation, then process its chunks: in a background thread (the API answers
    202 at once), or with `background=False` here and now (the CLI), reporting each to `on_chunk`."""
    store, _ = catalog_or_404(backend, store_id)
    gc.check_amount(amount)
    now = backend.now()
    activation_id = new_id("gca_")
    activation = {
        "id": activation_id,
        "store_id": store.id,
        "amount": amount,
        "count": count,
        "chunks": math.ceil(count / CHUNK_SIZE),
        "seed": secrets.token_hex(32),
        "status": "running",
        "created_at": now,
        "actor": dict(actor),
    }
    event = JournalEvent("giftcard.block_started", {"activation_id": activation_id, "amount": amount, "count": count})

    def build(claims: Claims) -> Plan:
        writes = Writes(dict(actor))
        writes.new_activation(activation)
        return Plan(activation_id, now, actor, [event], writes)

    backend.commit(store.id, build)
    if not background:
        run_block(backend, activation_id, on_chunk)
        return activation_id
    threading.Thread(
        target=run_block, args=(backend, activation_id), name=f"block-{activation_id}", daemon=True
    ).start()
    return activation_id


_running: set[str] = set()
_running_guard = threading.Lock()


def run_block(backend: Backend, activation_id: str, on_chunk: OnChunk | None = None) -> None:
    """Activate every chunk not yet done; safe to run again at any time (a crash, the sweeper)."""
    with _running_guard:
        if activation_id in _running:
            return
        _running.add(activation_id)
    try:
        activation = cards.read_activation(backend.docs, activation_id)
        store, _ = catalog_or_404(backend, activation["store_id"])
        done = cards.chunks_done(backend.docs, activation_id)
        for index in range(activation["chunks"]):
            if index not in done:
                marker = _activate_chunk(backend, store, activation, index)
                if on_chunk:
                    on_chunk(activation_id, index, activation["chunks"], marker)
                log.info("block %s: chunk %d of %d activated", activation_id, index + 1, activation["chunks"])
        finished = Writes({"type": "system", "job": "giftcard_block"})
        finished.activation_done(activation_id)
        backend.commit_writes(finished)
    finally:
        with _running_guard:
            _running.discard(activation_id)


def resume_blocks(backend: Backend, on_chunk: OnChunk | None = None) -> int:
    running = cards.running_activations(backend.docs)
    for activation_id in running:
        run_block(backend, activation_id, on_chunk)
    return len(running)


def _activate_chunk(backend: Backend, store: Store, activation: dict[str, Any], index: int) -> dict[str, Any]:
    """Commit the chunk's cards with its marker; returns the marker (an earlier one if done before)."""
    activation_id = activation["id"]
    first = index * CHUNK_SIZE
    members = range(first, min(first + CHUNK_SIZE, activation["count"]))
    hashes = {cards.keyed_hash(block_code(activation["seed"], i)): i for i in members}
    failed: list[int] = []
    actor = {"type": "system", "job": "giftcard_block", "activation_id": activation_id}
    now = backend.now()

    def build(claims: Claims) -> Plan:
        return chunk_plan(store, activation, index, hashes, failed, actor, now)

    while True:
        try:
            return backend.commit(store.id, build).result
        except AlreadyWritten as written:
            # Which existing document a failed batch names is not ours to choose (the emulator names
            # the first in batch order: a card), so ask the marker whether the chunk is done.
            earlier = cards.chunk_marker(backend.docs, activation_id, index)
            if earlier:
                return earlier  # done before (a crash, another runner): cards and marker are atomic
            member = hashes.get(written.path.removeprefix("giftcards/"))
            if member is None:
                raise
            log.warning("block %s: card %d collides with an existing code; left out", activation_id, member)
            failed.append(member)


def chunk_plan(
    store: Store,
    activation: dict[str, Any],
    index: int,
    hashes: dict[str, int],
    failed: list[int],
    actor: dict[str, Any],
    now: datetime,
) -> Plan:
    """The chunk's cards (all but those whose code collided), its marker, and one journal entry
    listing every card it activated."""
    activation_id, amount = activation["id"], activation["amount"]
    writes = Writes(actor)
    activated = []
    for hashed, member in hashes.items():
        if member in failed:
            continue
        code = block_code(activation["seed"], member)
        card_id = f"gc_{activation_id[4:]}_{member:05d}"
        change = gc.issue(card_id, store.id, code[-4:], store.currency, store.timezone, amount, now)
        writes.card(hashed, change, None, new=True)
        activated.append({"card_id": card_id, "last4": code[-4:]})
    marker = {"index": index, "activated": len(activated), "failed": len(failed), "failed_members": failed, "at": now}
    event = JournalEvent(
        "giftcard.block_chunk_activated",
        {"activation_id": activation_id, "chunk": index, "amount": amount, "cards": activated},
    )
    writes.chunk_done(activation_id, index, marker)
    return Plan(marker, now, actor, [event], writes)  # one entry for the chunk, not one per card


@dataclass(frozen=True)
class BlockStatus:
    id: str
    status: str
    total: int
    activated: int
    failed: int
    chunks: list[dict[str, Any]]


def block_status(backend: Backend, activation_id: str, authorized) -> BlockStatus:
    activation = _activation(backend, activation_id, authorized)
    done = cards.chunks_done(backend.docs, activation_id)
    chunks = [
        {"index": i, "status": "done", "activated": done[i]["activated"], "failed": done[i]["failed"]}
        if i in done
        else {"index": i, "status": "pending", "activated": 0, "failed": 0}
        for i in range(activation["chunks"])
    ]
    return BlockStatus(
        activation_id,
        "done" if len(done) == activation["chunks"] else "running",
        activation["count"],
        sum(c["activated"] for c in chunks),
        sum(c["failed"] for c in chunks),
        chunks,
    )


def block_codes_csv(backend: Backend, activation_id: str, authorized) -> str:
    """Every activated code of the block so far, in member order."""
    activation = _activation(backend, activation_id, authorized)
    store, _ = catalog_or_404(backend, activation["store_id"])
    expires = rfc3339(gc.expiry_for(activation["created_at"], store.timezone))
    rows = []
    for index, chunk in sorted(cards.chunks_done(backend.docs, activation_id).items()):
        first = index * CHUNK_SIZE
        for member in range(first, min(first + CHUNK_SIZE, activation["count"])):
            if member not in chunk["failed_members"]:
                code = gc.display_code(block_code(activation["seed"], member))
                rows.append((member + 1, code, activation["amount"], store.currency, expires))
    return csv_document(CODES_HEADER, rows)


def _activation(backend: Backend, activation_id: str, authorized) -> dict[str, Any]:
    activation = cards.read_activation(backend.docs, activation_id)
    if activation is None:
        raise DomainError("not_found", "No such block activation.")
    authorized(activation["store_id"])
    return activation
