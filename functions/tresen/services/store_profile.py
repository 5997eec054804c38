"""A store's business details, as its owner keeps them: the name, address, tax number and VAT id its
receipts, Z-reports and statements print, and its licence invoices are addressed to.

Set as a whole (a PUT): the store's document and, if the platform bills the store, its billing
profile's recipient change in one commit, each on the version read, with one journal entry. A profile
equal to the stored one changes and journals nothing (a retried request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..domain.catalog import Store
from ..domain.errors import DomainError
from ..domain.events import StoreProfileChanged
from ..domain.journal import JournalEvent
from ..domain.store_profile import StoreProfile, changed_fields
from .licence_ports import BillingUnitOfWork
from .unit_of_work import Claims, Plan, Writes


@dataclass(frozen=True)
class SetStoreProfile:
    store_id: str
    profile: StoreProfile  # with its address: a profile set always has one
    actor: Mapping[str, Any]


def stored_store(uow: BillingUnitOfWork, store_id: str) -> tuple[Store, Any]:
    """The store read now, not as this process's catalog cached it: the owner may have saved it
    through another instance a moment ago."""
    found = uow.stores.read(store_id)
    if found is None:
        raise DomainError("store_not_found", f"There is no store {store_id!r}.")
    return found


def profile_of(store_id: str, uow: BillingUnitOfWork) -> StoreProfile:
    store, _ = stored_store(uow, store_id)
    return StoreProfile.of(store)


def set_profile(command: SetStoreProfile, uow: BillingUnitOfWork) -> StoreProfile:
    store_id, actor = command.store_id, command.actor
    now = uow.now()

    def build(_claims: Claims) -> Plan[StoreProfile]:
        before, version = stored_store(uow, store_id)
        after = command.profile.given_to(before)
        changed = changed_fields(before, after)
        writes = Writes(actor)
        if not changed:
            return Plan(StoreProfile.of(after), now, actor, [], writes)
        writes.store(after, version)
        billing = uow.billing_profiles.get(store_id)
        if billing is not None:  # a store set up by a store file is not billed by the platform
            profile, billing_version = billing
            writes.billing_profile(
                replace(profile, recipient=command.profile.billed_as(profile.recipient)), billing_version
            )
        event = StoreProfileChanged(
            changed=changed,
            name=after.name,
            address=list(after.address),
            tax_number=after.tax_number,
            vat_id=after.vat_id,
        )
        return Plan(StoreProfile.of(after), now, actor, [JournalEvent.of(event)], writes)

    committed = uow.commit(store_id, build)
    uow.catalog.refresh(store_id)  # this process's menus, orders and receipts name the store anew at once
    return committed.result
