"""`tresen dev` / `make run` as a user runs them: ready line, the README flow, clean stop, persistence;
every way of stopping it ends every process within 10 s, and none outlives a `kill -9` of it."""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from stack import ROOT, TRESEN_DEV, RunningStack, command_line, dev_env, free_port, wait_for_status
from support import staff_token

pytestmark = pytest.mark.e2e
MAKE_RUN = ["make", "--no-print-directory", "run"]
STOP_LIMIT_S = 10  # the contract: on Ctrl-C or SIGTERM every process is gone within this
STOP_ROUNDS = int(os.environ.get("TRESEN_STOP_ROUNDS", "3"))  # 20 before a release: see docs/operations.md


def naming_ports(ports: tuple[int, ...]) -> list[str]:
    """Live processes whose command line names one of the ports: an emulator of ours, wherever its
    parent chain leads after its parent died."""
    found = []
    for entry in Path("/proc").iterdir():
        args = command_line(int(entry.name)) if entry.name.isdigit() and alive(int(entry.name)) else []
        if any(arg == str(port) or arg.endswith(f"={port}") for arg in args for port in ports):
            found.append(" ".join(args))
    return found


def signal_side_thread(pid: int, sig: int) -> None:
    """Hand `sig` to a thread of `pid` other than its main one, as the kernel may: Python runs the
    handler in the main thread only, once that thread wakes. The newest: the HTTP server's, say."""
    for tid in sorted((int(task) for task in os.listdir(f"/proc/{pid}/task")), reverse=True):
        status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        blocked = int(re.search(r"SigBlk:\s*([0-9a-f]+)", status)[1], 16)
        if tid != pid and not blocked & 1 << (sig - 1):
            assert ctypes.CDLL(None, use_errno=True).tgkill(pid, tid, sig) == 0, os.strerror(ctypes.get_errno())
            return
    raise AssertionError(f"no thread of {pid} but the main one takes signal {sig}")


