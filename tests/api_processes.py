"""Several API processes on one database, as Cloud Run runs several instances of a function: each its
own interpreter with its own catalog cache, store writer and cached journal heads, sharing nothing but
the emulators.

The tests start them (`from api_processes import ApiProcesses`), and so does `make bench` (as
`tests.api_processes`): it imports nothing of the tests' own but what the package provides.

Each process serves what `tresen dev` serves (`tresen.webserver.serve`, the `dev` function with every
route) on a free port, on the emulators of the process that starts it (`FIRESTORE_EMULATOR_HOST` and
`STORAGE_EMULATOR_HOST`, as the `emulators` fixture sets them). A process stops when its standard
input closes, after its archive queue is drained, and dies with the thread that started it (asked of
the kernel by the child itself: a `preexec_fn` would fork the test process, gRPC's threads and all,
which now and then aborted the child).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tresen.devstack import free_port

ROOT = Path(__file__).resolve().parents[1]

READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
SERVE = """
import signal
import sys
from tresen.devstack import parent_death_signal
from tresen.webserver import serve
from tresen.adapters.backend import backend

die_with_parent = parent_death_signal(signal.SIGKILL)
if die_with_parent:
    die_with_parent()
server = serve(int(sys.argv[1]))
sys.stdin.read()  # until the test closes it
server.shutdown()
backend().archive.drain()
"""


class ApiProcesses:
    """`count` API processes, ready once the constructor returns; a context manager that stops them."""

    def __init__(self, count: int, env: dict[str, str] | None = None):
        """`env`: more environment over the caller's (a running stack's emulators and stand-ins)."""
        self.ports = [free_port() for _ in range(count)]
        env = os.environ | (env or {}) | {"PYTHONPATH": str(ROOT / "functions")}
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-c", SERVE, str(port)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
            )
            for port in self.ports
        ]
        try:
            for url, process in zip(self.urls, self.processes, strict=True):
                wait_healthy(url, process)
        except BaseException:
            self.stop()
            raise

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def __enter__(self) -> ApiProcesses:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_healthy(url: str, process: subprocess.Popen) -> None:
    session = requests.Session()
    session.trust_env = False  # 127.0.0.1 only, never through a proxy of the environment
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API process for {url} ended with {process.returncode}")
        try:
            if session.get(f"{url}/v1/health", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the API process for {url} did not answer within {READY_TIMEOUT_S} s")
