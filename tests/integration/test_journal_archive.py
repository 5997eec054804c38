"""Every order appends a chained journal entry in its own commit, archived create-only in GCS."""

import json
import threading
from datetime import timedelta

import pytest

from support import idem, order_body, request
from tresen.adapters import archive
from tresen.adapters.backend import Backend
from tresen.domain.journal import GENESIS_HASH, canonical_bytes, pseudonym
from tresen.services.archive_sweep import SweepArchive, sweep_archive
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.verify import verify_store


def test_order_entry_is_chained_pseudonymised_and_archived(client, store_id, backend):
    order = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    backend.archive.drain()
    [entry] = backend.journal.entries(store_id)
    assert (entry["seq"], entry["type"], entry["prev_hash"], entry["actor"]) == (
        1,
        "order.placed",
        GENESIS_HASH,
        {"type": "customer"},
    )
    assert entry["data"]["order_id"] == order["id"]
    assert entry["data"]["totals"]["total"] == 840
    key = backend.db.document(f"store_secrets/{store_id}").get().get("pii_key")
    assert entry["data"]["customer"] == {
        "name": pseudonym(key, "Anna Beispiel"),
        "email": pseudonym(key, "anna@example.com"),
    }
    assert "anna" not in json.dumps(entry).lower()
    archived = archive.bucket().blob(archive.archive_object_name(store_id, 1)).download_as_bytes()
    assert archived == canonical_bytes(entry)
    assert not backend.db.document(f"archive_outbox/{store_id}:000000000001").get().exists
    assert verify_store(backend, store_id).ok


def test_archive_objects_are_create_only(store_id, backend, client):
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    backend.archive.drain()
    with pytest.raises(archive.ArchiveConflict):
        archive.put_create_only(archive.archive_object_name(store_id, 1), b'{"forged": true}')


def test_failed_archive_write_is_left_for_the_sweeper(store_id, backend, monkeypatch):
    def storage_down(name, data, content_type="application/json"):
        raise ConnectionError("storage unavailable")

    monkeypatch.setattr(archive, "put_create_only", storage_down)
    place_order(PlaceOrder(store_id, request(), {"type": "customer"}), backend)
    place_order(PlaceOrder(store_id, request(), {"type": "customer"}), backend)
    backend.archive.drain()
    monkeypatch.undo()
    verdict = verify_store(backend, store_id)
    assert verdict.problem == "seq 1: not archived yet: the archive is behind by 2 (`tresen sweep`)"
    marker = backend.db.document(f"archive_outbox/{store_id}:000000000001")
    kept = marker.get().to_dict()
    marker.delete()  # without its outbox marker, the entry would never be archived: not merely behind
    assert verify_store(backend, store_id).problem == "seq 1: missing from the archive"
    marker.set(kept)
    swept = sweep_archive(SweepArchive(timedelta(0)), backend)
    assert (swept.archived >= 2, swept.failing) == (True, 0)
    assert verify_store(backend, store_id).ok


def test_verify_names_the_first_altered_entry(store_id, backend):
    for _ in range(3):
        place_order(PlaceOrder(store_id, request(), {"type": "customer"}), backend)
    backend.archive.drain()
    backend.db.document(f"stores/{store_id}/journal/000000000002").update({"data.totals.total": 1})
    verdict = verify_store(backend, store_id)
    assert verdict.problem == "Firestore: seq 2: hash does not match the entry's content"


def test_concurrent_orders_from_several_instances_get_gap_free_numbers(store_id, emulators):
    """8 threads over 4 'instances' (each its own writer and cached heads) race for one store."""
    from tresen.adapters.firestore_client import db

    instances = [Backend(db()) for _ in range(4)]
    errors: list[Exception] = []

    def place_five(instance: Backend) -> None:
        try:
            for _ in range(5):
                place_order(PlaceOrder(store_id, request(), {"type": "customer"}), instance)
        except Exception as error:  # surfaced below; a thread must not swallow it
            errors.append(error)

    threads = [threading.Thread(target=place_five, args=(instances[i % 4],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for instance in instances:
        instance.archive.drain()
    assert errors == []
    entries = instances[0].journal.entries(store_id)
    assert [e["seq"] for e in entries] == list(range(1, 41))
    invoices = sorted(s.get("n") for s in db().collection(f"stores/{store_id}/invoice_numbers").get())
    assert invoices == list(range(1, 41))
    pickups = sorted(s.get("number") for s in db().collection("orders").where("store_id", "==", store_id).get())
    assert pickups == list(range(1, 41))
    verdict = verify_store(instances[0], store_id)
    assert (verdict.ok, verdict.entries) == (True, 40)


def test_verify_fails_for_a_store_that_does_not_exist(backend):
    verdict = verify_store(backend, "no-such-store")
    assert (verdict.ok, verdict.problem) == (False, "no such store")
