"""The webhooks' HTTP client (services/webhook_ports.py `WebhookSender`), on urllib3.

Each request resolves its URL's host, checks every address it resolves to (domain/webhooks_sending.py:
public ones only in production) and connects to an address it checked: the pools are per address,
and TLS is verified for the URL's host name (SNI and certificate) while the socket goes to the
address — so a DNS answer that changes between the check and the request (DNS rebinding) cannot
send it elsewhere. Nothing is retried here (the schedule is the use case's), no redirect is followed
(a 3xx is a failure), an attempt times out after 15 s, and of an answer only its status and
`Retry-After` are kept.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as TimedOut

from ..config import settings
from ..domain.errors import DomainError
from ..domain.webhooks_sending import Destination, address_refusal, destination
from ..services.webhook_ports import Answer, Request

log = logging.getLogger(__name__)
TIMEOUT_S = 15
CONCURRENCY = 16  # requests in flight at once, and connections kept per address
USER_AGENT = "Tresen-Webhooks/1"
ANSWER_LIMIT = 64 * 1024  # what is read of an answer's body; a connection with more is not reused
Resolve = Callable[..., list]


class NotAllowed(Exception):
    """Nothing may be sent to this URL (its form, or what its host resolves to)."""


class UrlSender:
    def __init__(self, dev: bool, retry_scale: float = 1.0, resolve: Resolve = socket.getaddrinfo):
        self.dev, self.retry_scale = dev, retry_scale
        self._resolve = resolve
        self._pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="webhook-send")

    @staticmethod
    def jitter() -> float:
        return random.uniform(-1, 1)

    def refusal(self, url: str) -> str | None:
        try:
            self._checked(url)
        except NotAllowed as refused:
            return str(refused)
        return None

    def send_all(self, requests: Sequence[Request]) -> list[Answer]:
        if len(requests) < 2:
            return [self.send(request) for request in requests]
        return list(self._executor.map(self.send, requests))

    def send(self, request: Request) -> Answer:
        try:
            to, addresses = self._checked(request.url)
        except NotAllowed as refused:
            return Answer(None, error=str(refused))
        headers = dict(request.headers) | {
            "Host": to.host_header,
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
        }
        refused = ""
        for address in addresses:  # the next one only where the connection was refused: nothing was sent
            try:
                response = self._pool(to, address).urlopen(
                    "POST",
                    to.target,
                    body=request.body,
                    headers=headers,
                    retries=False,
                    redirect=False,
                    preload_content=False,
                    timeout=urllib3.Timeout(total=TIMEOUT_S),
                )
            except NewConnectionError as error:
                refused = f"could not connect to {address}: {error.__context__ or error}"
                continue
            except (HTTPError, OSError) as error:
                return Answer(None, error=failure(error))
            try:
                return Answer(response.status, response.headers.get("Retry-After"))
            finally:
                finished(response)
        return Answer(None, error=refused)

    def _checked(self, url: str) -> tuple[Destination, list[str]]:
        """The URL's destination and the addresses its host resolves to, every one of them allowed;
        IPv4 first."""
        try:
            to = destination(url, self.dev)
        except DomainError as refused:
            raise NotAllowed(refused.errors[0].message) from None
        try:
            found = self._resolve(to.host, to.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise NotAllowed(f"{to.host} does not resolve") from None
        addresses = sorted({info[4][0] for info in found}, key=lambda address: (":" in address, address))
        for address in addresses:
            why = address_refusal(address, to, self.dev)
            if why:
                raise NotAllowed(why)
        if not addresses:
            raise NotAllowed(f"{to.host} does not resolve")
        return to, addresses

    def _pool(self, to: Destination, address: str) -> urllib3.HTTPConnectionPool:
        key = (to.scheme, address, to.port, to.host)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                if to.scheme == "https":
                    # the socket goes to the address checked; TLS is for the host the URL names
                    pool = urllib3.HTTPSConnectionPool(
                        address, to.port, maxsize=CONCURRENCY, server_hostname=to.host, assert_hostname=to.host
                    )
                else:
                    pool = urllib3.HTTPConnectionPool(address, to.port, maxsize=CONCURRENCY)
                self._pools[key] = pool
            return pool


def finished(response: urllib3.BaseHTTPResponse) -> None:
    """Reads what is left of a short answer, so its connection serves the next request."""
    try:
        rest = response.read(ANSWER_LIMIT + 1)
        if len(rest) > ANSWER_LIMIT:
            response.close()
    except (HTTPError, OSError):
        response.close()
    finally:
        response.release_conn()


def failure(error: Exception) -> str:
    if isinstance(error, TimedOut):
        return f"no answer within {TIMEOUT_S} s"
    if isinstance(error, SSLError):
        return f"TLS failed: {error}"
    return f"the connection failed: {error}"


def configured_sender() -> UrlSender:
    config = settings()
    return UrlSender(config.dev, config.webhook_retry_scale)
