"""Block activations: up to 10 000 cards sold at once, activated in chunks of 100
(domain/card_blocks.py).

Each chunk's cards and its marker are committed atomically, so a block interrupted anywhere (an
instance stopped, a crash) is resumed exactly where it stood by `run_block` — from the API's
background thread, `tresen sweep`, `tresen giftcard-block --resume` or the jobs endpoint.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import giftcards as gc
from ..domain.card_blocks import ACTIVATION_PREFIX, BlockActivation, BlockStatus, ChunkDone, progress_of
from ..domain.catalog import Store
from ..domain.errors import DomainError
from ..domain.events import BlockCard, CardBlockChunkActivated, CardBlockStarted
from ..domain.journal import JournalEvent
from .card_ports import CardUnitOfWork
from .csv_export import csv_document
from .order_ports import catalog_or_404
from .unit_of_work import AlreadyWritten, Claims, Plan, Writes

log = logging.getLogger(__name__)
CODES_HEADER = ("number", "code", "amount", "currency", "expires_at")

OnChunk = Callable[[str, int, int, ChunkDone], None]  # (activation id, index, chunks, the chunk's marker)
SameStore = Callable[[str], None]  # raises unless the activation's store is the one asked about
Members = dict[int, tuple[str, str]]  # member → (its code, the key its card is stored under)


@dataclass(frozen=True)
class StartBlock:
    """Sell `count` cards of `amount` each at once."""

    store_id: str
    amount: int
    count: int
    actor: Mapping[str, Any]


def start_block(command: StartBlock, uow: CardUnitOfWork) -> str:
    """Record the activation and journal its start; its id. The chunks are activated by
    `run_block`: in the background (`run_in_background`, the API answers 202 at once) or here
    and now (the command line)."""
    store, _ = catalog_or_404(uow, command.store_id)
    gc.check_amount(command.amount)
    now = uow.now()
    activation = BlockActivation(
        id=uow.new_id(ACTIVATION_PREFIX),
        store_id=store.id,
        amount=command.amount,
        count=command.count,
        seed=uow.new_secret_token(),
        created_at=now,
        actor=dict(command.actor),
    )
    started = CardBlockStarted(activation_id=activation.id, amount=activation.amount, count=activation.count)

    def build(claims: Claims) -> Plan[str]:
        writes = Writes(command.actor)
        writes.new_activation(activation)
        return Plan(activation.id, now, command.actor, [JournalEvent.of(started)], writes)

    return uow.commit(store.id, build).result


def run_in_background(activation_id: str, uow: CardUnitOfWork) -> None:
    threading.Thread(target=run_block, args=(activation_id, uow), name=f"block-{activation_id}", daemon=True).start()


_running: set[str] = set()
_running_guard = threading.Lock()


def run_block(activation_id: str, uow: CardUnitOfWork, on_chunk: OnChunk | None = None) -> None:
    """Activate every chunk not yet done; safe to run again at any time (a crash, the sweeper)."""
    with _running_guard:
        if activation_id in _running:
            return
        _running.add(activation_id)
    try:
        activation = uow.card_activations.read(activation_id)
        store, _ = catalog_or_404(uow, activation.store_id)
        done = uow.card_activations.chunks_done(activation_id)
        for index in range(activation.chunks):
            if index not in done:
                chunk = activate_chunk(uow, store, activation, index)
                if on_chunk:
                    on_chunk(activation_id, index, activation.chunks, chunk)
                log.info("block %s: chunk %d of %d activated", activation_id, index + 1, activation.chunks)
        finished = Writes(block_actor(activation_id))
        finished.activation_done(activation_id)
        uow.commit_writes(finished)
    finally:
        with _running_guard:
            _running.discard(activation_id)


@dataclass(frozen=True)
class ResumeBlocks:
    """Run every block left running (its process stopped), reporting each chunk to `on_chunk`."""

    on_chunk: OnChunk | None = None


def resume_blocks(command: ResumeBlocks, uow: CardUnitOfWork) -> int:
    """How many blocks were left running."""
    running = uow.card_activations.running()
    for activation_id in running:
        run_block(activation_id, uow, command.on_chunk)
    return len(running)


def block_actor(activation_id: str) -> dict[str, Any]:
    return {"type": "system", "job": "giftcard_block", "activation_id": activation_id}


def activate_chunk(uow: CardUnitOfWork, store: Store, activation: BlockActivation, index: int) -> ChunkDone:
    """Commit the chunk's cards with its marker; returns the marker (an earlier one if done before)."""
    members: Members = {}
    for member in activation.members(index):
        code = uow.cards.derived_code(activation.code_label(member))
        members[member] = (code, uow.cards.key_of(code))
    now = uow.now()

    def build(claims: Claims) -> Plan[ChunkDone]:
        return chunk_plan(store, activation, index, members, now)

    while True:
        try:
            return uow.commit(store.id, build).result
        except AlreadyWritten:
            # Which existing record a failed batch names is not ours to choose (the emulator names
            # the first in batch order: a card), so ask the marker whether the chunk is done.
            earlier = uow.card_activations.chunk_done(activation.id, index)
            if earlier:
                return earlier  # done before (a crash, another runner): cards and marker are atomic
            taken = uow.cards.existing(key for _, key in members.values())
            collided = [member for member, (_, key) in members.items() if key in taken]
            if not collided:
                raise
            for member in collided:
                log.warning("block %s: card %d collides with an existing code; left out", activation.id, member)
                del members[member]


