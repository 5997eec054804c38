"""`tresen verify` with checkpoints against the emulators: Firestore and the bucket agree entry for
entry and checkpoint for checkpoint; a copy of the bucket verifies offline, as a tax auditor runs
it, with nothing but the public keys Tresen publishes; a changed byte, a forged checkpoint and an
archive that is behind are named."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

from stack import ROOT, TRESEN
from support import request
from tresen.adapters import archive
from tresen.adapters.clock import now
from tresen.adapters.journal_store import checkpoint_outbox_path
from tresen.domain.checkpoint import Checkpoint, parse_checkpoint
from tresen.domain.signed_note import PrivateKey, open_note, sign_note
from tresen.services.archive_sweep import SweepArchive, sweep_archive
from tresen.services.checkpoints import SignCheckpoint, sign_checkpoint
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.verify import verify_store

FORGER = PrivateKey("tresen/demo-tresen", bytes(range(32)))


def journal_with_checkpoints(backend, store_id: str) -> None:
    """8 entries; checkpoints at 5 and 7 (entry 8 is after the last)."""
    for count in (5, 2, 1):
        for _ in range(count):
            place_order(PlaceOrder(store_id, request(), {"type": "customer"}), backend)
        if count > 1:
            sign_checkpoint(SignCheckpoint(store_id), backend)
    backend.archive.drain()


def copy_bucket(store_id: str, directory: Path) -> Path:
    """The store's objects under their names, as `gcloud storage cp -r "gs://BUCKET/*" DIR` leaves them."""
    for prefix in (f"journal/{store_id}/", f"checkpoints/{store_id}/"):
        for blob in archive.bucket().list_blobs(prefix=prefix):
            path = directory / blob.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob.download_as_bytes())
    return directory


