"""`tresen dev` / `make run` as a user runs them: ready line, the README flow, clean stop, persistence."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import ROOT, free_port
from support import staff_token

pytestmark = pytest.mark.e2e
VENV_BIN = Path(sys.executable).parent


class RunningStack:
    def __init__(self, argv: list[str], data_dir: Path | None = None):
        self.port, self.firestore_port, self.storage_port = free_port(), free_port(), free_port()
        env = os.environ | {
            "TRESEN_PORT": str(self.port),
            "FIRESTORE_PORT": str(self.firestore_port),
            "STORAGE_PORT": str(self.storage_port),
            "TRESEN_ENV": "dev",
        }
        for inherited in ("FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"):
            env.pop(inherited, None)
        if data_dir:
            env["TRESEN_DATA_DIR"] = str(data_dir)
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if line.startswith("tresen ready: "):
                self.ready_line = line.strip()
                return
        self.process.kill()
        raise AssertionError("no ready line:\n" + "".join(self.output))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def descendants(self) -> set[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = set(), [self.process.pid]
        while todo:
            pid = todo.pop()
            found.add(pid)
            todo.extend(children.get(pid, []))
        return found

    def stop(self, sig: int = signal.SIGINT, target: int | None = None) -> int:
        os.kill(target or self.process.pid, sig)
        code = self.process.wait(timeout=60)
        self.process.stdout.close()
        return code

    def ports_closed(self) -> bool:
        return all(_refused(p) for p in (self.port, self.firestore_port, self.storage_port))


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its exit status is left


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


def wait_for_status(base: str, order: dict, status: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        current = requests.get(
            f"{base}/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}, timeout=10
        ).json()
        if current["status"] == status or time.monotonic() > deadline:
            assert current["status"] == status
            return current
        time.sleep(0.1)


def refund_with_passkey(base: str, order: dict, auth: dict, pin: str) -> requests.Response:
    return requests.post(
        f"{base}/v1/stores/demo/orders/{order['id']}/refunds",
        json={"amount": 100},
        timeout=10,
        headers=auth | {"X-Passkey": pin, "Idempotency-Key": str(uuid.uuid4())},
    )


def test_readme_flow_then_ctrl_c_leaves_nothing_behind():
    stack = RunningStack([str(VENV_BIN / "tresen"), "dev"])
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
        assert len(family) >= 4  # tresen, gcloud, java (under a shell), fake-gcs-server
    finally:
        code = stack.stop(signal.SIGINT)
    assert code == 0
    assert wait_all_gone(family) == set()
    assert stack.ports_closed()


def test_sigterm_to_make_run_stops_everything_and_data_and_passkey_lock_persist(tmp_path):
    first = RunningStack(["make", "--no-print-directory", "run"], data_dir=tmp_path)
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

    second = RunningStack([str(VENV_BIN / "tresen"), "dev"], data_dir=tmp_path)
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
