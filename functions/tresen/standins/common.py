"""What the stand-ins for outside providers (stripe_api.py, paypal_api.py) have in common: the WSGI app's
plumbing (`StandIn`), JSON answers and the accessible page their hosted screens are drawn in, webhook
events delivered to one receiver from a thread of their own and retried, and serving the stand-in from
a thread (`start`) or as a program until SIGTERM or Ctrl-C. What each provider signs its webhooks with,
the shapes it speaks and the pages' colours stay in its own module. Imports nothing of Tresen.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import queue
import signal
import threading
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def html_page(title: str, body: str, status: int, style: str) -> Response:
    """One accessible page: English, titled, a main landmark, dark text on white, visible focus;
    `style` adds the provider's own rules (its colours, its forms and tables)."""
    return Response(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;color:#1a1a1a;background:#fff;line-height:1.5;
  max-width:36rem;margin:2rem auto;padding:0 1rem}}
{style.strip()}
:focus-visible{{outline:3px solid #1a1a1a;outline-offset:2px}}
</style></head>
<body><main><h1>{html.escape(title)}</h1>
{body}
</main></body></html>""",
        status,
        mimetype="text/html",
    )


@dataclass
class Delivery:
    """One event on its way to the receiver."""

    listed: dict  # what the stand-in's event listing shows: the event's id and type, how delivery went
    body: bytes  # the exact bytes, so that every attempt (and a resend) sends the same
    headers: Callable[[bytes], dict[str, str]]  # one attempt's headers: providers sign each attempt anew


def accepted(status: int | None) -> bool:
    """Whether the receiver took the event: any 2xx, as the providers count it."""
    return status is not None and 200 <= status < 300


class WebhookQueue:
    """Delivers events to one URL from one thread, in the order they were released, retrying failures.
    Without a URL, events are kept (for the listing) and never sent."""

    def __init__(self, url: str | None, delays: tuple[float, ...], thread_name: str):
        self.url, self.delays = url, delays
        self._deliveries: dict[str, Delivery] = {}  # event id → its delivery, oldest first
        self._queue: queue.Queue[str] = queue.Queue()
        self._pending = 0  # kept but not released yet, queued or being delivered
        self._changed = threading.Condition()
        # Proxies from the environment must not catch a localhost receiver.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        if url:
            threading.Thread(target=self._run, name=thread_name, daemon=True).start()

    def add(self, event_id: str, body: bytes, headers: Callable[[bytes], dict[str, str]], **described: Any) -> None:
        """Keeps the event, pending (if there is a URL) until `release` queues it; `described` (its
        type, in the provider's words) is listed with how its delivery goes."""
        listed = {"id": event_id, **described, "delivered": False, "attempts": 0, "last_status": None}
        listed["state"] = "pending" if self.url else "undeliverable"
        with self._changed:
            self._deliveries[event_id] = Delivery(listed, body, headers)
            if self.url:
                self._pending += 1

    def release(self, event_ids: list[str]) -> None:
        if self.url:
            for event_id in event_ids:
                self._queue.put(event_id)

    def listing(self) -> list[dict]:
        with self._changed:
            return [dict(delivery.listed) for delivery in self._deliveries.values()]

    def get(self, event_id: str) -> Delivery | None:
        with self._changed:
            return self._deliveries.get(event_id)

    def clear(self) -> None:
        with self._changed:
            self._deliveries.clear()  # still-queued ids find no delivery and are dropped

    def wait(self, timeout: float) -> int:
        """Blocks until every event kept so far was delivered or given up on; the number still pending."""
        with self._changed:
            self._changed.wait_for(lambda: self._pending == 0, timeout)
            return self._pending

    def send(self, delivery: Delivery) -> tuple[int | None, str]:
        """One attempt: the receiver's status (None if it could not be reached) and body."""
        request = urllib.request.Request(self.url, delivery.body, delivery.headers(delivery.body))
        try:
            with self._opener.open(request, timeout=10) as answer:
                status, text = answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):  # refused, reset, timed out, garbled: no status at all
            status, text = None, ""
        with self._changed:
            delivery.listed.update(attempts=delivery.listed["attempts"] + 1, last_status=status)
            if accepted(status):
                delivery.listed.update(delivered=True, state="delivered")
        return status, text

    def _run(self) -> None:
        while True:
            event_id = self._queue.get()
            try:
                self._deliver(event_id)
            finally:
                with self._changed:
                    self._pending -= 1
                    self._changed.notify_all()

    def _deliver(self, event_id: str) -> None:
        for delay in (0.0, *self.delays):
            time.sleep(delay)
            delivery = self.get(event_id)
            if delivery is None or delivery.listed["delivered"]:  # cleared meanwhile, or resent by hand
                return
            status, _ = self.send(delivery)
            if accepted(status):
                return
        with self._changed:
            delivery.listed["state"] = "failed"


class StandIn(ABC):
    """A stand-in's WSGI app: its state behind one lock, the API requests it answered, its webhooks.
    A provider's subclass answers each request in `_respond`."""

    def __init__(self, webhooks: WebhookQueue):
        self._lock = threading.RLock()
        self._requests: list[dict] = []
        self._webhooks = webhooks

    @property
    def requests(self) -> list[dict]:
        """Every API request so far, oldest first, with what the provider's tests look at."""
        with self._lock:
            return list(self._requests)

    def wait_delivered(self, timeout: float = 10) -> int:
        """Blocks until every event made so far was delivered or given up on; the number still pending."""
        return self._webhooks.wait(timeout)

    def __call__(self, environ, start_response):
        return self._respond(Request(environ))(environ, start_response)

    @abstractmethod
    def _respond(self, request: Request) -> Response: ...


def start(stand_in: StandIn, port: int = 0, host: str = "127.0.0.1"):
    """Serves the stand-in from a daemon thread: (server, base URL). `server.shutdown()` stops it."""
    server = make_server(host, port, stand_in, threaded=True)
    # A short poll interval, so that shutdown() returns at once: tests start and stop many of these.
    serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serve.start()
    return server, f"http://{host}:{server.port}"


def command_line(provider: str, port: int) -> argparse.ArgumentParser:
    """The options every stand-in takes as a program: where it listens, where its webhooks go."""
    parser = argparse.ArgumentParser(description=f"Serve the {provider} stand-in until SIGTERM or Ctrl-C.")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--webhook-url")
    return parser


def serve_until_stopped(stand_in: StandIn, provider: str, port: int, host: str) -> None:
    """Serves the stand-in until SIGTERM or Ctrl-C. Its first line of output says where: whoever
    started it waits for that line before calling it."""
    server, url = start(stand_in, port, host)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"{provider.lower()} stand-in ready: {url}", flush=True)
    stop.wait()
    server.shutdown()
