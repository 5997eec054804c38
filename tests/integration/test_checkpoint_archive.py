"""Checkpoints against the emulators: signed and archived create-only, never twice for one size,
and nothing lost while the archive is down: orders go on, the sweeper archives entries and
checkpoints once it is back."""

from __future__ import annotations

import os
import signal
import uuid
from datetime import timedelta

from support import auth, idem, order_body, run_tresen
from tresen.adapters import archive
from tresen.services.archive_sweep import SweepArchive, sweep_archive
from tresen.services.checkpoints import SignCheckpoint, sign_checkpoint
from tresen.services.verify import verify_store


def test_a_checkpoint_is_signed_once_per_size_and_archived_create_only(client, store_id, backend):
    for _ in range(2):
        client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    signed = client.post(f"/v1/stores/{store_id}/journal/checkpoints", headers=auth(store_id, "supervisor"))
    assert signed.status_code == 201, signed.get_data(as_text=True)
    again = client.post(f"/v1/stores/{store_id}/journal/checkpoints", headers=auth(store_id, "owner"))
    assert (again.status_code, again.get_json()) == (200, signed.get_json())
    backend.archive.drain()
    name = archive.checkpoint_object_name(store_id, 2)
    assert archive.bucket().blob(name).download_as_bytes() == signed.get_json()["note"].encode()
    assert not backend.db.document(f"archive_outbox/{store_id}:checkpoint:000000000002").get().exists


def test_staff_read_the_journal_but_only_supervisors_sign_and_customers_see_nothing(client, store_id):
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    path = f"/v1/stores/{store_id}/journal/checkpoints"
    assert client.post(path, headers=auth(store_id, "staff")).status_code == 403
    assert client.post(path, headers=auth(store_id, "finance")).status_code == 403
    assert client.post(path).status_code == 401
    assert client.get(f"{path}/latest", headers=auth(store_id, "finance")).get_json()["code"] == "not_checkpointed"
    assert client.post(path, headers=auth(store_id, "owner")).status_code == 201
    assert client.get(f"{path}/latest", headers=auth("other-store", "owner")).status_code == 403
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())  # seq 2, not signed yet
    entry = client.get(f"/v1/stores/{store_id}/journal/entries/1", headers=auth(store_id, "staff"))
    assert (entry.status_code, entry.get_json()["tree_size"], entry.get_json()["proof"]) == (200, 1, [])
    for seq, code in (("2", "not_checkpointed"), ("0", "entry_not_found"), ("x1", "entry_not_found")):
        missing = client.get(f"/v1/stores/{store_id}/journal/entries/{seq}", headers=auth(store_id, "staff"))
        assert (missing.status_code, missing.get_json()["code"]) == (404, code)
    unknown_size = client.get(f"/v1/stores/{store_id}/journal/entries/1?tree_size=5", headers=auth(store_id))
    assert unknown_size.get_json()["code"] == "checkpoint_not_found"
    bad = client.get(f"/v1/stores/{store_id}/journal/consistency?from=0&to=1", headers=auth(store_id))
    assert (bad.status_code, bad.get_json()["code"]) == (422, "validation_failed")


def test_orders_and_checkpoints_go_on_while_the_archive_is_down_and_the_sweeper_catches_up(
    client, store_id, backend, emulators
):
    storage = emulators._children[1].pid  # fake-gcs-server's process group
    os.killpg(storage, signal.SIGSTOP)
    try:
        placed = [client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()) for _ in range(200)]
        checkpoint, created = sign_checkpoint(SignCheckpoint(store_id), backend)
    finally:
        os.killpg(storage, signal.SIGCONT)
    assert [response.status_code for response in placed] == [201] * 200
    assert (checkpoint.size, created) == (200, True)
    backend.archive.drain(timeout=120)
    sweep_archive(SweepArchive(timedelta(0)), backend)  # whatever gave up meanwhile
    names = {blob.name for blob in archive.bucket().list_blobs(prefix=f"journal/{store_id}/")}
    assert names == {archive.archive_object_name(store_id, seq) for seq in range(1, 201)}
    assert archive.bucket().blob(archive.checkpoint_object_name(store_id, 200)).exists()
    assert verify_store(backend, store_id).ok
    code, output = run_tresen("verify", "--store", store_id)
    assert code == 0, output


def test_the_checkpoint_job_signs_a_store_that_grew_and_leaves_it_alone_after(client, store_id):
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    signed = client.post(f"/v1/jobs/checkpoints?run={uuid.uuid4().hex}").get_json()["signed"]
    assert [(c["store_id"], c["size"]) for c in signed if c["store_id"] == store_id] == [(store_id, 1)]
    again = client.post(f"/v1/jobs/checkpoints?run={uuid.uuid4().hex}").get_json()["signed"]  # every store again
    assert [c for c in again if c["store_id"] == store_id] == []
