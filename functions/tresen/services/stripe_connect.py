"""Stripe Connect: each store is paid on its own connected account, which its owner sets up through
Stripe's onboarding; Stripe's `account.updated` keeps what the account may do current.

The account is created once per store: Stripe answers the same account to the same idempotency
key (the store's id), and our record of it is created only once (a second onboarding meanwhile
finds it). Until the account may take charges, the store does not offer Stripe.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..domain.errors import DomainError
from ..domain.events import StripeAccountConnected, StripeAccountStatusChanged, StripePlatformFeeSet
from ..domain.journal import JournalEvent
from ..domain.payments import AccountEvent
from ..domain.stripe_connect import AccountStatus, StripeAccount, platform_fee
from .order_ports import OrderUnitOfWork, catalog_or_404
from .payments import UNKNOWN_ACCOUNT, EventOutcome, event_record
from .ports import OnboardingLink
from .provider_refunds import PROVIDER
from .unit_of_work import AlreadyWritten, Claims, Plan, Writes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartOnboarding:
    store_id: str
    return_url: str  # the staff board, where the owner comes back to
    refresh_url: str  # where Stripe sends the owner when the link has expired or was used
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class SetPlatformFee:
    store_id: str
    percent: str | None  # None: no fee
    fixed: int
    actor: Mapping[str, Any]


def start_onboarding(command: StartOnboarding, uow: OrderUnitOfWork) -> OnboardingLink:
    """A fresh onboarding link for the store's account, made first if the store has none."""
    account = connected_account(uow, command.store_id, command.actor)
    return uow.stripe_connect.onboarding_link(account.account_id, command.return_url, command.refresh_url)


def connected_account(uow: OrderUnitOfWork, store_id: str, actor: Mapping[str, Any]) -> StripeAccount:
    store, _ = catalog_or_404(uow, store_id)
    known = uow.stripe_accounts.of_store(store.id, fresh=True)
    if known is not None:
        return known
    account = StripeAccount(store.id, uow.stripe_connect.create_account(store.id))
    now = uow.now()

    def build(_claims: Claims) -> Plan[StripeAccount]:
        writes = Writes(actor)
        writes.stripe_account(account, new=True)
        return Plan(
            account, now, actor, [JournalEvent.of(StripeAccountConnected(account_id=account.account_id))], writes
        )

    try:
        return uow.commit(store.id, build).result
    except AlreadyWritten:  # another onboarding recorded it first: Stripe answered it the same account
        return uow.stripe_accounts.of_store(store.id, fresh=True)


def stripe_status(uow: OrderUnitOfWork, store_id: str) -> StripeAccount | None:
    """The store's account as Stripe last reported it. One not ready yet is asked of Stripe (the
    owner just came back from onboarding, its `account.updated` may still be on its way)."""
    store, _ = catalog_or_404(uow, store_id)
    account = uow.stripe_accounts.of_store(store.id, fresh=True)
    if account is None or account.ready:
        return account
    try:
        status = uow.stripe_connect.account_status(account.account_id)
    except Exception as error:  # Stripe unreachable: what we know is still the answer
        log.warning("store %s: could not ask Stripe about account %s: %r", store.id, account.account_id, error)
        return account
    return record_status(uow, account, status, event_id=None) or account  # None: an event was newer


def apply_account_event(event: AccountEvent, uow: OrderUnitOfWork) -> EventOutcome:
    """`account.updated`: the store's account as Stripe reports it, unless a newer report is kept;
    recorded once with what it changed."""
    if uow.provider_events.seen(event.provider, event.id):
        return EventOutcome(duplicate=True)
    account = uow.stripe_accounts.by_account(event.account)
    if account is None:
        return EventOutcome(unprocessable=UNKNOWN_ACCOUNT)
    seen = (event.provider, event.id, event_record(event.type, "processed", uow.now(), store_id=account.store_id))
    try:
        record_status(uow, account, event.status, event.id, seen)
    except AlreadyWritten:  # another delivery of it was recorded meanwhile
        return EventOutcome(duplicate=True)
    return EventOutcome()


def record_status(
    uow: OrderUnitOfWork,
    account: StripeAccount,
    status: AccountStatus,
    event_id: str | None,
    seen: tuple[str, str, dict[str, Any]] | None = None,
) -> StripeAccount | None:
    """Keeps Stripe's report on the account, with the record of the event that made it; journals a
    change of what the account may do. None if the report is older than the one kept."""
    now = uow.now()

    def build(_claims: Claims) -> Plan[StripeAccount | None]:
        current = uow.stripe_accounts.of_store(account.store_id, fresh=True)
        updated = current.reported(status)
        writes = Writes(PROVIDER)
        if seen is not None:
            writes.event_seen(*seen)
        if updated is None:
            return Plan(None, now, PROVIDER, [], writes)
        writes.stripe_account(updated)
        return Plan(updated, now, PROVIDER, status_change(current, updated, event_id), writes)

    recorded = uow.commit(account.store_id, build).result
    uow.stripe_accounts.of_store(account.store_id, fresh=True)  # this instance offers what it recorded at once
    return recorded


def status_change(before: StripeAccount, after: StripeAccount, event_id: str | None) -> list[JournalEvent]:
    """The journal's entry when the account may now, or no longer, take charges or be paid out."""
    was, now = before.status, after.status
    if (was.charges_enabled, was.payouts_enabled) == (now.charges_enabled, now.payouts_enabled):
        return []
    changed = StripeAccountStatusChanged(
        account_id=after.account_id,
        charges_enabled=now.charges_enabled,
        payouts_enabled=now.payouts_enabled,
        event_id=event_id,
    )
    return [JournalEvent.of(changed)]


def set_platform_fee(command: SetPlatformFee, uow: OrderUnitOfWork) -> StripeAccount:
    """The fee the platform takes from each of the store's Stripe payments; `validation_failed` for
    a percentage out of range. The store must have its account."""
    try:
        fee = platform_fee(command.percent, command.fixed) if command.percent is not None else None
    except ValueError as error:
        raise DomainError("validation_failed", str(error)) from None
    store, _ = catalog_or_404(uow, command.store_id)
    if uow.stripe_accounts.of_store(store.id, fresh=True) is None:
        raise DomainError("provider_not_ready", f"Store {store.id} has no Stripe account yet.")
    now = uow.now()

    def build(_claims: Claims) -> Plan[StripeAccount]:
        current = uow.stripe_accounts.of_store(store.id, fresh=True)
        updated = replace(current, platform_fee=fee)
        writes = Writes(command.actor)
        if updated == current:
            return Plan(current, now, command.actor, [], writes)
        writes.stripe_account(updated)
        set_fee = StripePlatformFeeSet(percent=fee.percent if fee else None, fixed=fee.fixed if fee else None)
        return Plan(updated, now, command.actor, [JournalEvent.of(set_fee)], writes)

    updated = uow.commit(store.id, build).result
    uow.stripe_accounts.of_store(store.id, fresh=True)  # the next Checkout Session here takes the new fee
    return updated
