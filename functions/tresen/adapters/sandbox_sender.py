"""The sandbox's side of webhooks: signed events sent to us asynchronously, retried until 2xx.

A real provider delivers from its own servers; in dev mode a background thread stands in for it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request

from ..config import settings
from ..domain.payments import PaymentRecord
from ..domain.signatures import sign
from .clock import new_id

log = logging.getLogger(__name__)
RETRY_DELAYS = (0, 0.5, 1, 2, 5, 10, 30, 60)


class SandboxSender:
    """The customer's outcome at the sandbox checkout, reported to our webhook."""

    @staticmethod
    def report(payment: PaymentRecord, error: str | None) -> None:
        send_later(payment_event("failed" if error else "succeeded", payment, error))


def payment_event(kind: str, payment: PaymentRecord, error: str | None = None) -> dict:
    data = {"payment_id": payment.id, "amount": payment.amount, "currency": payment.currency}
    if error:
        data["error"] = error
    return {"id": new_id("evt_sbx_"), "type": f"payment.{kind}", "created": int(time.time()), "data": data}


def send_later(event: dict) -> None:
    threading.Thread(target=_deliver, args=(event,), name=f"sandbox-{event['id']}", daemon=True).start()


def _deliver(event: dict) -> None:
    body = json.dumps(event).encode()
    url = f"{settings().public_url}/v1/webhooks/sandbox"
    for attempt, delay in enumerate(RETRY_DELAYS, start=1):
        time.sleep(delay)
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Sandbox-Signature": sign(body, settings().sandbox_secret, int(time.time())),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10):
                return
        except (urllib.error.URLError, OSError) as error:
            log.warning("sandbox: delivering %s failed (attempt %d): %s", event["id"], attempt, error)
    log.error("sandbox: gave up delivering %s", event["id"])
