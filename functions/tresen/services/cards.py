"""Gift-card use cases on one card: sell, load, redeem, authorize, deactivate, reactivate,
transfer, inquire, and the holder's balance inquiry.

A card is addressed by its code; the store that issued it is known only once it is found, so a
command carries `authorized`: given the card's store, it answers the journal's actor, or refuses
(a card of another store is refused as if unknown). How each change is committed:
services/card_changes.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain import giftcards as gc
from ..domain.catalog import Store
from ..domain.giftcards import CardResult
from .card_changes import card_plan, change_card, lookup, reads_from
from .card_ports import CardUnitOfWork, Limit
from .order_ports import catalog_or_404
from .unit_of_work import AlreadyWritten, Build, Claims, Plan, Writes

BALANCE_LIMITS = (
    Limit("balance-address", 20, timedelta(minutes=1)),
    Limit("balance-code", 5, timedelta(minutes=15)),
)
LATEST_ACTIVITIES = 20  # what an inquiry shows of the ledger

ActorIn = Callable[[str], Mapping[str, Any]]  # store id → the caller's journal actor there, or raises


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssueCard:
    """Sell a card at the counter: active at once with `amount`."""

    store_id: str
    amount: int
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class LoadCard:
    """Add value; with `auth_code`, the value a load authorization approved."""

    code: str
    amount: int
    auth_code: str | None
    authorized: ActorIn


@dataclass(frozen=True)
class RedeemCard:
    """Spend from the card; with `auth_code`, capture what a redeem authorization holds."""

    code: str
    amount: int
    auth_code: str | None
    authorized: ActorIn


@dataclass(frozen=True)
class AuthorizeCard:
    """Hold an amount (`kind` redeem) or approve a load (`kind` load) for 7 days, under a new auth code."""

    code: str
    kind: str
    amount: int
    authorized: ActorIn


@dataclass(frozen=True)
class DeactivateCard:
    code: str
    reason: str
    authorized: ActorIn


@dataclass(frozen=True)
class ReactivateCard:
    code: str
    authorized: ActorIn


@dataclass(frozen=True)
class TransferCard:
    """Move the whole balance onto a new card; the old one is deactivated, both name each other."""

    code: str
    authorized: ActorIn


def issue_card(command: IssueCard, uow: CardUnitOfWork) -> CardResult:
    """The create-only write of the card makes its code unique: a fresh code that collides with
    an existing card's (odds 1 : 10^23) is drawn again."""
    store, _ = catalog_or_404(uow, command.store_id)
    while True:
        code = gc.new_code()
        try:
            return uow.commit(store.id, _issuing(uow, store, command, code, uow.cards.key_of(code))).result
        except AlreadyWritten:  # the card is the plan's only create-only write: its code is taken
            continue


def _issuing(uow: CardUnitOfWork, store: Store, command: IssueCard, code: str, key: str) -> Build[CardResult]:
    now = uow.now()

    def build(claims: Claims) -> Plan[CardResult]:
        card_id = uow.new_id("gc_")
        change = gc.issue(card_id, store.id, code[-4:], store.currency, store.timezone, command.amount, now)
        writes = Writes(command.actor)
        writes.card(key, change, None, new=True)
        return card_plan(CardResult(change.card, now, code=code), now, writes)

    return build


def load_card(command: LoadCard, uow: CardUnitOfWork) -> CardResult:
    return _operate(
        uow, command.code, command.authorized, lambda card, now: gc.load(card, command.amount, now, command.auth_code)
    )


def redeem_card(command: RedeemCard, uow: CardUnitOfWork) -> CardResult:
    return _operate(
        uow, command.code, command.authorized, lambda card, now: gc.redeem(card, command.amount, now, command.auth_code)
    )


def authorize_card(command: AuthorizeCard, uow: CardUnitOfWork) -> CardResult:
    return _operate(
        uow, command.code, command.authorized, lambda card, now: gc.authorize(card, command.kind, command.amount, now)
    )


def deactivate_card(command: DeactivateCard, uow: CardUnitOfWork) -> CardResult:
    return _operate(uow, command.code, command.authorized, lambda card, now: gc.deactivate(card, command.reason, now))


def reactivate_card(command: ReactivateCard, uow: CardUnitOfWork) -> CardResult:
    return _operate(uow, command.code, command.authorized, gc.reactivate)


def _operate(
    uow: CardUnitOfWork, raw_code: str, authorized: ActorIn, decide: Callable[[gc.Card, datetime], gc.CardChange]
) -> CardResult:
    """Find the card, let `authorized(store_id)` return the actor (or refuse), apply `decide`."""
    found = lookup(uow, raw_code)
    actor = authorized(found.card.store_id)
    now = uow.now()
    return change_card(
        uow,
        found,
        lambda current: decide(current, now),
        actor,
        respond=lambda change: CardResult(change.card, now, auth_code=_authorized_code(change)),
    )


def _authorized_code(change: gc.CardChange) -> str | None:
    return next((a.auth_code for a in change.activities if a.type == "authorize"), None)


def transfer_card(command: TransferCard, uow: CardUnitOfWork) -> tuple[CardResult, CardResult]:
    found = lookup(uow, command.code)
    actor = command.authorized(found.card.store_id)
    store, _ = catalog_or_404(uow, found.card.store_id)
    now = uow.now()
    code = gc.new_code()
    reads = reads_from(uow.cards, found)

    def build(claims: Claims) -> Plan:
        old, read_at = next(reads)
        new_key, new_card = uow.cards.new_pending(store, code, now)
        out, incoming = gc.transfer(old, new_card, now)
        writes = Writes(actor)
        writes.card(found.key, out, read_at)
        writes.card(new_key, incoming, None, new=True)
        return card_plan((CardResult(out.card, now), CardResult(incoming.card, now, code=code)), now, writes)

    return uow.commit(store.id, build).result


def card_details(uow: CardUnitOfWork, raw_code: str, authorized: ActorIn) -> CardResult:
    """The card with its latest ledger activities, newest first."""
    found = lookup(uow, raw_code)
    authorized(found.card.store_id)
    activities = uow.cards.latest_activities(found.key, LATEST_ACTIVITIES)
    return CardResult(found.card, uow.now(), activities=tuple(activities))


def public_balance(uow: CardUnitOfWork, raw_code: str, client_address: str) -> CardResult:
    """Rate limited per client address and per code, before anything is looked up."""
    now = uow.now()
    code = gc.normalize_code(raw_code) or raw_code.strip().upper()
    per_address, per_code = BALANCE_LIMITS
    wait = uow.rate_limits.hit([(per_address, f"address:{client_address}"), (per_code, code)], now)
    if wait:
        raise RateLimited(wait)
    return CardResult(lookup(uow, raw_code).card, now)
