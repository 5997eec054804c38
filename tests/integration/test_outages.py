"""Outages: a frozen Firestore answers 503 with Retry-After within seconds, and service resumes at
once when it returns; a database that lost journal entries (a restore) stops the store's writes
until `tresen recover` brings them back from the archive."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import timedelta

from support import deliver, idem, online_order, order_body, payment_event, request
from tresen import cli
from tresen.http.router import idempotency_record_id, request_fingerprint
from tresen.services.archive_sweep import SweepArchive, sweep_archive
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.verify import verify_store

ANSWER_WITHIN = 10  # seconds: a customer's phone waits about this long


def answered_within(seconds: float, call):
    """The call's answer, or None if it had none after `seconds` (it runs on in the background)."""
    answers = []
    worker = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    return answers[0] if answers else None


def frozen(group: int) -> bool:
    """Whether every thread of every process of the group is stopped: SIGSTOP is delivered
    asynchronously, and on a busy machine the emulator can still answer a request or two after
    `killpg` returned."""
    states = []
    for process in os.scandir("/proc"):
        if not process.name.isdigit() or process_group(process.name) != group:
            continue
        for thread in os.scandir(f"/proc/{process.name}/task"):
            states.append(stat_fields(f"/proc/{process.name}/task/{thread.name}/stat")[0])
    return bool(states) and all(state in "Tt" for state in states if state)


def process_group(pid: str) -> int | None:
    fields = stat_fields(f"/proc/{pid}/stat")
    return int(fields[2]) if len(fields) > 2 else None


def stat_fields(path: str) -> list[str]:
    """The fields after the command name (state, ppid, pgrp, …); none if the process is gone."""
    try:
        with open(path) as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return [""]


