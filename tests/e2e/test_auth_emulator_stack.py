"""`tresen dev` with firebase-tools' Auth emulator: a person who signs in there is staff of the API
by the claims the emulator puts in their token; the emulator is one of the stack's processes, stops
with it and keeps its accounts in TRESEN_DATA_DIR; its port is AUTH_PORT, or 9099 unless taken.
Without firebase-tools the stack starts all the same and says why it has none."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import requests
from test_stack_lifecycle import wait_all_gone

from stack import ROOT, TRESEN_DEV, RunningStack, command_line, dev_env, free_port
from tresen import devstack

pytestmark = pytest.mark.e2e
with_firebase_tools = pytest.mark.skipif(
    not devstack.FIREBASE_CLI.is_file(), reason="no firebase-tools: `make test` installs it from npm"
)
EMAIL, PASSWORD = "anna@example.com", "Kaffee-und-Kuchen-42"


def identity_toolkit(port: int, call: str, body: dict, admin: bool = False) -> dict:
    """Identity Toolkit's REST API on the emulator: as a browser does (web API key), or with the
    emulator's stand-in for an administrator's credentials (`Bearer owner`)."""
    path = f"projects/demo-tresen/{call}" if admin else call
    response = requests.post(
        f"http://127.0.0.1:{port}/identitytoolkit.googleapis.com/v1/{path}",
        params={"key": "fake-api-key"},
        headers={"Authorization": "Bearer owner"} if admin else {},
        json=body,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def staff_orders(stack: RunningStack, id_token: str) -> int:
    headers = {"Authorization": f"Bearer {id_token}"}
    return requests.get(f"{stack.url}/v1/stores/demo/orders", headers=headers, timeout=10).status_code


@with_firebase_tools
def test_tresen_dev_runs_an_auth_emulator_whose_sign_ins_are_staff_by_their_claims():
    auth_port = free_port()
    stack = RunningStack(env={"AUTH_PORT": str(auth_port)})
    try:
        sign_in = {"email": EMAIL, "password": PASSWORD, "returnSecureToken": True}
        uid = identity_toolkit(auth_port, "accounts:signUp", sign_in)["localId"]
        no_role = identity_toolkit(auth_port, "accounts:signInWithPassword", sign_in)["idToken"]
        assert staff_orders(stack, no_role) == 403  # signed in, but staff of no store

        claims = json.dumps({"stores": {"demo": "owner"}})
        identity_toolkit(auth_port, "accounts:update", {"localId": uid, "customAttributes": claims}, admin=True)
        owner = identity_toolkit(auth_port, "accounts:signInWithPassword", sign_in)["idToken"]
        assert staff_orders(stack, owner) == 200

        family = stack.descendants()
        assert stack.pid_of("node") in family
    finally:
        code = stack.stop(signal.SIGINT)
    assert code == 0
    assert wait_all_gone(family) == set()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{auth_port}/", timeout=5)


def auth_port_of(stack: RunningStack) -> int:
    """The port in the firebase.json the stack's Auth emulator was started with."""
    argv = command_line(stack.pid_of("node"))
    config = json.loads(Path(argv[argv.index("--config") + 1]).read_text())
    return config["emulators"]["auth"]["port"]


@with_firebase_tools
def test_with_a_data_directory_the_accounts_outlive_a_restart(tmp_path):
    sign_in = {"email": EMAIL, "password": PASSWORD, "returnSecureToken": True}
    with RunningStack(data_dir=tmp_path) as first:
        uid = identity_toolkit(auth_port_of(first), "accounts:signUp", sign_in)["localId"]
        assert first.stop(signal.SIGINT) == 0

    with RunningStack(data_dir=tmp_path) as second:
        signed_in = identity_toolkit(auth_port_of(second), "accounts:signInWithPassword", sign_in)
        assert signed_in["localId"] == uid


@with_firebase_tools
def test_with_9099_taken_and_no_auth_port_given_the_emulator_takes_another(monkeypatch):
    monkeypatch.delenv("AUTH_PORT")  # tests/conftest.py sets it for every stack of the tests
    with socket.socket() as holder:
        try:
            holder.bind(("127.0.0.1", 9099))
            holder.listen()
        except OSError:
            pass  # held already (a `make run` beside the tests, say): all the same to this test
        with RunningStack() as stack:
            port = auth_port_of(stack)
            assert port != 9099
            assert requests.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200


@with_firebase_tools
def test_an_auth_port_given_and_taken_refuses_the_start_with_one_line():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        env = dev_env(free_port(), free_port(), free_port()) | {"AUTH_PORT": str(taken)}
        refused = subprocess.run(TRESEN_DEV, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"tresen: port {taken} (Auth emulator) is already in use — is another `tresen dev` running?"
    ]


@pytest.mark.skipif(not devstack.emulator_available(), reason=devstack.INSTALL_HINT)
def test_without_firebase_tools_the_stack_starts_without_an_auth_emulator_and_says_so(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(devstack, "FIREBASE_CLI", tmp_path / "firebase")
    for name in ("FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)  # the session's own come back after the test
    stack = devstack.LocalStack(
        firestore_port=free_port(), storage_port=free_port(), rules=ROOT / "firestore.rules", project="demo-tresen"
    )
    try:
        with caplog.at_level(logging.WARNING, logger="tresen.devstack"):
            stack.start()
        assert [r.getMessage() for r in caplog.records if r.name == "tresen.devstack"] == [
            f"no Auth emulator: {tmp_path / 'firebase'} is missing (`make run` installs it from npm); "
            "unsigned dev tokens (`tresen token`) work as before"
        ]
        assert "FIREBASE_AUTH_EMULATOR_HOST" not in os.environ
        assert os.environ["FIRESTORE_EMULATOR_HOST"] == stack.firestore_host
    finally:
        stack.stop(export=False)