def chunk_plan(store: Store, activation: BlockActivation, index: int, members: Members, now: datetime) -> Plan:
    """The chunk's cards (those of `members`: the others' codes collided), its marker, and one
    journal entry listing every card it activated."""
    actor = block_actor(activation.id)
    writes = Writes(actor)
    activated = []
    for member, (code, key) in members.items():
        card_id = activation.card_id(member)
        change = gc.issue(card_id, store.id, code[-4:], store.currency, store.timezone, activation.amount, now)
        writes.card(key, change, None, new=True)
        activated.append(BlockCard(card_id=card_id, last4=code[-4:]))
    left_out = tuple(member for member in activation.members(index) if member not in members)
    chunk = ChunkDone(index, len(activated), left_out, now)
    writes.chunk_done(activation.id, chunk)
    event = CardBlockChunkActivated(activation_id=activation.id, chunk=index, amount=activation.amount, cards=activated)
    return Plan(chunk, now, actor, [JournalEvent.of(event)], writes)  # one entry for the chunk, not one per card


def block_status(uow: CardUnitOfWork, activation_id: str, authorized: SameStore) -> BlockStatus:
    activation = _activation(uow, activation_id, authorized)
    return progress_of(activation, uow.card_activations.chunks_done(activation_id))


def block_codes_csv(uow: CardUnitOfWork, activation_id: str, authorized: SameStore) -> str:
    """Every activated code of the block so far, in member order."""
    activation = _activation(uow, activation_id, authorized)
    store, _ = catalog_or_404(uow, activation.store_id)
    expires = gc.expiry_for(activation.created_at, store.timezone).isoformat(timespec="seconds")
    rows = []
    for index, chunk in sorted(uow.card_activations.chunks_done(activation_id).items()):
        for member in activation.members(index):
            if member not in chunk.failed_members:
                code = gc.display_code(uow.cards.derived_code(activation.code_label(member)))
                rows.append((member + 1, code, activation.amount, store.currency, expires))
    return csv_document(CODES_HEADER, rows)


def _activation(uow: CardUnitOfWork, activation_id: str, authorized: SameStore) -> BlockActivation:
    activation = uow.card_activations.read(activation_id)
    if activation is None:
        raise DomainError("not_found", "No such block activation.")
    authorized(activation.store_id)
    return activation