def alive(pid: int) -> bool:
    """A zombie has exited, only its exit status is left; but the main thread of a dying process is
    a zombie while its other threads (which may hold its sockets) still run."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    return any(_task_state(pid, task) not in ("Z", None) for task in tasks)


def _task_state(pid: int, task: str) -> str | None:
    try:
        return Path(f"/proc/{pid}/task/{task}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def wait_all_gone(pids: set[int], timeout: float = 15) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    return {p for p in pids if alive(p)}


def place_order(base: str) -> dict:
    response = requests.post(
        f"{base}/v1/stores/demo/orders",
        timeout=30,
        headers={"Idempotency-Key": str(uuid.uuid4())},
        json={
            "items": [{"product_id": "cappuccino", "quantity": 2, "options": ["oat"]}],
            "fulfilment": {"type": "pickup"},
            "customer": {"name": "Anna", "email": "anna@example.com"},
            "payment": {"method": "online"},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def refund_with_passkey(base: str, order: dict, auth: dict, pin: str) -> requests.Response:
    return requests.post(
        f"{base}/v1/stores/demo/orders/{order['id']}/refunds",
        json={"amount": 100},
        timeout=10,
        headers=auth | {"X-Passkey": pin, "Idempotency-Key": str(uuid.uuid4())},
    )


def test_readme_flow_then_ctrl_c_leaves_nothing_behind():
    stack = RunningStack(TRESEN_DEV)
    try:
        assert stack.ready_line == f"tresen ready: {stack.url}"
        menu = requests.get(f"{stack.url}/v1/stores/demo/menu", timeout=10).json()
        assert menu["store"]["name"] == "Demo Café"
        order = place_order(stack.url)
        assert (order["status"], order["totals"]["total"]) == ("awaiting_payment", 860)
        read = requests.get(
            f"{stack.url}/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}, timeout=10
        )
        assert read.json()["id"] == order["id"]
        assert requests.get(f"{stack.url}/v1/health", timeout=10).json() == {"status": "ok"}
        assert order["payment"]["checkout_url"].startswith(stack.url)
        page = requests.get(order["payment"]["checkout_url"], timeout=10)
        assert page.status_code == 200 and "Pay</button>" in page.text
        pressed = requests.post(order["payment"]["checkout_url"], data={"action": "pay"}, timeout=10)
        assert "Payment sent." in pressed.text
        assert wait_for_status(stack.url, order, "paid")["invoice_number"].startswith("DEMO-")
        family = stack.descendants()
        assert {stack.pid_of("java"), stack.pid_of("fake-gcs-server")} < family
    finally:
        code = stack.stop(signal.SIGINT)
    assert code == 0
    assert wait_all_gone(family) == set()
    assert stack.ports_closed()


def test_sigterm_to_make_run_stops_everything_and_data_and_passkey_lock_persist(tmp_path):
    first = RunningStack(MAKE_RUN, data_dir=tmp_path)
    order = place_order(first.url)
    requests.post(order["payment"]["checkout_url"], data={"action": "pay"}, timeout=10)
    wait_for_status(first.url, order, "paid")
    owner = {"Authorization": f"Bearer {staff_token({'demo': 'owner'})}"}
    passkey = requests.put(
        f"{first.url}/v1/stores/demo/passkey", json={"pin": "246810", "protect": ["refund"]}, headers=owner, timeout=10
    )
    assert passkey.status_code == 204
    for _ in range(5):
        assert refund_with_passkey(first.url, order, owner, "000000").json()["code"] == "passkey_invalid"
    family = first.descendants()
    first.stop(signal.SIGTERM)  # to make itself, as a process supervisor would
    assert wait_all_gone(family, timeout=30) == set()
    assert first.ports_closed()

    second = RunningStack(TRESEN_DEV, data_dir=tmp_path)
    try:
        read = requests.get(
            f"{second.url}/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}, timeout=10
        )
        assert read.status_code == 200
        assert read.json()["number"] == order["number"]
        again = place_order(second.url)
        assert again["number"] == order["number"] + 1
        locked = refund_with_passkey(second.url, order, owner, "246810")  # the right one, but locked
        assert (locked.status_code, locked.json()["code"]) == (423, "passkey_locked")
    finally:
        second.stop(signal.SIGTERM)


def test_kill_9_of_tresen_dev_leaves_no_emulator_behind():
    stack = RunningStack(TRESEN_DEV)
    try:
        family = stack.descendants()
        assert {stack.pid_of("java"), stack.pid_of("fake-gcs-server")} < family
        os.kill(stack.process.pid, signal.SIGKILL)
        assert stack.finish() == -signal.SIGKILL
        assert wait_all_gone(family, timeout=STOP_LIMIT_S) == set()
        assert stack.ports_closed()
        assert naming_ports(stack.ports) == []
    finally:
        stack.kill()


def test_a_second_start_on_a_busy_port_refuses_with_one_line():
    running = RunningStack(TRESEN_DEV)
    try:
        for taken, what in zip(running.ports, ("API", "Firestore emulator", "Storage emulator"), strict=True):
            # the others free: each port is checked, not just the first
            ports = tuple(port if port == taken else free_port() for port in running.ports)
            refused = subprocess.run(
                TRESEN_DEV, cwd=ROOT, env=dev_env(*ports), capture_output=True, text=True, timeout=60
            )
            assert refused.returncode == 1
            assert refused.stderr.splitlines() == [
                f"tresen: port {taken} ({what}) is already in use — is another `tresen dev` running?"
            ]
            assert refused.stdout == ""
        assert requests.get(f"{running.url}/v1/health", timeout=10).json() == {"status": "ok"}
    finally:
        running.stop(signal.SIGTERM)


WAYS_TO_STOP = {
    "SIGTERM to the process group of `make run`": lambda stack: os.killpg(stack.process.pid, signal.SIGTERM),
    "SIGTERM handed to a side thread of `tresen dev`": lambda stack: signal_side_thread(
        stack.pid_of("tresen"), signal.SIGTERM
    ),
    "Ctrl-C (SIGINT to the process group)": lambda stack: os.killpg(stack.process.pid, signal.SIGINT),
}


def test_every_stop_of_make_run_ends_every_process_within_10_s():
    ways = list(WAYS_TO_STOP.items())
    for round_ in range(STOP_ROUNDS):
        way, send = ways[round_ % len(ways)]
        stack = RunningStack(MAKE_RUN)
        try:
            family = stack.descendants()
            sent = time.monotonic()
            send(stack)
            left = wait_all_gone(family, timeout=STOP_LIMIT_S)
            took = time.monotonic() - sent
            print(f"round {round_ + 1}/{STOP_ROUNDS}, {way}: {len(left)} processes left after {took:.1f} s")
            assert left == set(), f"round {round_ + 1}, {way}: {[command_line(pid) for pid in left]} still running"
            stack.finish()
            assert stack.ports_closed()
            assert "tresen: stopping\n" in "".join(stack.output), f"round {round_ + 1}, {way}: not a clean stop"
        finally:
            stack.kill()


def test_a_hung_emulator_does_not_hold_up_the_stop(tmp_path):
    stack = RunningStack(TRESEN_DEV, data_dir=tmp_path)
    family = stack.descendants()
    java = stack.pid_of("java")
    try:
        os.kill(java, signal.SIGSTOP)  # the export at stop waits for an answer that never comes
        sent = time.monotonic()
        code = stack.stop(signal.SIGTERM)
        assert wait_all_gone(family, timeout=STOP_LIMIT_S) == set()
        assert time.monotonic() - sent < STOP_LIMIT_S
        assert code == 1
        assert "tresen: not stopped 8 s after the signal; killing everything\n" in "".join(stack.output)
        assert stack.ports_closed()
    finally:
        stack.kill()
        if alive(java):
            os.kill(java, signal.SIGKILL)
