"""Gift-card use cases: sell, load, redeem, authorize, block, transfer, inquire; the expiry job.

Every change reads the card inside the store writer's attempt, decides (domain/giftcards.py) and
commits the card, its new ledger documents and their journal entries atomically, guarded by the
card's update time: concurrent changes to one card are applied one after another, never lost.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..adapters import giftcard_store as cards
from ..adapters.backend import Backend
from ..adapters.clock import new_id, rfc3339
from ..adapters.giftcard_store import Found
from ..adapters.rate_limits import Limit, hit
from ..adapters.store_writer import AlreadyWritten, Claims, Plan
from ..domain import giftcards as gc
from ..domain.catalog import Store
from ..domain.errors import DomainError
from ..domain.giftcards import CardResult
from ..domain.journal import JournalEvent
from .orders import catalog_or_404

log = logging.getLogger(__name__)
CHUNK_SIZE = 100
BALANCE_LIMITS = (
    Limit("balance-address", 20, timedelta(minutes=1)),
    Limit("balance-code", 5, timedelta(minutes=15)),
)
Hooks = list[Callable[[Any, Any], None]]


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def not_found() -> DomainError:
    return DomainError("giftcard_not_found", "No gift card with this code.")


def lookup(backend: Backend, raw_code: str) -> Found:
    """The card as read now; unknown and malformed codes get the same 404 (after the same read)."""
    code = gc.normalize_code(raw_code)
    key = cards.keyed_hash(code or raw_code)
    card, read_at = cards.read_card(backend.db, key)
    if code is None or card is None:
        raise not_found()
    return Found(key, card, read_at)


def change_card(
    backend: Backend,
    found: Found,
    decide: Callable[[gc.Card], gc.CardChange],
    actor: Mapping[str, Any],
    before_commit: Hooks,
    respond: Callable[[gc.CardChange], Any] = lambda change: change,
) -> Any:
    now = backend.now()
    reads = _reads_from(backend, found)

    def build(claims: Claims) -> Plan:
        card, read_at = next(reads)
        change = decide(card)
        writes = cards.CardWrites(dict(actor))
        writes.add(found.key, change, read_at)
        return _plan(respond(change), now, writes)

    return backend.writer.commit(found.card.store_id, build, before_commit).result


def _reads_from(backend: Backend, found: Found):
    """The version found first, then a fresh read for every further attempt (the precondition on
    its update time tells whether it is still current)."""
    yield found.card, found.read_at
    while True:
        yield cards.read_card(backend.db, found.key)


def _plan(result: Any, now: datetime, writes: cards.CardWrites) -> Plan:
    return Plan(
        result=result,
        at=now,
        actor=writes.actor,
        events=writes.events,
        creates=writes.creates,
        sequenced=writes.sequenced,
        updates=writes.updates,
    )


def new_card_code() -> tuple[str, str]:
    code = gc.new_code()
    return code, cards.keyed_hash(code)


def issue_card(
    backend: Backend, store_id: str, amount: int, actor: Mapping[str, Any], before_commit: Hooks
) -> CardResult:
    """Sell a card at the counter: active at once with `amount`. The create-only write makes the
    code unique; a fresh code colliding with an existing one (odds 1 : 10^23) is drawn again."""
    store, _ = catalog_or_404(backend, store_id)
    while True:
        code, hashed = new_card_code()
        try:
            return backend.writer.commit(store.id, _issue(backend, store, code, amount, actor), before_commit).result
        except AlreadyWritten as written:
            if written.path != cards.card_path(hashed):
                raise


def _issue(backend: Backend, store: Store, code: str, amount: int, actor: Mapping[str, Any]):
    now = backend.now()

    def build(claims: Claims) -> Plan:
        change = gc.issue(new_id("gc_"), store.id, code[-4:], store.currency, store.timezone, amount, now)
        writes = cards.CardWrites(dict(actor))
        writes.add(cards.keyed_hash(code), change, None, new=True)
        return _plan(CardResult(change.card, now, code=code), now, writes)

    return build


def operate(
    backend: Backend,
    raw_code: str,
    authorized: Callable[[str], Mapping[str, Any]],
    decide: Callable[[gc.Card, datetime], gc.CardChange],
    before_commit: Hooks,
) -> CardResult:
    """Find the card, let `authorized(store_id)` return the actor (or refuse), apply `decide`."""
    found = lookup(backend, raw_code)
    actor = authorized(found.card.store_id)
    now = backend.now()
    return change_card(
        backend,
        found,
        lambda current: decide(current, now),
        actor,
        before_commit,
        respond=lambda change: CardResult(change.card, now, auth_code=_authorized_code(change)),
    )


def _authorized_code(change: gc.CardChange) -> str | None:
    return next((a.auth_code for a in change.activities if a.type == "authorize"), None)


def transfer(backend: Backend, raw_code: str, authorized, before_commit: Hooks) -> tuple[CardResult, CardResult]:
    """Move the whole balance onto a new card; the old one is deactivated, both name each other."""
    found = lookup(backend, raw_code)
    actor = authorized(found.card.store_id)
    store, _ = catalog_or_404(backend, found.card.store_id)
    now = backend.now()
    code, new_hashed = new_card_code()
    reads = _reads_from(backend, found)

    def build(claims: Claims) -> Plan:
        old, read_at = next(reads)
        fresh = gc.pending_card(new_id("gc_"), store.id, code[-4:], store.currency, store.timezone, now)
        out, incoming = gc.transfer(old, fresh, now)
        writes = cards.CardWrites(dict(actor))
        writes.add(found.key, out, read_at)
        writes.add(new_hashed, incoming, None, new=True)
        return _plan((CardResult(out.card, now), CardResult(incoming.card, now, code=code)), now, writes)

    return backend.writer.commit(store.id, build, before_commit).result


def details(backend: Backend, raw_code: str, authorized) -> CardResult:
    found = lookup(backend, raw_code)
    authorized(found.card.store_id)
    return CardResult(found.card, backend.now(), activities=tuple(cards.latest_activities(backend.db, found.key)))


def public_balance(backend: Backend, raw_code: str, client_address: str) -> CardResult:
    """Rate limited per client address and per code, before anything is looked up."""
    now = backend.now()
    code = gc.normalize_code(raw_code) or raw_code.strip().upper()
    per_address, per_code = BALANCE_LIMITS
    # keyed hashes: neither addresses (personal data) nor codes are stored in the clear
    wait = hit(
        backend.db,
        [(per_address, cards.keyed_hash(f"address:{client_address}")[:32]), (per_code, cards.keyed_hash(code)[:32])],
        now,
    )
    if wait:
        raise RateLimited(wait)
    return CardResult(lookup(backend, raw_code).card, now)


# --- block activation --------------------------------------------------------------------------


def activation_path(activation_id: str) -> str:
    return f"giftcard_activations/{activation_id}"


def chunk_path(activation_id: str, index: int) -> str:
    return f"giftcard_activations/{activation_id}/chunks/{index:05d}"


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
    before_commit: Hooks,
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
        return Plan(activation_id, now, actor, [event], creates={activation_path(activation_id): activation})

    backend.writer.commit(store.id, build, before_commit)
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
        activation = backend.db.document(activation_path(activation_id)).get().to_dict()
        store, _ = catalog_or_404(backend, activation["store_id"])
        done = _chunks_done(backend, activation_id)
        for index in range(activation["chunks"]):
            if index not in done:
                marker = _activate_chunk(backend, store, activation, index)
                if on_chunk:
                    on_chunk(activation_id, index, activation["chunks"], marker)
                log.info("block %s: chunk %d of %d activated", activation_id, index + 1, activation["chunks"])
        backend.db.document(activation_path(activation_id)).update({"status": "done"})
    finally:
        with _running_guard:
            _running.discard(activation_id)


def resume_blocks(backend: Backend, on_chunk: OnChunk | None = None) -> int:
    from google.cloud.firestore import FieldFilter

    running = backend.db.collection("giftcard_activations").where(filter=FieldFilter("status", "==", "running")).get()
    for snapshot in running:
        run_block(backend, snapshot.id, on_chunk)
    return len(running)


def _chunks_done(backend: Backend, activation_id: str) -> dict[int, dict[str, Any]]:
    chunks = backend.db.collection(f"{activation_path(activation_id)}/chunks").stream()
    return {s.get("index"): s.to_dict() for s in chunks}


def _activate_chunk(backend: Backend, store: Store, activation: dict[str, Any], index: int) -> dict[str, Any]:
    """Commit the chunk's cards with its marker; returns the marker (an earlier one if done before)."""
    activation_id, amount = activation["id"], activation["amount"]
    first = index * CHUNK_SIZE
    members = range(first, min(first + CHUNK_SIZE, activation["count"]))
    hashes = {cards.keyed_hash(block_code(activation["seed"], i)): i for i in members}
    failed: list[int] = []
    actor = {"type": "system", "job": "giftcard_block", "activation_id": activation_id}
    now = backend.now()
    built: dict[str, dict[str, Any]] = {}

    def build(claims: Claims) -> Plan:
        writes = cards.CardWrites(actor)
        activated = []
        for hashed, member in hashes.items():
            if member in failed:
                continue
            code = block_code(activation["seed"], member)
            card_id = f"gc_{activation_id[4:]}_{member:05d}"
            change = gc.issue(card_id, store.id, code[-4:], store.currency, store.timezone, amount, now)
            writes.add(hashed, change, None, new=True)
            activated.append({"card_id": card_id, "last4": code[-4:]})
        marker = {
            "index": index,
            "activated": len(activated),
            "failed": len(failed),
            "failed_members": failed,
            "at": now,
        }
        built["marker"] = marker
        event = JournalEvent(
            "giftcard.block_chunk_activated",
            {"activation_id": activation_id, "chunk": index, "amount": amount, "cards": activated},
        )
        return Plan(
            None,
            now,
            actor,
            [event],  # one entry for the chunk's activations (it lists every card)
            creates=writes.creates | {chunk_path(activation_id, index): marker},
            sequenced=writes.sequenced,
        )

    while True:
        try:
            backend.writer.commit(store.id, build)
            return built["marker"]
        except AlreadyWritten as written:
            # Which existing document a failed batch names is not ours to choose (the emulator names
            # the first in batch order: a card), so ask the marker whether the chunk is done.
            earlier = backend.db.document(chunk_path(activation_id, index)).get()
            if earlier.exists:
                return earlier.to_dict()  # done before (a crash, another runner): cards and marker are atomic
            member = hashes.get(written.path.removeprefix("giftcards/"))
            if member is None:
                raise
            log.warning("block %s: card %d collides with an existing code; left out", activation_id, member)
            failed.append(member)


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
    done = _chunks_done(backend, activation_id)
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
    """Every activated code of the block so far (a header line first), in member order."""
    activation = _activation(backend, activation_id, authorized)
    store, _ = catalog_or_404(backend, activation["store_id"])
    expires = rfc3339(gc.expiry_for(activation["created_at"], store.timezone))
    rows = ["number,code,amount,currency,expires_at"]
    for index, chunk in sorted(_chunks_done(backend, activation_id).items()):
        first = index * CHUNK_SIZE
        for member in range(first, min(first + CHUNK_SIZE, activation["count"])):
            if member not in chunk["failed_members"]:
                code = gc.display_code(block_code(activation["seed"], member))
                rows.append(f"{member + 1},{code},{activation['amount']},{store.currency},{expires}")
    return "\r\n".join(rows) + "\r\n"


def _activation(backend: Backend, activation_id: str, authorized) -> dict[str, Any]:
    snapshot = backend.db.document(activation_path(activation_id)).get() if activation_id.isascii() else None
    if snapshot is None or not snapshot.exists:
        raise DomainError("not_found", "No such block activation.")
    authorized(snapshot.get("store_id"))
    return snapshot.to_dict()


# --- the expiry job ----------------------------------------------------------------------------

SCHEDULER = {"type": "system", "job": "giftcards"}


def expire_giftcards(backend: Backend, limit: int = 500) -> dict[str, int]:
    """Release holds past their 7 days, and mark cards past their validity expired."""
    now = backend.now()
    released = expired = 0
    for found in cards.due_cards(backend.db, now, limit):
        change = change_card(backend, found, lambda c: gc.release_due(c, now), SCHEDULER, [])
        released += sum(a.type == "release" for a in change.activities)
    for found in cards.expired_cards(backend.db, now, limit):
        change = change_card(backend, found, lambda c: gc.expire(c, now), SCHEDULER, [])
        expired += bool(change.activities)
    return {"holds_released": released, "cards_expired": expired}
