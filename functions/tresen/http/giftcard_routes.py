"""Gift-card endpoints: thin handlers over services/cards.py and services/card_blocks.py.

Cards are addressed by their code; the issuing store is known once the card is found, so the role
is checked then (`Caller.acting_in`). A card of another store answers like an unknown one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Response

from ..domain import giftcards as gc
from ..domain.giftcards import CardResult
from ..services import card_blocks as blocks
from ..services import cards
from ..services.card_changes import not_found
from ..services.card_expiry import ExpireCards, expire_giftcards
from . import models as m
from .present import local_time
from .problems import ApiProblem
from .router import JOB, STAFF_ROLES, Call, card_staff, current_uow, route, staff

SELLERS = ("owner", "supervisor", "staff")
ADMINS = ("owner", "supervisor")
IDEMPOTENCY = ("idempotency_key_required", "idempotency_key_reused", "idempotency_in_progress")
CARD_ERRORS = ("unauthenticated", "forbidden", "giftcard_not_found", "validation_failed")
BALANCE_ERRORS = ("giftcard_not_active", "giftcard_insufficient_funds", "giftcard_authorization_not_found")


@dataclass(frozen=True)
class BlockStarted:
    activation_id: str
    http_status: int = 202


def _authorizer(call: Call):
    """`authorized(store_id)` for the services: the journal's actor if the caller holds one of the
    route's roles in the card's store, else a refusal (another store's card: as if unknown)."""

    def authorized(store_id: str) -> dict:
        return call.caller.acting_in(store_id, call.roles, not_found()).actor()

    return authorized


def card_out(result: CardResult) -> m.GiftCardOut:
    card, zone = result.card, _zone(result.card.store_id)
    return m.GiftCardOut(
        id=card.id,
        code=gc.display_code(result.code) if result.code else None,
        last4=card.last4,
        status=card.status_at(result.now),
        balance=card.balance,
        currency=card.currency,
        issued_at=local_time(card.issued_at, zone),
        expires_at=local_time(card.expires_at, zone),
        deactivation_reason=card.deactivation_reason,
        transferred_to=card.transferred_to,
        transferred_from=card.transferred_from,
        holds=[
            m.HoldOut.model_validate(h).model_copy(update={"expires_at": local_time(h.expires_at, zone)})
            for h in card.holds
        ],
        activities=[
            m.GiftCardActivityOut.model_validate(a).model_copy(update={"at": local_time(a.at, zone)})
            for a in result.activities
        ],
        auth_code=result.auth_code,
    )


def _zone(store_id: str) -> ZoneInfo:
    store, _ = current_uow().catalog.get(store_id)
    return ZoneInfo(store.timezone if store else "UTC")


def issued_out(result) -> m.GiftCardOut | m.BlockAcceptedOut:
    if isinstance(result, BlockStarted):
        return m.BlockAcceptedOut(activation_id=result.activation_id)
    return card_out(result)


@route(
    "POST",
    "/v1/stores/{store}/giftcards",
    summary="Sell (activate) a card; with count 2-10 000 a block activation (202)",
    tag="staff",
    access=staff(*SELLERS),
    body=m.GiftCardIssueIn,
    response=m.GiftCardOut,
    present=issued_out,
    status=201,
    also=((202, m.BlockAcceptedOut),),
    idempotent=True,
    errors=("unauthenticated", "forbidden", "store_not_found", "validation_failed", *IDEMPOTENCY),
)
def issue(call: Call):
    body: m.GiftCardIssueIn = call.body
    store_id, actor = call.params["store"], call.caller.actor()
    if body.count is None:
        return cards.issue_card(cards.IssueCard(store_id, body.amount, actor), call.uow)
    if call.caller.role not in ADMINS:
        raise ApiProblem("forbidden", "Block activations are for owners and supervisors.")
    # the commit stores the 202 answer for replays: it must be rendered from what the route returns
    call.uow.presenting(BlockStarted)
    activation_id = blocks.start_block(blocks.StartBlock(store_id, body.amount, body.count, actor), call.uow)
    blocks.run_in_background(activation_id, call.uow)
    return BlockStarted(activation_id)


@route(
    "GET",
    "/v1/stores/{store}/giftcard-activations/{activation}",
    summary="Progress of a block activation",
    tag="staff",
    access=staff(*ADMINS),
    response=m.ActivationOut,
    present=lambda status: m.ActivationOut.model_validate(status, from_attributes=True),  # its chunks too
    errors=("unauthenticated", "forbidden", "not_found"),
)
def activation(call: Call):
    return blocks.block_status(call.uow, call.params["activation"], _same_store(call))


@route(
    "GET",
    "/v1/stores/{store}/giftcard-activations/{activation}/codes.csv",
    summary="The codes of a block activation (CSV)",
    tag="staff",
    media_type="text/csv",
    access=staff(*ADMINS),
    errors=("unauthenticated", "forbidden", "not_found"),
)
def activation_codes(call: Call):
    csv = blocks.block_codes_csv(call.uow, call.params["activation"], _same_store(call))
    disposition = f'attachment; filename="giftcards-{call.params["activation"]}.csv"'
    return Response(csv, content_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


def _same_store(call: Call):
    def authorized(store_id: str) -> None:
        if store_id != call.params["store"]:
            raise ApiProblem("not_found", "No such block activation.")

    return authorized


@route(
    "GET",
    "/v1/giftcards/{code}",
    summary="A card: status, balance, expiry, open authorizations and the 20 latest activities",
    tag="staff",
    access=card_staff(*STAFF_ROLES),
    response=m.GiftCardOut,
    present=card_out,
    errors=CARD_ERRORS,
)
def inquire(call: Call):
    return cards.card_details(call.uow, call.params["code"], _authorizer(call))


@route(
    "POST",
    "/v1/giftcards/{code}/load",
    summary="Add value (with auth_code: an approved offline load)",
    tag="staff",
    access=card_staff(*SELLERS),
    body=m.GiftCardAmountIn,
    response=m.GiftCardOut,
    present=card_out,
    idempotent=True,
    errors=(*CARD_ERRORS, *BALANCE_ERRORS, "giftcard_balance_limit", *IDEMPOTENCY),
)
def load(call: Call):
    body: m.GiftCardAmountIn = call.body
    command = cards.LoadCard(call.params["code"], body.amount, body.auth_code, _authorizer(call))
    return cards.load_card(command, call.uow)


@route(
    "POST",
    "/v1/giftcards/{code}/redeem",
    summary="Spend from the card (with auth_code: capture an authorization)",
    tag="staff",
    access=card_staff(*SELLERS),
    body=m.GiftCardAmountIn,
    response=m.GiftCardOut,
    present=card_out,
    idempotent=True,
    errors=(*CARD_ERRORS, *BALANCE_ERRORS, *IDEMPOTENCY),
)
def redeem(call: Call):
    body: m.GiftCardAmountIn = call.body
    command = cards.RedeemCard(call.params["code"], body.amount, body.auth_code, _authorizer(call))
    return cards.redeem_card(command, call.uow)


@route(
    "POST",
    "/v1/giftcards/{code}/authorizations",
    summary="Hold an amount for 7 days under a 6-character auth code",
    tag="staff",
    access=card_staff(*SELLERS),
    body=m.GiftCardAuthorizeIn,
    response=m.GiftCardOut,
    present=card_out,
    status=201,
    idempotent=True,
    errors=(*CARD_ERRORS, *BALANCE_ERRORS, *IDEMPOTENCY),
)
def authorize(call: Call):
    body: m.GiftCardAuthorizeIn = call.body
    command = cards.AuthorizeCard(call.params["code"], body.type, body.amount, _authorizer(call))
    return cards.authorize_card(command, call.uow)


@route(
    "POST",
    "/v1/giftcards/{code}/deactivate",
    summary="Block a lost, stolen or misused card",
    tag="staff",
    access=card_staff(*SELLERS),
    body=m.GiftCardDeactivateIn,
    response=m.GiftCardOut,
    present=card_out,
    errors=(*CARD_ERRORS, "giftcard_not_active"),
)
def deactivate(call: Call):
    body: m.GiftCardDeactivateIn = call.body
    return cards.deactivate_card(cards.DeactivateCard(call.params["code"], body.reason, _authorizer(call)), call.uow)


@route(
    "POST",
    "/v1/giftcards/{code}/reactivate",
    summary="Unblock a deactivated card (supervisor+)",
    tag="staff",
    access=card_staff(*ADMINS),
    response=m.GiftCardOut,
    present=card_out,
    errors=(*CARD_ERRORS, "giftcard_not_deactivated"),
)
def reactivate(call: Call):
    return cards.reactivate_card(cards.ReactivateCard(call.params["code"], _authorizer(call)), call.uow)


@route(
    "POST",
    "/v1/giftcards/{code}/transfer",
    summary="Move the whole balance to a new card and deactivate this one",
    tag="staff",
    access=card_staff(*ADMINS),
    response=m.GiftCardTransferOut,
    present=lambda pair: m.GiftCardTransferOut(old=card_out(pair[0]), new=card_out(pair[1])),
    status=201,
    idempotent=True,
    errors=(*CARD_ERRORS, "giftcard_not_active", "giftcard_has_holds", *IDEMPOTENCY),
)
def transfer(call: Call):
    return cards.transfer_card(cards.TransferCard(call.params["code"], _authorizer(call)), call.uow)


@route(
    "POST",
    "/v1/giftcards/balance",
    summary="Balance inquiry for the card holder (rate limited per address and per code)",
    tag="customer",
    body=m.GiftCardBalanceIn,
    response=m.GiftCardBalanceOut,
    errors=("giftcard_not_found", "rate_limited", "validation_failed"),
)
def balance(call: Call):
    body: m.GiftCardBalanceIn = call.body
    try:
        result = cards.public_balance(call.uow, body.code, call.caller.address)
    except cards.RateLimited as limited:
        retry = str(limited.retry_after)
        raise ApiProblem("rate_limited", f"Try again in {retry} s.", headers={"Retry-After": retry}) from None
    card = result.card
    return m.GiftCardBalanceOut(
        status=card.status_at(result.now),
        balance=card.balance,
        currency=card.currency,
        expires_at=local_time(card.expires_at, _zone(card.store_id)),
    )


@route(
    "POST",
    "/v1/jobs/giftcards",
    summary="Release holds past 7 days, expire cards, resume block activations (scheduler)",
    tag="jobs",
    access=JOB,
)
def giftcard_job(call: Call):
    resumed = blocks.resume_blocks(blocks.ResumeBlocks(), call.uow)
    outcome = expire_giftcards(ExpireCards(), call.uow) | {"blocks_resumed": resumed}
    return Response(json.dumps(outcome), content_type="application/json")
