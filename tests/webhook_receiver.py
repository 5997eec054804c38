"""A merchant's system on 127.0.0.1 receiving Tresen's webhooks, as the webhook tests and `make bench`
run it: each path an endpoint of its own, verifying every request with the `standardwebhooks`
library (with each of its secrets) and answering the statuses it is given, then 200."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import standardwebhooks


@dataclass
class Got:
    path: str
    webhook_id: str
    body: dict | None  # None: it did not verify
    at: float  # monotonic, when it arrived
    answered: int
    signatures: list[str]


@dataclass
class Route:
    secrets: list[str] = field(default_factory=list)  # each must verify the request
    statuses: list[tuple[int, dict]] = field(default_factory=list)  # answered in turn, then 200


class Receiver:
    """A merchant's system: each path an endpoint of its own."""

    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.got: list[Got] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.answer(self, raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        self.routes.setdefault(path, Route())
        return f"{self.base}{path}"

    def answer(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        route = self.routes[handler.path]
        try:
            body = [standardwebhooks.Webhook(secret).verify(raw, headers) for secret in route.secrets][-1]
        except standardwebhooks.webhooks.WebhookVerificationError:
            body = None
        with self.lock:
            status, extra = route.statuses.pop(0) if route.statuses and body else (200 if body else 401, {})
            signatures = headers["webhook-signature"].split(" ")
            self.got.append(Got(handler.path, headers["webhook-id"], body, time.monotonic(), status, signatures))
        handler.send_response(status)
        for name, value in (extra | {"Content-Length": "0"}).items():
            handler.send_header(name, value)
        handler.end_headers()

    def taken(self, path: str) -> list[Got]:
        """What it verified and took (2xx) at `path`, in the order it arrived."""
        with self.lock:
            return [got for got in self.got if got.path == path and got.answered == 200]

    def every(self, path: str) -> list[Got]:
        with self.lock:
            return [got for got in self.got if got.path == path]

    def verified(self) -> int:
        """The events taken, each once per path (a repeated delivery counts once)."""
        with self.lock:
            return len({(got.path, got.webhook_id) for got in self.got if got.answered == 200})

    @property
    def rejected(self) -> int:
        with self.lock:
            return sum(got.body is None for got in self.got)

    @property
    def last_taken_at(self) -> float:
        with self.lock:
            return max((got.at for got in self.got if got.answered == 200), default=0.0)

    def close(self) -> None:
        self.server.shutdown()
