"""`tresen dev` holds its API port from its first moment (devstack.claim_port): the stand-ins it
starts before its server ask the system for free ports, and one was once given the API's."""

from __future__ import annotations

import socket

import pytest

from tresen.devstack import StackError, claim_port, free_port


def test_a_claimed_port_listens_at_once_and_is_given_to_nobody_else():
    port = free_port()
    listener = claim_port(port, "API")
    try:
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("127.0.0.1", port))
        with pytest.raises(StackError, match=rf"port {port} \(API\) is already in use"):
            claim_port(port, "API")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # queued until the server accepts: nobody is refused while it starts
    finally:
        listener.close()
    claim_port(port, "API").close()  # given back once closed
