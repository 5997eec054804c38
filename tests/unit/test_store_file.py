"""A merchant's store from a file (`tresen store FILE`): written as the demo store is, idempotent,
with its key for personal data made once; a file that is incomplete is refused with the reason."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from support import CAFE
from tresen.adapters import repository as repo
from tresen.adapters.backend import Backend
from tresen.adapters.store_file import store_from_file
from tresen.cli import main
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store


def test_a_store_file_is_written_like_the_demo_store_and_again_changes_nothing():
    memory = Backend.in_memory()
    docs = memory.docs
    seed_store(SeedStore(*store_from_file(CAFE)), memory)
    key = docs.get("store_secrets/cafe-lindner").data
    seed_store(SeedStore(*store_from_file(CAFE)), memory)
    assert docs.get("store_secrets/cafe-lindner").data == key
    loaded = repo.load_store(docs, "cafe-lindner")
    assert (loaded.name, loaded.address, loaded.opening_hours, loaded.tax_number, loaded.vat_id) == (
        "Café Lindner",
        ("Bahnhofstraße 1", "60311 Frankfurt am Main"),
        {"mon": [("08:00", "18:00")]},
        "045 234 56789",
        "DE298765432",
    )
    menu = repo.load_products(docs, "cafe-lindner")
    assert menu["croissant"].options[0].price == 50 and menu["espresso"].vat_rate == "19"


def test_the_demo_store_round_trips_through_the_file_shape():
    as_file = {
        "store": {"id": DEMO_STORE.id, **repo.store_to_doc(DEMO_STORE)},
        "products": [{"id": p.id, **repo.product_to_doc(p)} for p in DEMO_PRODUCTS],
    }
    store, products = store_from_file(json.loads(json.dumps(as_file)))
    assert (asdict(store), products) == (asdict(DEMO_STORE), DEMO_PRODUCTS)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda f: f["store"].pop("timezone"), "incomplete or malformed"),
        (lambda f: f["store"].update(timezone="Mars/Olympus"), "incomplete or malformed"),
        (lambda f: f["store"].update(id="../x"), "store.id must be an id"),
        (lambda f: f["products"][0].update(price=-1), "negative price"),
        (lambda f: f["store"].update(tax_number=4523456789), "tax_number and store.vat_id are text"),
        (lambda f: f.pop("products"), '{"store": {...}, "products": [...]}'),
    ],
)
def test_an_incomplete_file_is_refused_with_the_reason(change, reason):
    broken = json.loads(json.dumps(CAFE))
    change(broken)
    with pytest.raises(ValueError) as refused:
        store_from_file(broken)
    assert reason in str(refused.value)


def test_the_command_refuses_a_bad_file_before_touching_anything(tmp_path, capsys):
    path = tmp_path / "store.json"
    path.write_text('{"store": {"id": "x"}}')
    assert main(["store", str(path)]) == 2
    assert "products" in capsys.readouterr().err
