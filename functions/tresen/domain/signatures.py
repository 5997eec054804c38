"""Webhook signatures as Stripe makes them: `t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`.

Several `v1` values may appear (the provider signs with old and new secret while rotating).
A timestamp more than `tolerance` seconds old is a replay; one more than `future` seconds ahead
is refused too, which the stripe library alone does not check.
"""

from __future__ import annotations

import hashlib
import hmac

TOLERANCE = 300
FUTURE = 60


class InvalidSignature(Exception):
    pass


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_timestamp(header: str | None) -> int:
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    raise InvalidSignature("no timestamp in the signature header")


def check_timestamp(timestamp: int, now: int) -> None:
    if timestamp < now - TOLERANCE:
        raise InvalidSignature("timestamp too old")
    if timestamp > now + FUTURE:
        raise InvalidSignature("timestamp in the future")


def verify(header: str | None, payload: bytes, secret: str, now: int) -> None:
    timestamp = signature_timestamp(header)
    check_timestamp(timestamp, now)
    expected = sign(payload, secret, timestamp).split("v1=", 1)[1]
    candidates = [v for k, _, v in (p.strip().partition("=") for p in header.split(",")) if k == "v1"]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature("no matching v1 signature")
