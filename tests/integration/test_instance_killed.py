"""One store's orders spread over four API processes, one of them killed while it commits: every
customer retries on another instance with the same Idempotency-Key, as a client does after a lost
connection. Every order ends placed exactly once (the orders stored are exactly those answered), the
pickup and invoice numbers gap-free, one hash chain that verifies."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from datetime import timedelta

import pytest
import requests

from api_processes import ApiProcesses
from support import order_body
from tresen.services.archive_sweep import SweepArchive, sweep_archive
from tresen.services.verify import verify_store

pytestmark = pytest.mark.emulator

PROCESSES, CUSTOMERS, ORDERS_EACH = 4, 8, 8
KILL_AFTER = 20  # answers: the victim is busy committing by then
GIVE_UP_S = 60


def place_until_answered(urls: list[str], store_id: str, first: int) -> dict:
    """One order, retried with its key on the next instance after a lost connection or a 409 in
    progress / 503, until it is answered 201: the order's JSON."""
    key, body = str(uuid.uuid4()), order_body()
    session = requests.Session()
    session.trust_env = False  # 127.0.0.1 only
    deadline = time.monotonic() + GIVE_UP_S
    turn = first
    while time.monotonic() < deadline:
        url = urls[turn % len(urls)]
        turn += 1
        try:
            answer = session.post(
                f"{url}/v1/stores/{store_id}/orders", json=body, headers={"Idempotency-Key": key}, timeout=30
            )
        except requests.ConnectionError:
            continue
        if answer.status_code == 201:
            return answer.json()
        assert answer.status_code in (409, 503), answer.text
        time.sleep(float(answer.headers.get("Retry-After", "1")) / 4)
    raise AssertionError(f"order {key} never answered")


def test_an_instance_killed_mid_commit_loses_and_doubles_nothing(backend, store_id):
    answers: list[dict] = []
    counted = threading.Semaphore(0)
    with ApiProcesses(PROCESSES) as processes:
        urls = processes.urls

        def customer(n: int) -> None:
            for k in range(ORDERS_EACH):
                answers.append(place_until_answered(urls, store_id, n + k))
                counted.release()

        threads = [threading.Thread(target=customer, args=(n,)) for n in range(CUSTOMERS)]
        for thread in threads:
            thread.start()
        for _ in range(KILL_AFTER):
            assert counted.acquire(timeout=GIVE_UP_S)
        victim = processes.processes[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        for thread in threads:
            thread.join(GIVE_UP_S * ORDERS_EACH)

    placed = CUSTOMERS * ORDERS_EACH
    assert len(answers) == placed
    orders = backend.docs.query("orders", where=[("store_id", "==", store_id)])
    assert sorted(order.data["id"] for order in orders) == sorted(answer["id"] for answer in answers)
    assert sorted(order.data["number"] for order in orders) == list(range(1, placed + 1))
    invoices = sorted(int(order.data["invoice_number"].rsplit("-", 1)[1]) for order in orders)
    assert invoices == list(range(1, placed + 1))
    # what the killed instance committed but had not archived yet, the sweep archives
    sweep_archive(SweepArchive(timedelta(0)), backend)
    verdict = verify_store(backend, store_id)
    assert (verdict.ok, verdict.problem) == (True, None)
    assert verdict.entries == len(backend.journal.entries(store_id))
