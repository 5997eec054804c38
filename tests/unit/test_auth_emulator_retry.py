"""The Auth emulator of a stack on a free port is started once more on another when it exits while
starting (a port picked free can be taken before the emulator binds it); a port the operator gave
is not changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tresen.devstack import LocalStack, StackError


class FlakyAuth:
    """Exits while starting on its first port, answers on the next."""

    def __init__(self, port: int):
        self.port, self.ready_on, self.spawned = port, [], 0

    def wait_ready(self, child) -> None:
        if not self.ready_on:
            self.ready_on.append(None)
            raise StackError("the Auth emulator exited with status 2 while starting")
        self.ready_on.append(self.port)

    def spawn(self, logfile: Path):
        self.spawned += 1
        return object()


def stack_with(auth: FlakyAuth) -> LocalStack:
    stack = LocalStack(firestore_port=1, storage_port=2, rules=Path("firestore.rules"), project="p")
    stack.auth = auth
    return stack


def test_a_free_port_taken_meanwhile_is_replaced_by_another(monkeypatch):
    monkeypatch.setenv("AUTH_PORT", "0")
    auth = FlakyAuth(40001)
    stack_with(auth)._auth_ready(object())
    assert auth.spawned == 1 and auth.ready_on[0] is None
    assert auth.ready_on[1] == auth.port != 40001


def test_a_port_the_operator_gave_is_not_changed(monkeypatch):
    monkeypatch.setenv("AUTH_PORT", "9199")
    auth = FlakyAuth(9199)
    with pytest.raises(StackError):
        stack_with(auth)._auth_ready(object())
    assert (auth.port, auth.spawned) == (9199, 0)
