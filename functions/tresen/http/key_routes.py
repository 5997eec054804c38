"""API keys and accounting settings: the owner's set-up for the finance integrations (DATEV export,
journal readers) — routes and their models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from werkzeug.wrappers import Response

from ..domain.accounting import (
    ACCOUNT_DIGITS,
    ACCOUNT_NAMES,
    CHARTS,
    CLIENT_NUMBERS,
    CONSULTANT_NUMBERS,
    DEFAULT_ACCOUNTS,
    AccountingSettings,
)
from ..domain.api_keys import SCOPES, ApiKey
from ..services import accounting, api_keys
from ..services.accounting import SetAccounting
from ..services.api_keys import CreateKey, NewKey, RevokeKey
from .models import Inbound, Model
from .present import local_time
from .router import UNKNOWN, Call, current_uow, route, staff

DENIED = ("unauthenticated", "forbidden")
OWNER = staff("owner")
# A malformed key id in the path answers what an unknown one does (router.check_path_ids).
UNKNOWN["key_id"] = "api_key_not_found"

Scope = Literal[SCOPES]
AccountName = Literal[ACCOUNT_NAMES]
AccountNumber = Annotated[str, StringConstraints(pattern=rf"^[0-9]{{{ACCOUNT_DIGITS[0]},{ACCOUNT_DIGITS[1]}}}$")]
ConsultantNumber = Annotated[int, Field(strict=True, ge=CONSULTANT_NUMBERS[0], le=CONSULTANT_NUMBERS[1])]
ClientNumber = Annotated[int, Field(strict=True, ge=CLIENT_NUMBERS[0], le=CLIENT_NUMBERS[1])]
DEFAULTS_TEXT = "; ".join(f"{name} {charts['SKR03']}/{charts['SKR04']}" for name, charts in DEFAULT_ACCOUNTS.items())


def _local(store_id: str, moment: datetime | None) -> datetime | None:
    store, _ = current_uow().catalog.get(store_id)  # cached: the use case has just read it
    return local_time(moment, store.zone)


# ---------------------------------------------------------------- API keys


class ApiKeyIn(Inbound):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    scopes: list[Scope] = Field(min_length=1, max_length=len(SCOPES), description="what the key may read")


class ApiKeyCreatedOut(Model):
    id: str
    key: str = Field(description="`tk_…`: shown this once only; send it as `Authorization: Bearer tk_…`")
    name: str
    scopes: list[str]
    created_at: datetime


class ApiKeyOut(Model):
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    created_by: dict[str, Any] = Field(description="the journal actor who created the key")
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="to the hour: recorded at most once an hour")


class ApiKeyList(Model):
    data: list[ApiKeyOut]


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scopes=list(key.scopes),
        created_at=_local(key.store_id, key.created_at),
        created_by=dict(key.created_by),
        revoked_at=_local(key.store_id, key.revoked_at),
        last_used_at=_local(key.store_id, key.last_used_at),
    )


def created_out(new: NewKey) -> ApiKeyCreatedOut:
    key = new.key
    return ApiKeyCreatedOut(
        id=key.id,
        key=new.secret,
        name=key.name,
        scopes=list(key.scopes),
        created_at=_local(key.store_id, key.created_at),
    )


@route(
    "POST",
    "/v1/stores/{store}/api-keys",
    summary="Create an API key (its secret is in this answer only)",
    tag="exports",
    access=OWNER,
    body=ApiKeyIn,
    response=ApiKeyCreatedOut,
    present=created_out,
    status=201,
    errors=(*DENIED, "store_not_found", "validation_failed"),
)
def create_key(call: Call):
    # Not idempotent on purpose: a stored answer would keep the secret in Firestore. A client that
    # lost the answer creates another key and revokes the unused one (the list names both).
    body: ApiKeyIn = call.body
    command = CreateKey(call.params["store"], body.name, tuple(body.scopes), call.caller.actor())
    return api_keys.create_key(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/api-keys",
    summary="The store's API keys, revoked ones too, oldest first (never their secrets)",
    tag="exports",
    access=OWNER,
    response=ApiKeyList,
    errors=(*DENIED, "store_not_found"),
)
def list_keys(call: Call):
    return ApiKeyList(data=[key_out(key) for key in api_keys.list_keys(call.uow, call.params["store"])])


@route(
    "DELETE",
    "/v1/stores/{store}/api-keys/{key_id}",
    summary="Revoke an API key, effective with the next request",
    tag="exports",
    access=OWNER,
    status=204,
    errors=(*DENIED, "api_key_not_found"),
)
def revoke_key(call: Call):
    api_keys.revoke_key(RevokeKey(call.params["store"], call.params["key_id"], call.caller.actor()), call.uow)
    return Response(status=204)


# ---------------------------------------------------------------- accounting settings


class AccountingIn(Inbound):
    chart: Literal[CHARTS]
    consultant_number: ConsultantNumber | None = Field(default=None, description="DATEV Beraternummer")
    client_number: ClientNumber | None = Field(default=None, description="DATEV Mandantennummer")
    accounts: dict[AccountName, AccountNumber] = Field(
        default_factory=dict,
        description=f"Overrides of the chart's accounts, by name (defaults SKR03/SKR04: {DEFAULTS_TEXT})",
    )


class AccountingOut(Model):
    chart: str
    consultant_number: int | None
    client_number: int | None
    accounts: dict[str, str] = Field(description="the overrides, as set")
    effective_accounts: dict[str, str] = Field(description="every account name with the number bookings go to")


def accounting_out(settings: AccountingSettings) -> AccountingOut:
    return AccountingOut(**settings.as_dict(), effective_accounts=settings.effective_accounts())


@route(
    "GET",
    "/v1/stores/{store}/accounting",
    summary="The store's accounting settings (SKR03 and no numbers until set)",
    tag="exports",
    access=staff("owner", "finance"),
    response=AccountingOut,
    present=accounting_out,
    errors=(*DENIED, "store_not_found"),
)
def get_accounting(call: Call):
    return accounting.read_settings(call.uow, call.params["store"])


@route(
    "PUT",
    "/v1/stores/{store}/accounting",
    summary="Replace the store's accounting settings",
    tag="exports",
    access=OWNER,
    body=AccountingIn,
    response=AccountingOut,
    present=accounting_out,
    errors=(*DENIED, "store_not_found", "validation_failed"),
)
def put_accounting(call: Call):
    body: AccountingIn = call.body
    command = SetAccounting(
        call.params["store"],
        body.chart,
        body.consultant_number,
        body.client_number,
        dict(body.accounts),
        call.caller.actor(),
    )
    return accounting.set_settings(command, call.uow)
