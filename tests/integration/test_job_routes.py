"""The sweep and verify jobs over HTTP (dev mode runs jobs on any function; production only on the
private `jobs` function): the sweep archives what the outbox holds, verify names every store."""

from __future__ import annotations

import uuid

from support import journal_types, paid_order


def test_the_sweep_and_verify_jobs_answer_what_they_did(client, store_id, backend):
    paid_order(client, store_id)
    backend.archive.drain()
    swept = client.post("/v1/jobs/sweep")
    assert swept.status_code == 200 and swept.get_json()["failing"] == 0
    verified = client.post(f"/v1/jobs/verify?run={uuid.uuid4().hex}")  # a run of its own: every store
    assert verified.status_code == 200
    ours = next(s for s in verified.get_json()["stores"] if s["store_id"] == store_id)
    assert ours["ok"] is True and ours["entries"] == len(journal_types(backend, store_id))
