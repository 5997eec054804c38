"""`tresen dev` (or `make run`) started and stopped as a user does it, for the e2e tests and `make bench`.

Only the standard library and `requests`: the bench imports this as `tests.stack` (run as `python -m bench`
from the repository root), the tests as `stack` (pytest puts tests/ on sys.path), so it must not import
its neighbours by their bare names.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
TRESEN = VENV_BIN / "tresen"  # the installed entry point, as an operator runs it
TRESEN_DEV = [str(TRESEN), "dev"]
READY_PREFIX = "tresen ready: "
STRIPE_PREFIX = "stripe stand-in: "  # `tresen dev` with STRIPE_API_KEY and no STRIPE_API_BASE plays Stripe itself
FISKALY_PREFIX = "fiskaly stand-in: "  # and without FISKALY_API_BASE, fiskaly
STARTUP_TIMEOUT_S = 180  # the Firestore emulator is a JVM; a cold start on a small box takes a while
EXIT_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dev_env(port: int, firestore_port: int, storage_port: int, data_dir: Path | None = None) -> dict[str, str]:
    env = os.environ | {
        "TRESEN_PORT": str(port),
        "FIRESTORE_PORT": str(firestore_port),
        "STORAGE_PORT": str(storage_port),
        "TRESEN_ENV": "dev",
    }
    # Emulators of the caller's own (a test session's, say) and its data: a stack of its own, throwaway
    # unless `data_dir` says where to keep it.
    for inherited in ("FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"):
        env.pop(inherited, None)
    env.pop("TRESEN_DATA_DIR", None)
    if data_dir:
        env["TRESEN_DATA_DIR"] = str(data_dir)
    return env


class RunningStack:
    """Started on free ports and ready once the constructor returns; a context manager that stops it.

    The stack is the leader of a session of its own, so that a test can signal its whole process group
    as a terminal's Ctrl-C does. Everything it prints (stdout and stderr) is kept in `output`, read as it
    comes by a thread: a pipe nobody reads would fill up and block the server.
    """

    def __init__(
        self,
        argv: list[str] = TRESEN_DEV,
        data_dir: Path | None = None,
        ports: tuple[int, int, int] | None = None,
        env: dict[str, str] | None = None,
    ):
        """`env`: more environment for the stack, over the caller's (`{"STRIPE_API_KEY": "sk_test_demo"}`)."""
        self.ports = ports or (free_port(), free_port(), free_port())
        self.port, self.firestore_port, self.storage_port = self.ports
        self.extra_env = dict(env or {})
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=dev_env(*self.ports, data_dir) | self.extra_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []
        self._ready: queue.Queue[str | None] = queue.Queue()  # the ready line, or None once the output ends
        self._reader = threading.Thread(target=self._read_output, name="stack-output", daemon=True)
        self._reader.start()
        try:
            ready = self._ready.get(timeout=STARTUP_TIMEOUT_S)
        except queue.Empty:
            ready = None
        if ready is None:
            self.kill()
            raise RuntimeError(f"{' '.join(argv)}: no ready line within {STARTUP_TIMEOUT_S} s:\n{self.output_tail()}")
        self.ready_line = ready

    def _read_output(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith(READY_PREFIX):
                self._ready.put(line.strip())
        self._ready.put(None)

    def __enter__(self) -> RunningStack:
        return self

    def __exit__(self, *exc_info) -> None:
        """Stopped as Ctrl-C stops it, whatever happened; killed if that does not end it."""
        try:
            if self.process.poll() is None:
                self.stop(signal.SIGINT)
        except subprocess.TimeoutExpired:
            print(f"warning: the stack ignored SIGINT for {EXIT_TIMEOUT_S} s; killing it", file=sys.stderr)
        finally:
            self.kill()

    @property
    def cli_env(self) -> dict[str, str]:
        """For a `tresen` command run beside the stack, on its emulators (as the README says), with the
        stack's extra environment and on its Stripe stand-in, if it runs one."""
        env = dev_env(*self.ports) | self.extra_env
        if self.stripe_url:
            env["STRIPE_API_BASE"] = self.stripe_url
        if self.fiskaly_url:
            env["FISKALY_API_BASE"] = self.fiskaly_url
        return env | {
            "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{self.firestore_port}",
            "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{self.storage_port}",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stripe_url(self) -> str | None:
        """The local Stripe stand-in's URL, if the stack started one (it says so before it is ready)."""
        return self.announced(STRIPE_PREFIX)

    @property
    def fiskaly_url(self) -> str | None:
        """The local fiskaly stand-in's URL (the TSE), if the stack started one."""
        return self.announced(FISKALY_PREFIX)

    def announced(self, prefix: str) -> str | None:
        for line in list(self.output):
            if line.startswith(prefix):
                return line[len(prefix) :].split()[0]
        return None

    def output_tail(self, chars: int = 4000) -> str:
        return "".join(self.output)[-chars:]

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

    def pid_of(self, program: str) -> int:
        """The descendant running `program` (how the name of its executable or script begins)."""
        for pid in self.descendants():
            if any(Path(arg).name.startswith(program) for arg in command_line(pid)[:2]):
                return pid
        raise AssertionError(f"no {program} under {self.process.pid}")

    def stop(self, sig: int = signal.SIGINT, target: int | None = None) -> int:
        os.kill(target or self.process.pid, sig)
        return self.finish()

    def finish(self) -> int:
        """Wait for the exit and the end of its output (all of it is in `output` then)."""
        self.process.wait(timeout=EXIT_TIMEOUT_S)
        self._reader.join(timeout=EXIT_TIMEOUT_S)
        if self._reader.is_alive():  # a child that outlived it still holds the pipe
            raise subprocess.TimeoutExpired(self.process.args, EXIT_TIMEOUT_S, output="".join(self.output))
        return self.process.returncode

    def kill(self) -> None:
        """After a failed check: the emulators die with `tresen dev`, which dies with its session."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.finish()

    def ports_closed(self) -> bool:
        return all(_refused(p) for p in self.ports)


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    except OSError:
        return []


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


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
