"""Gift-card use cases on one card: sell, load, redeem, authorize, deactivate, reactivate,
transfer, inquire, and the holder's balance inquiry.

Every change reads the card inside the store writer's attempt, decides (domain/giftcards.py) and
commits the card, its new ledger documents and their journal entries atomically, guarded by the
card's update time: concurrent changes to one card are applied one after another, never lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ..adapters import giftcard_store as cards
from ..adapters.backend import Backend
from ..adapters.clock import new_id
from ..adapters.giftcard_store import Found
from ..adapters.rate_limits import Limit, hit
from .unit_of_work import AlreadyWritten, Claims, Plan
from .unit_of_work import Writes
from ..domain import giftcards as gc
from ..domain.catalog import Store
from ..domain.errors import DomainError
from ..domain.giftcards import CardResult
from .orders import catalog_or_404

BALANCE_LIMITS = (
    Limit("balance-address", 20, timedelta(minutes=1)),
    Limit("balance-code", 5, timedelta(minutes=15)),
)


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def not_found() -> DomainError:
    return DomainError("giftcard_not_found", "No gift card with this code.")


def lookup(backend: Backend, raw_code: str) -> Found:
    """The card as read now; unknown and malformed codes get the same 404 (after the same read)."""
    key, card, read_at = cards.find_card(backend.docs, raw_code)
    if card is None:
        raise not_found()
    return Found(key, card, read_at)


def change_card(
    backend: Backend,
    found: Found,
    decide: Callable[[gc.Card], gc.CardChange],
    actor: Mapping[str, Any],
    respond: Callable[[gc.CardChange], Any] = lambda change: change,
) -> Any:
    now = backend.now()
    reads = _reads_from(backend, found)

    def build(claims: Claims) -> Plan:
        card, read_at = next(reads)
        change = decide(card)
        writes = Writes(dict(actor))
        writes.card(found.key, change, read_at)
        return _plan(respond(change), now, writes)

    return backend.commit(found.card.store_id, build).result


def _reads_from(backend: Backend, found: Found):
    """The version found first, then a fresh read for every further attempt (the precondition on
    its update time tells whether it is still current)."""
    yield found.card, found.read_at
    while True:
        yield cards.read_card(backend.docs, found.key)


def _plan(result: Any, now: datetime, writes: Writes) -> Plan:
    return Plan(result, now, writes.actor, writes.events, writes)


def new_card_code() -> tuple[str, str]:
    code = gc.new_code()
    return code, cards.keyed_hash(code)


def issue_card(backend: Backend, store_id: str, amount: int, actor: Mapping[str, Any]) -> CardResult:
    """Sell a card at the counter: active at once with `amount`. The create-only write makes the
    code unique; a fresh code colliding with an existing one (odds 1 : 10^23) is drawn again."""
    store, _ = catalog_or_404(backend, store_id)
    while True:
        code, hashed = new_card_code()
        try:
            return backend.commit(store.id, _issue(backend, store, code, amount, actor)).result
        except AlreadyWritten as written:
            if written.path != cards.card_path(hashed):
                raise


def _issue(backend: Backend, store: Store, code: str, amount: int, actor: Mapping[str, Any]):
    now = backend.now()

    def build(claims: Claims) -> Plan:
        change = gc.issue(new_id("gc_"), store.id, code[-4:], store.currency, store.timezone, amount, now)
        writes = Writes(dict(actor))
        writes.card(cards.keyed_hash(code), change, None, new=True)
        return _plan(CardResult(change.card, now, code=code), now, writes)

    return build


def load_card(backend: Backend, raw_code: str, amount: int, auth_code: str | None, authorized):
    """Add value; with `auth_code`, the value a load authorization approved."""
    return operate(backend, raw_code, authorized, lambda card, now: gc.load(card, amount, now, auth_code))


def redeem_card(backend: Backend, raw_code: str, amount: int, auth_code: str | None, authorized):
    """Spend from the card; with `auth_code`, capture what a redeem authorization holds."""
    return operate(backend, raw_code, authorized, lambda card, now: gc.redeem(card, amount, now, auth_code))


def authorize_card(backend: Backend, raw_code: str, kind: str, amount: int, authorized):
    """Hold an amount (redeem) or approve a load for 7 days, under a new auth code."""
    return operate(backend, raw_code, authorized, lambda card, now: gc.authorize(card, kind, amount, now))


def deactivate_card(backend: Backend, raw_code: str, reason: str, authorized) -> CardResult:
    return operate(backend, raw_code, authorized, lambda card, now: gc.deactivate(card, reason, now))


def reactivate_card(backend: Backend, raw_code: str, authorized) -> CardResult:
    return operate(backend, raw_code, authorized, gc.reactivate)


def operate(
    backend: Backend,
    raw_code: str,
    authorized: Callable[[str], Mapping[str, Any]],
    decide: Callable[[gc.Card, datetime], gc.CardChange],
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
        respond=lambda change: CardResult(change.card, now, auth_code=_authorized_code(change)),
    )


def _authorized_code(change: gc.CardChange) -> str | None:
    return next((a.auth_code for a in change.activities if a.type == "authorize"), None)


def transfer_card(backend: Backend, raw_code: str, authorized) -> tuple[CardResult, CardResult]:
    """Move the whole balance onto a new card; the old one is deactivated, both name each other."""
    found = lookup(backend, raw_code)
    actor = authorized(found.card.store_id)
    store, _ = catalog_or_404(backend, found.card.store_id)
    now = backend.now()
    code, new_hashed = new_card_code()
    reads = _reads_from(backend, found)

    def build(claims: Claims) -> Plan:
        old, read_at = next(reads)
        fresh = cards.new_pending_card(store, code, now)
        out, incoming = gc.transfer(old, fresh, now)
        writes = Writes(dict(actor))
        writes.card(found.key, out, read_at)
        writes.card(new_hashed, incoming, None, new=True)
        return _plan((CardResult(out.card, now), CardResult(incoming.card, now, code=code)), now, writes)

    return backend.commit(store.id, build).result


def card_details(backend: Backend, raw_code: str, authorized) -> CardResult:
    found = lookup(backend, raw_code)
    authorized(found.card.store_id)
    return CardResult(found.card, backend.now(), activities=tuple(cards.latest_activities(backend.docs, found.key)))


def public_balance(backend: Backend, raw_code: str, client_address: str) -> CardResult:
    """Rate limited per client address and per code, before anything is looked up."""
    now = backend.now()
    code = gc.normalize_code(raw_code) or raw_code.strip().upper()
    per_address, per_code = BALANCE_LIMITS
    # keyed hashes: neither addresses (personal data) nor codes are stored in the clear
    wait = hit(
        backend.docs,
        [(per_address, cards.keyed_hash(f"address:{client_address}")[:32]), (per_code, cards.keyed_hash(code)[:32])],
        now,
    )
    if wait:
        raise RateLimited(wait)
    return CardResult(lookup(backend, raw_code).card, now)
