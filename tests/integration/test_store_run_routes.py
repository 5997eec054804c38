"""The jobs over every store over HTTP: each answers its own results with how far its run got, a
finished run answers at once, and a bad run name or budget is refused."""

from __future__ import annotations

import uuid

import pytest

from support import idem, order_body


@pytest.mark.parametrize("job", ["checkpoints", "close-due", "verify"])
def test_a_job_answers_how_far_its_run_got_and_a_finished_run_does_nothing(client, store_id, backend, job):
    client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    backend.archive.drain()
    run = uuid.uuid4().hex
    first = client.post(f"/v1/jobs/{job}?run={run}")
    assert first.status_code == 200, first.get_data(as_text=True)
    walked = first.get_json()
    every_store = backend.journal.store_ids()
    assert (walked["handled"], walked["done"], walked["busy"]) == (len(every_store), True, False)
    assert walked["run"]["id"] == f"{job}:{run}"
    assert (walked["run"]["handled"], walked["run"]["done"], walked["run"]["invocations"]) == (
        len(every_store),
        True,
        1,
    )
    assert walked["run"]["cursor"] == every_store[-1]
    again = client.post(f"/v1/jobs/{job}?run={run}").get_json()
    assert (again["handled"], again["done"], again["busy"], again["run"]) == (0, True, False, walked["run"])
    mine = {"checkpoints": "signed", "close-due": "closed", "verify": "stores"}[job]
    assert [item["store_id"] for item in again[mine]] == []
    assert store_id in [item["store_id"] for item in walked[mine]]


@pytest.mark.parametrize("query", ["run=a/b", "run=" + "x" * 65, "budget=0", "budget=5000"])
def test_a_bad_run_name_or_budget_is_refused(client, query):
    refused = client.post(f"/v1/jobs/checkpoints?{query}")
    assert (refused.status_code, refused.get_json()["code"]) == (422, "validation_failed")