def auditor(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command as an auditor runs it: no emulators, no project, no Tresen settings at all."""
    return subprocess.run(
        [str(TRESEN), "verify", *args],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_copy_of_the_bucket_verifies_offline_and_a_changed_byte_is_named(client, store_id, backend, tmp_path):
    journal_with_checkpoints(backend, store_id)
    bucket = copy_bucket(store_id, tmp_path / "bucket")
    keys = tmp_path / "public-keys.json"
    keys.write_bytes(client.get("/v1/journal/public-keys").get_data())

    done = auditor("--archive", str(bucket), "--keys", str(keys), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"{store_id}: 8 entries, 2 checkpoints (latest 7), ok\n"), done.stderr

    entry = bucket / "journal" / store_id / "000000000003.json"
    original = entry.read_bytes()
    at = original.index(b'"total":') + len(b'"total":')
    entry.write_bytes(original[:at] + bytes([original[at] ^ 1]) + original[at + 1 :])  # 8 → 9, say
    done = auditor("--archive", str(bucket), "--keys", str(keys), cwd=tmp_path)
    failed = (
        f"{store_id}: 8 entries, 2 checkpoints (latest 7), FAILED: seq 3: hash does not match the entry's content\n"
    )
    assert (done.returncode, done.stdout) == (1, failed)

    done = auditor("--archive", str(bucket), "--keys", str(keys), "--json", cwd=tmp_path)
    assert (done.returncode, json.loads(done.stdout)) == (
        1,
        {
            "ok": False,
            "stores": [
                {
                    "store_id": store_id,
                    "entries": 8,
                    "checkpoints": 2,
                    "latest_checkpoint": 7,
                    "ok": False,
                    "problem": "seq 3: hash does not match the entry's content",
                    "archive_behind": False,
                }
            ],
        },
    )


def test_offline_the_keys_may_be_verifier_keys_one_per_line_and_only_those_are_trusted(
    client, store_id, backend, tmp_path
):
    journal_with_checkpoints(backend, store_id)
    bucket = copy_bucket(store_id, tmp_path / "bucket")
    published = client.get("/v1/journal/public-keys").get_json()
    lines = tmp_path / "keys.txt"
    lines.write_text("".join(f"{key['vkey']}\n" for key in published))
    done = auditor("--archive", str(bucket), "--keys", str(lines), "--store", store_id, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"{store_id}: 8 entries, 2 checkpoints (latest 7), ok\n")

    forger = tmp_path / "forger.txt"
    forger.write_text(FORGER.verifier.vkey + "\n")
    done = auditor("--archive", str(bucket), "--keys", str(forger), cwd=tmp_path)
    problem = "checkpoint 5: no trusted key signed the note"
    assert (done.returncode, done.stdout) == (
        1,
        f"{store_id}: 8 entries, 2 checkpoints (latest 7), FAILED: {problem}\n",
    )


def test_firestore_and_the_archive_agree_checkpoint_for_checkpoint(store_id, backend, tmp_path):
    journal_with_checkpoints(backend, store_id)
    verdict = verify_store(backend, store_id)
    assert (verdict.ok, verdict.entries, verdict.checkpoints, verdict.latest_checkpoint) == (True, 8, 2, 7)
    assert store_id in backend.archived.store_ids()  # what --all adds to Firestore's stores
    done = subprocess.run(
        [str(TRESEN), "verify", "--store", store_id, "--json"],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["stores"] == [
        {
            "store_id": store_id,
            "entries": 8,
            "checkpoints": 2,
            "latest_checkpoint": 7,
            "ok": True,
            "problem": None,
            "archive_behind": False,
        }
    ]


def test_a_checkpoint_still_in_the_outbox_is_behind_and_the_sweep_catches_up(store_id, backend):
    journal_with_checkpoints(backend, store_id)
    name = archive.checkpoint_object_name(store_id, 7)
    note = archive.bucket().blob(name).download_as_bytes()
    archive.bucket().blob(name).delete()  # as if its archive write had not happened yet
    marker = backend.db.document(checkpoint_outbox_path(store_id, 7))
    marker.set({"store_id": store_id, "checkpoint": 7, "at": now()})
    verdict = verify_store(backend, store_id)
    assert (verdict.problem, verdict.archive_behind) == ("checkpoint 7: not archived yet (`tresen sweep`)", True)

    marker.delete()  # without its marker it would never be archived: missing, not behind
    verdict = verify_store(backend, store_id)
    assert (verdict.problem, verdict.archive_behind) == ("checkpoint 7: missing from the archive", False)

    marker.set({"store_id": store_id, "checkpoint": 7, "at": now()})
    sweep_archive(SweepArchive(timedelta(0)), backend)
    assert archive.bucket().blob(name).download_as_bytes() == note
    assert verify_store(backend, store_id).ok


def test_a_checkpoint_forged_into_the_bucket_is_named_online_and_offline(store_id, backend, tmp_path):
    journal_with_checkpoints(backend, store_id)
    real = archive.bucket().blob(archive.checkpoint_object_name(store_id, 7)).download_as_text()
    signed = parse_checkpoint(open_note(real, [backend.signer.verifier]).text)
    body = Checkpoint(signed.origin, 8, signed.root).body()  # a size never signed, with an old root
    forged = sign_note(body, FORGER.name, FORGER.sign, FORGER.verifier.key_id)
    archive.put_create_only(archive.checkpoint_object_name(store_id, 8), forged.encode(), "text/plain")
    verdict = verify_store(backend, store_id)
    assert verdict.problem == "archive: checkpoint 8: no trusted key signed the note"

    bucket = copy_bucket(store_id, tmp_path / "bucket")
    keys = tmp_path / "keys.txt"
    keys.write_text(backend.signer.verifier.vkey + "\n")
    done = auditor("--archive", str(bucket), "--keys", str(keys), cwd=tmp_path)
    problem = "checkpoint 8: no trusted key signed the note"
    assert (done.returncode, done.stdout) == (
        1,
        f"{store_id}: 8 entries, 3 checkpoints (latest 8), FAILED: {problem}\n",
    )


def test_an_archive_copy_missing_entries_a_checkpoint_covers_is_behind_or_lost(store_id, backend, tmp_path):
    journal_with_checkpoints(backend, store_id)
    bucket = copy_bucket(store_id, tmp_path / "bucket")
    for seq in (6, 7, 8):
        (bucket / archive.archive_object_name(store_id, seq)).unlink()
    keys = tmp_path / "keys.txt"
    keys.write_text(backend.signer.verifier.vkey + "\n")
    done = auditor("--archive", str(bucket), "--keys", str(keys), "--json", cwd=tmp_path)
    [found] = json.loads(done.stdout)["stores"]
    assert (done.returncode, found["problem"], found["archive_behind"], found["entries"]) == (
        1,
        "seq 6: missing, though checkpoint 7 covers it: the archive holds 5 entries (behind, or it lost the rest)",
        True,
        5,
    )