def test_a_frozen_firestore_answers_503_quickly_and_service_resumes_when_it_returns(client, store_id, emulators):
    order = online_order(client, store_id)
    calls = {
        "order": lambda: client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()),
        "webhook": lambda: deliver(client, payment_event(order, "succeeded")),
        "health": lambda: client.get("/v1/health"),
    }
    firestore = emulators._children[0].pid  # the emulator's process group (gcloud and its java)
    os.killpg(firestore, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 5
        while not frozen(firestore) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert frozen(firestore), "the emulator did not stop"
        for name, call in calls.items():
            response = answered_within(ANSWER_WITHIN, call)
            assert response is not None, f"{name}: no answer within {ANSWER_WITHIN} s"
            assert (response.status_code, response.content_type) == (503, "application/problem+json"), name
            assert response.headers["Retry-After"].isdigit(), name
    finally:
        os.killpg(firestore, signal.SIGCONT)
    time.sleep(5)
    for name, call in calls.items():
        response = answered_within(ANSWER_WITHIN, call)
        assert response is not None and response.status_code < 300, name
    paid = client.get(f"/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}).get_json()
    assert (paid["status"], paid["payment_status"]) == ("paid", "paid")


def lose_newest_journal_entries(backend, store_id: str, count: int) -> None:
    """What a restore from a backup taken a little earlier does to the journal."""
    for entry in backend.journal.entries(store_id)[-count:]:
        backend.db.document(f"stores/{store_id}/journal/{entry['seq']:012d}").delete()
    backend.writer.forget_journal_head(store_id)  # as an instance that starts after the restore


def test_a_restored_database_stops_writes_until_recover_brings_the_archived_entries_back(
    client, store_id, backend, capsys
):
    for _ in range(3):
        place_order(PlaceOrder(store_id, request(), {"type": "customer"}), backend)
    backend.archive.drain()
    lost = [e["hash"] for e in backend.journal.entries(store_id)[1:]]
    lose_newest_journal_entries(backend, store_id, 2)

    refused = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    assert (refused.status_code, refused.get_json()["code"]) == (503, "journal_recovery_needed")
    assert refused.headers["Retry-After"] == "60"
    assert [e["seq"] for e in backend.journal.entries(store_id)] == [1]
    verdict = verify_store(backend, store_id)
    assert verdict.problem == "seq 2: missing from Firestore, the archive holds it (`tresen recover`)"

    assert cli.main(["recover", "--store", store_id]) == 0
    printed = capsys.readouterr().out
    assert f"{store_id}: restored 2 journal entries (seq 2-3) from the archive" in printed
    assert [e["hash"] for e in backend.journal.entries(store_id)[1:]] == lost
    assert verify_store(backend, store_id).ok

    placed = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    assert placed.status_code == 201
    backend.archive.drain()
    assert [e["seq"] for e in backend.journal.entries(store_id)] == [1, 2, 3, 4]
    assert verify_store(backend, store_id).ok


def test_recover_lists_the_business_documents_the_restore_lost_and_claims_their_invoice_numbers(
    store_id, backend, capsys
):
    placed = [place_order(PlaceOrder(store_id, request(), {"type": "customer"}), backend) for _ in range(2)]
    backend.archive.drain()
    lost_order = placed[1].order
    backend.db.document(f"orders/{lost_order.id}").delete()
    backend.db.document(f"stores/{store_id}/invoice_numbers/{lost_order.invoice_number[-11:-7]}-000000002").delete()
    lose_newest_journal_entries(backend, store_id, 1)

    assert cli.main(["recover", "--store", store_id]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1:] == [
        f"{store_id}: invoice numbers claimed again: {lost_order.invoice_number}",
        f"{store_id}: to resolve: seq 2 order.placed: order {lost_order.id} is missing",
    ]


def test_verify_names_the_first_seq_where_firestore_and_archive_fork(store_id, backend):
    """Firestore lost seq 2-3 and took other entries under those seqs: the fork starts at 2, even
    though the archive's own chain breaks only later, where entries written after the fork land."""
    for _ in range(3):
        place_order(PlaceOrder(store_id, request(), {"type": "customer"}), backend)
    backend.archive.drain()
    for seq in (2, 3):
        backend.db.document(f"stores/{store_id}/journal/{seq:012d}").delete()
    backend.writer.forget_journal_head(store_id)
    backend.writer._archived = None  # an instance that could not reach the archive when it learned the head
    try:
        for _ in range(3):
            place_order(PlaceOrder(store_id, request(), {"type": "customer"}), backend)
        backend.archive.drain()
    finally:
        backend.writer._archived = backend.archive.store.holds
    verdict = verify_store(backend, store_id)
    assert verdict.problem == "seq 2: Firestore and archive differ"


def test_orders_placed_while_the_archive_is_frozen_all_succeed_and_are_archived_when_it_returns(
    client, store_id, backend, emulators
):
    storage = emulators._children[1].pid  # fake-gcs-server's process group
    os.killpg(storage, signal.SIGSTOP)
    try:
        placed = [client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()) for _ in range(5)]
    finally:
        os.killpg(storage, signal.SIGCONT)
    assert [response.status_code for response in placed] == [201] * 5
    backend.archive.drain(timeout=60)
    sweep_archive(SweepArchive(timedelta(0)), backend)  # whatever gave up meanwhile
    verdict = verify_store(backend, store_id)
    assert (verdict.ok, verdict.entries) == (True, 5)


def test_a_request_whose_instance_died_is_retried_with_its_key_within_seconds(client, store_id, backend):
    """A crashed instance leaves its key claimed and nothing committed; the retry goes through as
    soon as the short lease runs out, honouring Retry-After meanwhile."""
    body, key = order_body(), idem()
    path = f"/v1/stores/{store_id}/orders"
    record = idempotency_record_id(store_id, "public", key["Idempotency-Key"])
    fingerprint = request_fingerprint("POST", path, json.dumps(body).encode())
    assert backend.idempotency.begin(record, fingerprint, backend.now()).lease  # the instance dies holding it

    started, answers = time.monotonic(), []
    while time.monotonic() - started < ANSWER_WITHIN:
        response = client.post(path, json=body, headers=key)
        answers.append(response.status_code)
        if response.status_code != 409:
            break
        time.sleep(int(response.headers["Retry-After"]))
    assert answers[-1] == 201 and set(answers[:-1]) == {409}, answers
    orders = backend.db.collection("orders").where("store_id", "==", store_id).get()
    assert len(orders) == 1
