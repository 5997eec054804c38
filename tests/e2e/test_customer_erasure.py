"""A person erased on a running stack, as the README runs it: every store's journal still verifies,
online against Firestore and the bucket, and offline from a copy of the bucket (`tresen verify --all`)."""

from __future__ import annotations

import os
import subprocess
import uuid

import requests

from stack import ROOT, TRESEN, RunningStack
from tresen.adapters.identity import unsigned_dev_token


def test_after_an_erasure_every_journal_verifies_online_and_offline(tmp_path):
    with RunningStack() as stack:
        owner = {"Authorization": f"Bearer {unsigned_dev_token(uid='owner-1', stores={'demo': 'owner'})}"}
        base = f"{stack.url}/v1/stores/demo"
        person = {"given_name": "Ida", "family_name": "Eichhörnchen", "email": "ida@example.com"}
        made = requests.post(f"{base}/customers", json=person, headers=owner, timeout=10)
        assert made.status_code == 201, made.text
        order = {
            "items": [{"product_id": "croissant", "quantity": 1}],
            "fulfilment": {"type": "pickup"},
            "customer": {"name": "Ida Eichhörnchen", "email": "ida@example.com"},
            "payment": {"method": "on_site"},
        }
        placed = requests.post(f"{base}/orders", json=order, headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=10)
        assert placed.status_code == 201, placed.text
        erased = requests.delete(f"{base}/customers/{made.json()['id']}", headers=owner, timeout=30)
        assert (erased.status_code, erased.json()["retained"]) == (200, [])
        requests.post(f"{stack.url}/v1/jobs/checkpoints?run={uuid.uuid4().hex}", timeout=30).raise_for_status()

        online = run(["verify", "--all"], stack.cli_env | {"HOME": str(tmp_path)}, ROOT)
        assert online.returncode == 0, online.stdout + online.stderr
        keys = tmp_path / "public-keys.json"
        keys.write_bytes(requests.get(f"{stack.url}/v1/journal/public-keys", timeout=10).content)
        bucket = copy_bucket(stack, tmp_path / "bucket")
        auditor = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # nothing of Tresen's settings
        offline = run(["verify", "--archive", str(bucket), "--keys", str(keys)], auditor, tmp_path)
        assert offline.returncode == 0, offline.stdout + offline.stderr
        assert "demo:" in offline.stdout and "ok" in offline.stdout


def run(args: list[str], env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run([str(TRESEN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def copy_bucket(stack: RunningStack, directory):
    """Every object of the stack's archive bucket, as `gcloud storage cp -r "gs://BUCKET/*" DIR` leaves them."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(
        project="demo-tresen",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": f"http://127.0.0.1:{stack.storage_port}"},
    )
    for blob in client.bucket("tresen-archive-dev").list_blobs():
        path = directory / blob.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob.download_as_bytes())
    return directory
