"""Stores the platform opens for merchants: the store, its billing profile and plan, and its owner's
invitation.

The store and its profile are created once (`store_exists` for an id taken); the plan is journaled
in the platform's own journal, where its invoices are; the owner is invited like anyone else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.catalog import Store
from ..domain.errors import DomainError
from ..domain.events import LicenceSubscribed, StoreCreated
from ..domain.journal import PLATFORM_JOURNAL, JournalEvent
from ..domain.licence_billing import BillingProfile
from ..domain.licence_invoices import PLANS, Party
from ..domain.memberships import check_address_free
from ..domain.store_profile import Address
from .membership_ports import PortalUnitOfWork
from .memberships import Invite, holding_of, invite, normalized_email
from .unit_of_work import AlreadyWritten, Claims, Plan, Writes

PLATFORM = PLATFORM_JOURNAL
RESERVED_IDS = (PLATFORM,)


@dataclass(frozen=True)
class CreateStore:
    store_id: str
    name: str
    address: Address
    timezone: str
    tax_number: str | None
    vat_id: str | None
    owner_email: str
    plan: str
    portal_url: str
    actor: Mapping[str, Any]


def create_store(command: CreateStore, uow: PortalUnitOfWork) -> Store:
    if command.store_id in RESERVED_IDS:
        raise DomainError("store_exists", f"{command.store_id!r} is reserved.")
    plan = PLANS.get(command.plan)
    if plan is None:
        raise DomainError("validation_failed", f"plan must be one of {', '.join(sorted(PLANS))}")
    if uow.stores.exists(command.store_id):
        raise DomainError("store_exists", f"Store {command.store_id} exists.")
    owner_email = normalized_email(command.owner_email)
    held = holding_of(uow, owner_email)
    check_address_free(owner_email, command.store_id, held.holder, held.invitation, uow.now())
    address = command.address
    store = Store(
        id=command.store_id,
        name=command.name,
        currency="EUR",
        timezone=command.timezone,
        invoice_series=command.store_id.upper()[:12],
        payment_methods=("on_site", "card_present"),
        online_providers=(),
        fulfilment_types=("pickup", "table"),
        address=address.lines(),
        tax_number=command.tax_number,
        vat_id=command.vat_id,
    )
    recipient = Party(
        command.name,
        address.street,
        address.postal_code,
        address.city,
        tax_number=command.tax_number,
        vat_id=command.vat_id,
        email=owner_email,
    )
    billing = BillingProfile(store.id, plan.id, recipient, owner_email)
    now = uow.now()

    def opened(_claims: Claims) -> Plan[Store]:
        writes = Writes(command.actor)
        writes.new_store(store, billing)
        event = StoreCreated(name=store.name, plan=plan.id, timezone=store.timezone)
        return Plan(store, now, command.actor, [JournalEvent.of(event)], writes)

    def subscribed(_claims: Claims) -> Plan[None]:
        event = LicenceSubscribed(store_id=store.id, plan=plan.id, monthly_net=plan.monthly_net)
        return Plan(None, now, command.actor, [JournalEvent.of(event)])

    try:
        uow.commit(store.id, opened)
    except AlreadyWritten:  # another request opened it first
        raise DomainError("store_exists", f"Store {command.store_id} exists.") from None
    uow.stores.ensure_pii_key(store.id)
    uow.catalog.refresh(store.id)
    uow.commit(PLATFORM, subscribed)
    invite(Invite(store.id, owner_email, "owner", command.portal_url, command.actor), uow)
    return store
