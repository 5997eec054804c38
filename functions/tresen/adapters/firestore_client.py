"""One Firestore client per process, every call bounded in time.

The library's defaults let a read retry for 300 s and a commit for 60 s, and gRPC backs off for up
to two minutes before it reconnects: during an outage requests hang instead of failing, and after
it they lag for minutes. Here every RPC gets a bounded attempt and a bounded total (reads and
writes apart), so an outage becomes a 503 within seconds, and the channel retries the connection
every second or two, so service resumes within seconds of Firestore's return.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import settings
from .lazy import once


@dataclass(frozen=True)
class Deadline:
    attempt: float  # seconds one try may take
    total: float  # seconds all tries of one call may take together


READ = Deadline(attempt=2.0, total=5.0)
# A stream's attempt deadline covers the whole stream: a scan of a whole collection (verify, the
# sweeper) passes this instead of the request path's two seconds.
SCAN_TIMEOUT = 300.0
WRITE = Deadline(attempt=4.0, total=6.0)
WRITES = {"Commit", "BatchWrite", "Write", "CreateDocument", "UpdateDocument", "DeleteDocument", "Rollback"}
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]


def bound_calls(transport) -> None:
    """Give every wrapped RPC of the transport our deadlines, keeping the library's choice of
    which errors are worth a retry (commits, for one, are never retried on a timeout)."""
    from google.api_core.timeout import ConstantTimeout

    for stub, wrapped in transport._wrapped_methods.items():
        rpc = str(stub._method, "ascii") if isinstance(stub._method, bytes) else stub._method
        deadline = WRITE if rpc.rsplit("/", 1)[-1] in WRITES else READ
        wrapped._timeout = ConstantTimeout(deadline.attempt)
        if wrapped._retry is not None:
            wrapped._retry = wrapped._retry.with_timeout(deadline.total)


def client_class():
    import grpc
    from google.cloud import firestore

    class BoundedClient(firestore.Client):
        def _firestore_api_helper(self, transport, client_class, client_module):
            if self._firestore_api_internal is None:
                if self._emulator_host is not None:
                    # the emulator takes every request as an administrator's (as the library does)
                    options = [("Authorization", "Bearer owner"), *CHANNEL_OPTIONS]
                    channel = grpc.insecure_channel(self._emulator_host, options=options)
                else:
                    channel = transport.create_channel(
                        self._target, credentials=self._credentials, options=CHANNEL_OPTIONS
                    )
                self._transport = transport(host=self._target, channel=channel)
                bound_calls(self._transport)
                self._firestore_api_internal = client_class(
                    transport=self._transport, client_options=self._client_options
                )
                client_module._client_info = self._client_info
            return self._firestore_api_internal

    return BoundedClient


@once
def db():
    return client_class()(project=settings().project)
