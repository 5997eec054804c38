"""A store's business details (name, address, tax number, VAT id) read and set by its owner, on the
in-memory backend: the store and its licence invoices' recipient change in one commit, journaled with
their values, served by the catalog at once, and a change made meanwhile is kept."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_portal_use_cases import OWNER, open_store

from tresen.adapters.identity_directory import MemoryIdentityDirectory
from tresen.domain.errors import DomainError
from tresen.domain.licence_invoices import Party
from tresen.domain.store_profile import Address, StoreProfile
from tresen.services.seed import DEMO_STORE
from tresen.services.store_profile import SetStoreProfile, profile_of, set_profile

STORE = "cafe-nord"
MOVED = StoreProfile("Café Nord am Hafen", Address("Hafenstraße 3", "20359", "Hamburg"), "22/815/99999", None)


@pytest.fixture
def opened(backend):
    """A store the platform opened (it has a billing profile), as `open_store` makes it."""
    backend.identity = MemoryIdentityDirectory()
    open_store(backend, STORE)
    return backend


def journal(uow, store_id: str = STORE) -> list[tuple[str, dict]]:
    return [(entry["type"], entry["data"]) for entry in uow.journal.entries(store_id)]


def test_the_address_is_kept_as_the_postal_lines_a_receipt_prints_and_read_back_from_them():
    address = Address("Nordstraße 5", "20095", "Hamburg")
    assert address.lines() == ("Nordstraße 5", "20095 Hamburg")
    assert Address.from_lines(("Nordstraße 5", "20095 Hamburg")) == address
    assert Address.from_lines(("Bahnhofstraße 1", "60311 Frankfurt am Main")) == Address(
        "Bahnhofstraße 1", "60311", "Frankfurt am Main"
    )
    for other_shape in ((), ("Nordstraße 5",), ("Nordstraße 5", "Hamburg"), ("Hof 2", "20095 Hamburg", "Germany")):
        assert Address.from_lines(other_shape) is None


def test_the_profile_is_read_from_the_store(opened):
    assert profile_of(STORE, opened) == StoreProfile(
        "Café Nord", Address("Nordstraße 5", "20095", "Hamburg"), "22/815/08151", "DE123456789"
    )


def test_the_owner_sets_the_profile_and_the_store_its_receipts_and_its_licence_invoices_follow(opened):
    opened.catalog.get(STORE)  # cached as it was: the change must not wait for the cache to expire
    before, _ = opened.billing_profiles.get(STORE)

    assert set_profile(SetStoreProfile(STORE, MOVED, OWNER), opened) == MOVED

    assert profile_of(STORE, opened) == MOVED
    store, _ = opened.catalog.get(STORE)
    assert (store.name, store.address, store.tax_number, store.vat_id) == (
        "Café Nord am Hafen",
        ("Hafenstraße 3", "20359 Hamburg"),
        "22/815/99999",
        None,
    )
    assert (store.currency, store.invoice_series, store.payment_methods) == (
        "EUR",
        "CAFE-NORD",
        ("on_site", "card_present"),
    )
    billing, _ = opened.billing_profiles.get(STORE)
    assert billing.recipient == Party(
        "Café Nord am Hafen",
        "Hafenstraße 3",
        "20359",
        "Hamburg",
        country="DE",
        tax_number="22/815/99999",
        vat_id=None,
        email="inhaberin@example.de",  # whom the invoices are mailed to is not part of the profile
    )
    assert replace(billing, recipient=before.recipient) == before  # the plan and the card stay
    entry = opened.journal.entries(STORE)[-1]
    assert (entry["type"], entry["actor"]) == ("store.profile_changed", OWNER)
    assert entry["data"] == {
        "changed": ["name", "address", "tax_number", "vat_id"],
        "name": "Café Nord am Hafen",
        "address": ["Hafenstraße 3", "20359 Hamburg"],
        "tax_number": "22/815/99999",
        "vat_id": None,
    }


def test_a_profile_as_stored_changes_and_journals_nothing(opened):
    set_profile(SetStoreProfile(STORE, MOVED, OWNER), opened)
    before = journal(opened)

    assert set_profile(SetStoreProfile(STORE, MOVED, OWNER), opened) == MOVED  # a retried PUT
    assert journal(opened) == before

    only_the_vat_id = replace(MOVED, vat_id="DE987654321")
    set_profile(SetStoreProfile(STORE, only_the_vat_id, OWNER), opened)
    assert journal(opened)[-1] == (
        "store.profile_changed",
        {
            "changed": ["vat_id"],
            "name": "Café Nord am Hafen",
            "address": ["Hafenstraße 3", "20359 Hamburg"],
            "tax_number": "22/815/99999",
            "vat_id": "DE987654321",
        },
    )


def test_a_store_the_platform_does_not_bill_gets_its_profile_all_the_same(backend):
    """The demo store, seeded like a store file's: no billing profile."""
    assert backend.billing_profiles.get(DEMO_STORE.id) is None

    set_profile(SetStoreProfile(DEMO_STORE.id, MOVED, OWNER), backend)

    assert profile_of(DEMO_STORE.id, backend) == MOVED
    assert backend.billing_profiles.get(DEMO_STORE.id) is None
    assert journal(backend, DEMO_STORE.id)[-1][1]["changed"] == ["name", "address", "tax_number"]  # no VAT id before


def test_postal_lines_of_another_shape_read_as_no_address_until_the_owner_sets_one(backend):
    backend.stores.save(replace(DEMO_STORE, address=("Im Hinterhof", "Frankfurt")), ())

    assert profile_of(DEMO_STORE.id, backend).address is None
    set_profile(SetStoreProfile(DEMO_STORE.id, MOVED, OWNER), backend)
    assert profile_of(DEMO_STORE.id, backend).address == MOVED.address


def test_a_change_to_the_store_made_meanwhile_is_kept(opened):
    """The store is written on the version read: a store file loaded between the read and the commit
    makes the use case read again and decide on what it then finds."""
    read = opened.stores.read
    meanwhile = []

    def read_then_changed_elsewhere(store_id):
        found = read(store_id)
        if not meanwhile:
            store, _ = found
            meanwhile.append(replace(store, opening_hours={"mon": [("08:00", "18:00")]}))
            opened.stores.save(meanwhile[0], ())
        return found

    opened.stores.read = read_then_changed_elsewhere

    set_profile(SetStoreProfile(STORE, MOVED, OWNER), opened)

    store, _ = read(STORE)
    assert store == MOVED.given_to(meanwhile[0])
    assert store.opening_hours == {"mon": [("08:00", "18:00")]}
    assert [kind for kind, _ in journal(opened)].count("store.profile_changed") == 1


def test_an_unknown_store_is_not_found(opened):
    for call in (
        lambda: profile_of("nowhere", opened),
        lambda: set_profile(SetStoreProfile("nowhere", MOVED, OWNER), opened),
    ):
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.code == "store_not_found"
