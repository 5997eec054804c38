"""A provider's webhook: its signature first, then its event, handled once — applied, acknowledged,
or parked for an operator.

A correctly signed event that can never be processed — a shape we do not understand, an id we
cannot store, money we cannot attribute (an unknown payment) — is acknowledged and parked as
`unprocessable` with its raw body, never answered 5xx: a provider retries a 5xx for days. Failures
of our own (Firestore unavailable) still propagate, so the provider retries those.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from ..domain.errors import DomainError
from ..domain.payments import (
    AccountEvent,
    BillingEvent,
    OtherEvent,
    PaymentEvent,
    PayoutEvent,
    ProviderEvent,
    ReaderEvent,
    RefundEvent,
    UnprocessableEvent,
)
from ..domain.signatures import InvalidSignature
from .order_ports import OrderUnitOfWork, ParkedEvent
from .payments import (
    UNKNOWN_ACCOUNT,
    EventOutcome,
    event_record,
    handle_payment_event,
    handle_refund_event,
    record_once,
)
from .payouts import RecordPayout, record_payout

log = logging.getLogger(__name__)
RAW_KEPT = 900_000  # bytes of the body parked with the event: a Firestore document holds at most 1 MiB


@dataclass(frozen=True)
class ReceiveWebhook:
    provider: str  # as the path names it
    headers: Mapping[str, str]
    raw: bytes  # the body as sent: its signature covers these bytes


@dataclass(frozen=True)
class HandleEvent:
    event: ProviderEvent  # of a verified webhook
    raw: bytes  # its body, kept with it if it is parked


def receive_webhook(command: ReceiveWebhook, uow: OrderUnitOfWork) -> EventOutcome:
    """`invalid_signature` unless the provider signed the body; `not_found` for a provider whose
    webhooks are not taken here."""
    source = uow.webhook_source(command.provider)
    if source is None:
        raise DomainError("not_found", f"No webhooks from {command.provider!r} here.")
    try:
        event = source.read_webhook(command.headers, command.raw)
    except InvalidSignature as error:
        raise DomainError("invalid_signature", str(error)) from None
    return handle_event(HandleEvent(event, command.raw), uow)


def handle_event(command: HandleEvent, uow: OrderUnitOfWork) -> EventOutcome:
    event, raw = command.event, command.raw
    if isinstance(event, UnprocessableEvent):
        return park(uow, event, raw)
    if isinstance(event, OtherEvent):
        ignored = event.reason or f"{event.type} is not handled"
        record = event_record(event.type, "ignored", uow.now(), reason=ignored)
        if not record_once(uow, event.provider, event.id, record):
            return EventOutcome(duplicate=True)
        return EventOutcome(ignored=ignored)
    if isinstance(event, AccountEvent):
        outcome = account_event(event, uow)
    elif isinstance(event, BillingEvent):
        outcome = billing_event(event, uow)
    else:
        outcome = handle_money_event(event, uow)
    if outcome.unprocessable:
        return park(uow, UnprocessableEvent(event.provider, event.id, event.type, outcome.unprocessable), raw)
    return outcome


def account_event(event: AccountEvent, uow: OrderUnitOfWork) -> EventOutcome:
    from .stripe_connect import apply_account_event  # Connect's use cases: not in every cold start

    return apply_account_event(event, uow)


def billing_event(event: BillingEvent, uow: OrderUnitOfWork) -> EventOutcome:
    from .licence_payments import apply_billing_event  # billing's use cases: not in every cold start

    return apply_billing_event(event, uow)


def handle_money_event(
    event: PaymentEvent | ReaderEvent | RefundEvent | PayoutEvent, uow: OrderUnitOfWork
) -> EventOutcome:
    """An event from a connected account (Stripe Connect) is the business of that account's store
    only; one from an account no store has is parked."""
    store_id = None
    if event.account is not None:
        account = uow.stripe_accounts.by_account(event.account)
        if account is None:
            return EventOutcome(unprocessable=UNKNOWN_ACCOUNT)
        store_id = account.store_id
    if isinstance(event, PayoutEvent):
        return record_payout(RecordPayout(event.provider, event.id, event.payout, store_id), uow)
    if isinstance(event, RefundEvent):
        return handle_refund_event(event, uow, store_id)
    if isinstance(event, ReaderEvent):
        from .card_present import handle_reader_event  # the terminals' use cases: not in every cold start

        return handle_reader_event(event, uow, store_id)
    return handle_payment_event(event, uow, store_id)


def park(uow: OrderUnitOfWork, event: UnprocessableEvent, raw: bytes) -> EventOutcome:
    """Keep the event with its raw body for an operator (`tresen webhooks --unprocessable`), once."""
    record = event_record(
        event.type,
        "unprocessable",
        uow.now(),
        provider=event.provider,
        event_id=event.id,
        reason=event.reason,
        raw=raw[:RAW_KEPT],
        size=len(raw),
    )
    if not record_once(uow, event.provider, event.id, record):
        return EventOutcome(duplicate=True)
    # infra/ alerts on this line: someone must look at the event (`tresen webhooks --unprocessable`)
    log.warning("webhook %s %s parked as unprocessable: %s", event.provider, event.id, event.reason)
    return EventOutcome(unprocessable=event.reason)


def unprocessable_events(uow: OrderUnitOfWork, limit: int) -> list[ParkedEvent]:
    """The parked events, newest first."""
    return uow.provider_events.parked(limit)
