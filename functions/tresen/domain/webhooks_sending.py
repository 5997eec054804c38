"""Where a webhook may go and when it is tried again (no I/O).

**Where.** Production sends only to `https://` URLs whose every address is public: an endpoint must
not let a merchant reach Tresen's own network (the metadata server at 169.254.169.254, private
ranges, loopback). The addresses are checked after the name is resolved — at creation and again
before each attempt — and the request goes to the address checked, never to a second lookup (which
a hostile DNS server could answer otherwise). An IPv6 address that carries an IPv4 one (mapped,
NAT64, 6to4, Teredo) is judged by the IPv4 address. Dev mode also admits `http://127.0.0.1:PORT` and
`http://localhost:PORT`, where the local receivers of the tests and of a merchant trying it out run.

**When.** A delivery not answered with a 2xx is tried again 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
20 h and 24 h after its 1st … 9th failed attempt, each delay moved by up to ±10 % so that the
retries of many deliveries do not arrive together; after the 10th it is `failed` (kept, retried by
hand). A 429 or 503 with `Retry-After` (seconds or an HTTP date) is not tried again before then
(at most 24 h). A 410 says the endpoint is gone: it is disabled at once.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from .errors import DomainError, FieldError

MAX_URL = 2048
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
DEFAULT_PORTS = {"https": 443, "http": 80}
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1  # each delay is moved by up to this share of it, either way
RETRY_AFTER_CAP = timedelta(hours=24)
HONOURS_RETRY_AFTER = (429, 503)
GONE_STATUS = 410
FAILING_LIMIT = timedelta(days=5)  # an endpoint failing this long without a success is disabled
NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Destination:
    """A URL as a request is made to it: to an address of `host`, on `port`, for `target`."""

    scheme: str
    host: str  # lower case; an IPv6 address without its brackets
    port: int
    target: str  # path and query, as the request line names them

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host_header}"


def destination(url: str, dev: bool) -> Destination:
    """The destination of an endpoint's URL; `validation_failed` (field `url`) for one Tresen does
    not send to, whatever it resolves to."""

    def refused(why: str) -> DomainError:
        detail = f"Webhooks cannot be sent to this URL: {why}."
        return DomainError("validation_failed", detail, [FieldError("url", why)])

    if len(url) > MAX_URL or not url.isascii() or not url.isprintable() or " " in url:
        raise refused(f"a URL of at most {MAX_URL} printable ASCII characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refused("not a URL") from None
    host = (parts.hostname or "").rstrip(".")
    loopback = dev and host in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise refused("https:// only" + (" (and http://127.0.0.1 or http://localhost in dev mode)" if dev else ""))
    if not host:
        raise refused("no host")
    if parts.username is not None or parts.password is not None:
        raise refused("no user or password in the URL: the signature says who sends")
    if parts.fragment:
        raise refused("no fragment (#…)")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, host, port or DEFAULT_PORTS[parts.scheme], target)


def origin(url: str) -> str:
    """scheme://host[:port] of an endpoint's URL (it holds no user or password: `destination`)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def address_refusal(address: str, to: Destination, dev: bool) -> str | None:
    """Why a request to `to` must not go to `address` (one its host resolved to); None: it may."""
    ip = carried_ipv4(ipaddress.ip_address(address.split("%", 1)[0]))
    if dev and to.host in LOOPBACK_HOSTS and ip.is_loopback:
        return None
    if ip.is_global and not ip.is_multicast:
        return None
    return f"{to.host} resolves to {address}, which is not a public address"


def carried_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4, Teredo), else the address itself."""
    if ip.version == 4:
        return ip
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return ip


# ----------------------------------------------------------------------------- retries


def next_attempt(
    failures: int, now: datetime, jitter: float, scale: float = 1.0, retry_after: timedelta | None = None
) -> datetime | None:
    """When to try again after `failures` failed attempts (None: never). `jitter` in [-1, 1] moves
    the delay by up to ±10 %; `scale` shortens the schedule (dev and the tests); `retry_after` is
    what the receiver asked for, honoured up to 24 h."""
    if failures > len(RETRY_DELAYS):
        return None
    delay = RETRY_DELAYS[failures - 1] * scale * (1 + JITTER * jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
    return now + delay


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as seconds or an HTTP date (RFC 9110); None if absent or unreadable."""
    text = (value or "").strip()
    if text.isdigit():
        return timedelta(seconds=min(int(text), int(RETRY_AFTER_CAP.total_seconds())))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # an HTTP date is in GMT
        moment = moment.replace(tzinfo=UTC)
    return max(moment - now, timedelta(0))


@dataclass(frozen=True)
class Verdict:
    """What one attempt's answer means for its delivery."""

    status: str  # succeeded | pending (tried again at `next_attempt_at`) | failed
    next_attempt_at: datetime | None = None
    endpoint_gone: bool = False  # 410: the endpoint is disabled at once


def verdict(
    attempts: int, status_code: int | None, retry_after_value: str | None, now: datetime, jitter: float, scale: float
) -> Verdict:
    """`attempts`: made so far, this one included; `status_code` None: no answer (refused
    connection, timeout, an address not allowed)."""
    if status_code is not None and 200 <= status_code < 300:
        return Verdict("succeeded")
    if status_code == GONE_STATUS:
        return Verdict("failed", endpoint_gone=True)
    asked = retry_after(retry_after_value, now) if status_code in HONOURS_RETRY_AFTER else None
    at = next_attempt(attempts, now, jitter, scale, asked)
    return Verdict("pending", at) if at else Verdict("failed")


def failing_too_long(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= FAILING_LIMIT
