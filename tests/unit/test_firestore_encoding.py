"""The create-only writes of a commit are encoded by hand (adapters/firestore_documents.py, the order
hot path): byte for byte what the Firestore library writes, for every kind of value we store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.cloud import firestore

from tresen.adapters.firestore_documents import UnencodedValue, create_write, update_write

DOCUMENT = {
    "id": "ord_abc",
    "count": 3,
    "negative": -125,
    "big": 2**62,
    "paid": True,
    "refunded": False,
    "ratio": 0.25,
    "nothing": None,
    "raw": b"\x00\xff",
    "at": datetime(2026, 11, 23, 12, 0, 1, 123456, tzinfo=UTC),
    "local": datetime(2026, 11, 23, 13, 0, tzinfo=timezone(timedelta(hours=1))),
    "read_back": DatetimeWithNanoseconds(2026, 11, 23, 12, 0, nanosecond=123456789, tzinfo=UTC),
    "lines": [{"product_id": "cappuccino", "quantity": 2, "options": ["oat"]}, {"empty": {}}],
    "empty_list": [],
    "tuple": ("a", 1),
    "totals": {"vat": [{"rate": "19", "net": 420, "tax": 80, "gross": 500}], "tip": 0},
}


@pytest.fixture
def db(monkeypatch):
    # the client is only asked to encode: nothing connects to this address
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
    return firestore.Client(project="demo-tresen")


def library_bytes(db, path: str, data: dict, update_time=None, kind: str = "create") -> bytes:
    batch = db.batch()
    if kind == "create":
        batch.create(db.document(path), data)
    else:
        option = db.write_option(last_update_time=update_time) if update_time else None
        batch.update(db.document(path), data, option=option)
    return batch._write_pbs[0]._pb.SerializeToString(deterministic=True)


def test_a_create_is_encoded_exactly_as_the_library_encodes_it(db):
    ours = create_write(db.document("orders/ord_abc")._document_path, DOCUMENT)
    assert ours._pb.SerializeToString(deterministic=True) == library_bytes(db, "orders/ord_abc", DOCUMENT)
    assert ours._pb.update.fields["read_back"].timestamp_value.nanos == 123456789


READ_AT = DatetimeWithNanoseconds(2026, 11, 23, 12, 0, 5, nanosecond=987654321, tzinfo=UTC)


@pytest.mark.parametrize("version", [READ_AT, None])
def test_an_update_is_encoded_exactly_as_the_library_encodes_it(db, version):
    changed = {"status": "paid", "totals": DOCUMENT["totals"], "expires_at": None, "amount_due": 0, "body": b"{}"}
    ours = update_write(db.document("orders/ord_abc")._document_path, changed, version)
    expected = library_bytes(db, "orders/ord_abc", changed, version, kind="update")
    assert ours._pb.SerializeToString(deterministic=True) == expected


def test_an_update_of_a_field_the_library_must_quote_is_left_to_it(db):
    with pytest.raises(UnencodedValue):
        update_write(db.document("orders/o")._document_path, {"totals.tip": 5}, None)


def test_a_value_of_another_type_is_left_to_the_library():
    class Money(int):
        pass

    with pytest.raises(UnencodedValue):
        create_write("projects/p/databases/(default)/documents/orders/o", {"amount": Money(5)})
