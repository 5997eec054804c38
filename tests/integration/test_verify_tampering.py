"""Tampering behind the app's back, each time caught by `tresen verify` (the command, as an operator
runs it), which exits non-zero naming the seq: an entry changed in Firestore; an archived object
overwritten, deleted, or swapped with another."""

from __future__ import annotations

import pytest

from support import request, run_tresen
from tresen.adapters import archive
from tresen.adapters.journal_store import journal_path
from tresen.services.checkpoints import SignCheckpoint, sign_checkpoint
from tresen.services.orders import PlaceOrder, place_order


def change_in_firestore(backend, store_id):
    backend.db.document(journal_path(store_id, 3)).update({"data.totals.total": 1})


def overwrite_archived(backend, store_id):
    blob = archive.bucket().blob(archive.archive_object_name(store_id, 3))
    original = blob.download_as_bytes()
    forged = original.replace(b'"type":"order.placed"', b'"type":"order.placex"')
    assert forged != original
    blob.upload_from_string(forged)


def delete_archived(backend, store_id):
    archive.bucket().blob(archive.archive_object_name(store_id, 3)).delete()


def swap_archived(backend, store_id):
    third, fourth = (archive.bucket().blob(archive.archive_object_name(store_id, seq)) for seq in (3, 4))
    third_bytes, fourth_bytes = third.download_as_bytes(), fourth.download_as_bytes()
    third.upload_from_string(fourth_bytes)
    fourth.upload_from_string(third_bytes)


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (change_in_firestore, "seq 3"),
        (overwrite_archived, "seq 3"),
        (delete_archived, "seq 3"),
        (swap_archived, "seq 3"),
    ],
    ids=["firestore entry changed", "archived object overwritten", "archived object deleted", "two swapped"],
)
def test_verify_names_the_tampered_seq(store_id, backend, tamper, problem):
    for _ in range(5):
        place_order(PlaceOrder(store_id, request(), {"type": "customer"}), backend)
    sign_checkpoint(SignCheckpoint(store_id), backend)
    backend.archive.drain()
    assert run_tresen("verify", "--store", store_id)[0] == 0
    tamper(backend, store_id)
    code, output = run_tresen("verify", "--store", store_id)
    assert code == 1, output
    failed = next(line for line in output.splitlines() if line.startswith(f"{store_id}:"))
    assert "FAILED" in failed and problem in failed, output
