"""Webhooks sent from this process right after the commit that journaled them (adapters/backend.py
hands it every commit's entries), so an event reaches its endpoints within a second or so, without
waiting for the job.

Each store with endpoints has two loops on threads of their own, each one run at a time and one more
when kicked meanwhile (the mail `Courier`): the fan-out (services/webhook_dispatch.py `fan_out`),
which hands the deliveries it created, held, to the sending (`send_held`: those, then the store's
retries due). They overlap: while one batch is being sent, the next entries are fanned out — on a
busy store the sending is what keeps up with the orders.

Only stores with an enabled endpoint are kicked: whether a store has one is asked once and then
trusted for 5 seconds (an endpoint created in this process is known at once; on another instance,
within those seconds — and the job every minute catches anything missed). A retry due within two
minutes is kicked by a timer here; later ones, and everything of an instance that stopped, are the
job's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import clock
from .mail_outbox import Courier

if TYPE_CHECKING:  # loaded with the first event sent, not by every cold start
    from ..services.webhook_dispatch import WebhookRun
    from ..services.webhook_ports import Held

KNOWN_FOR_S = 5.0  # how long "the store has (no) endpoints" is trusted
SOON = timedelta(minutes=2)  # retries due within this are kicked here; later ones by the job


@dataclass
class StoreLoops:
    fanning: Courier
    sending: Courier
    created: list[Held] = field(default_factory=list)  # fanned out, waiting to be sent


class WebhookCourier:
    def __init__(
        self,
        fan_out: Callable[[str], list[Held]],
        send: Callable[[str, list[Held]], WebhookRun],
        has_endpoints: Callable[[str], bool],
    ):
        self._fan_out, self._send, self._has_endpoints = fan_out, send, has_endpoints
        self._lock = threading.Lock()
        self._known: dict[str, tuple[bool, float]] = {}  # store → (has endpoints, until when, monotonic)
        self._loops: dict[str, StoreLoops] = {}
        self._timers: dict[str, tuple[datetime, threading.Timer]] = {}

    def committed(self, store_id: str, entries: Iterable[Mapping[str, Any]]) -> None:
        """After a commit of this process: its events sent now, if the store has endpoints."""
        from ..domain.webhooks import event_of
        from ..services.webhook_ports import object_presenter

        types = [entry["type"] for entry in entries]
        if any(kind.startswith("webhook_endpoint.") for kind in types):
            self.forget(store_id)  # its endpoints changed: ask afresh
        if any(event_of(kind) for kind in types) and object_presenter() and self._receives(store_id):
            self.kick(store_id)

    def kick(self, store_id: str) -> None:
        self._loops_of(store_id).fanning.kick()

    def forget(self, store_id: str) -> None:
        with self._lock:
            self._known.pop(store_id, None)

    def drain(self) -> None:
        """Wait until no store's loop is under way (the tests): a fan-out hands over before it ends."""
        with self._lock:
            loops = list(self._loops.values())
        for store in loops:
            store.fanning.drain()
            store.sending.drain()

    def _loops_of(self, store_id: str) -> StoreLoops:
        with self._lock:
            loops = self._loops.get(store_id)
            if loops is None:
                fanning = Courier(lambda: self._fan_out_run(store_id), "webhook-fan-out")
                sending = Courier(lambda: self._send_run(store_id), "webhook")
                loops = self._loops[store_id] = StoreLoops(fanning, sending)
            return loops

    def _fan_out_run(self, store_id: str) -> None:
        created = self._fan_out(store_id)
        loops = self._loops_of(store_id)
        with self._lock:
            loops.created += created
        loops.sending.kick()

    def _send_run(self, store_id: str) -> None:
        loops = self._loops_of(store_id)
        with self._lock:
            held, loops.created = loops.created, []
        run = self._send(store_id, held)
        if run.next_due is not None and run.next_due - clock.now() <= SOON:
            self._kick_at(store_id, run.next_due)

    def _receives(self, store_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            known = self._known.get(store_id)
        if known is None or known[1] < now:
            known = (self._has_endpoints(store_id), now + KNOWN_FOR_S)
            with self._lock:
                self._known[store_id] = known
        return known[0]

    def _kick_at(self, store_id: str, due: datetime) -> None:
        """One timer per store, for its earliest retry."""
        with self._lock:
            planned = self._timers.get(store_id)
            if planned is not None and planned[0] <= due and planned[1].is_alive():
                return
            if planned is not None:
                planned[1].cancel()
            timer = threading.Timer(max((due - clock.now()).total_seconds(), 0), self.kick, (store_id,))
            timer.daemon = True
            self._timers[store_id] = (due, timer)
        timer.start()
