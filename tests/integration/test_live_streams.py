"""Live streams on the emulator: Firestore's listener behind each stream, read as a page reads them.

The stream is read on a thread of its own (`EventReader`) while the test acts through the API; each
wait is bounded by the 2 s the pages promise. Every stream here lasts a few seconds (the dev setting
the browser tests and the bench use too) and ends by itself: a generator is closed by the thread that
reads it, as the server does when a page goes away.
"""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import replace
from datetime import datetime

import pytest

from support import auth, idem, order_body
from tresen.config import settings
from tresen.http import live_routes

PROMISED_S = 2.0  # a change reaches the page within this
LIFETIME_S = 4.0


class EventReader:
    """The events of a `text/event-stream` answer, parsed as a page's reader parses them."""

    def __init__(self, response):
        self.response = response
        self.events: queue.Queue[tuple[str, str | None, str]] = queue.Queue()
        self.comments = 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buffer = b""
        for chunk in self.response.response:
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                self._parse(block.decode())
        self.events.put(("closed", None, ""))

    def _parse(self, block: str) -> None:
        fields = dict(line.split(": ", 1) for line in block.split("\n") if not line.startswith(":"))
        if not fields:
            self.comments += 1
            return
        self.events.put((fields["event"], fields.get("id"), fields.get("data", "")))

    def next(self, timeout: float = PROMISED_S) -> tuple[str, str | None, dict]:
        event, event_id, data = self.events.get(timeout=timeout)
        return event, event_id, json.loads(data) if data else {}

    def until(self, wanted: str, timeout: float = PROMISED_S) -> tuple[str | None, dict]:
        while True:
            event, event_id, data = self.next(timeout)
            if event == wanted:
                return event_id, data
            assert event != "closed", f"the stream ended before {wanted}"

    def finish(self) -> None:
        """Waits for the stream's own end, then closes the answer as the server does."""
        self._thread.join(timeout=LIFETIME_S + 5)
        self.response.close()


@pytest.fixture(autouse=True)
def lifetime(monkeypatch):
    """Streams that end after LIFETIME_S, or as long as a test says."""

    def shorten(seconds: float) -> None:
        shortened = replace(settings(), live_seconds=seconds)
        monkeypatch.setattr(live_routes, "settings", lambda: shortened)

    shorten(LIFETIME_S)
    return shorten


def store_stream(client, store_id, since: str | None = None) -> EventReader:
    query = {"since": since} if since else {}
    response = client.get(f"/v1/stores/{store_id}/live", query_string=query, headers=auth(store_id), buffered=False)
    assert (response.status_code, response.mimetype) == (200, "text/event-stream"), response.get_data()
    assert (response.headers["Cache-Control"], response.headers["X-Accel-Buffering"]) == ("no-cache", "no")
    return EventReader(response)


def place(client, store_id, **overrides) -> dict:
    response = client.post(f"/v1/stores/{store_id}/orders", json=order_body(**overrides), headers=idem())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_new_order_is_on_the_store_stream_within_two_seconds_as_the_staff_api_shows_it(client, store_id):
    stream = store_stream(client, store_id)
    try:
        stream.until("ready")
        placed = place(client, store_id)
        event_id, order = stream.until("order")
        shown = client.get(f"/v1/stores/{store_id}/orders/{placed['id']}", headers=auth(store_id)).get_json()
        assert order == shown
        assert (order["status"], order["number"]) == ("placed", placed["number"])
        assert datetime.fromisoformat(event_id).tzinfo is not None
    finally:
        stream.finish()


def test_a_stream_resumed_from_the_last_id_sends_what_changed_since_before_it_is_ready(client, store_id, lifetime):
    lifetime(2)
    earlier = place(client, store_id)
    first = store_stream(client, store_id)
    try:
        _, order = first.until("order")  # a stream without `since` starts from the last few seconds
        assert order["id"] == earlier["id"]
        resume, _ = first.until("end", timeout=5)
    finally:
        first.finish()
    meanwhile = place(client, store_id)  # while no stream is open
    second = store_stream(client, store_id, since=resume)
    try:
        sent = []
        while (event := second.next())[0] != "ready":
            sent.append(event[2]["id"])
        # the resume point lies SETTLED (10 s) before the first stream's end: the earlier order is in
        # that margin and comes again; the one placed between the streams is not missed
        assert sorted(sent) == sorted([earlier["id"], meanwhile["id"]])  # in whatever order the listener gives them
    finally:
        second.finish()


def test_the_order_stream_sends_the_order_now_and_each_status_change(client, store_id):
    placed = place(client, store_id)
    response = client.get(
        f"/v1/orders/{placed['id']}/live", headers={"X-Order-Token": placed["access_token"]}, buffered=False
    )
    assert (response.status_code, response.mimetype) == (200, "text/event-stream")
    stream = EventReader(response)
    try:
        event, event_id, now = stream.next()
        assert (event, event_id, now["status"]) == ("order", None, "placed")
        assert (
            now
            == client.get(f"/v1/orders/{placed['id']}", headers={"X-Order-Token": placed["access_token"]}).get_json()
        )
        assert stream.next()[0] == "ready"
        moved = client.post(
            f"/v1/stores/{store_id}/orders/{placed['id']}/status", json={"status": "accepted"}, headers=auth(store_id)
        )
        assert moved.status_code == 200
        _, order = stream.until("order")
        assert order["status"] == "accepted"
    finally:
        stream.finish()


def test_an_order_stream_without_the_orders_token_is_the_same_404_as_reading_it(client, store_id):
    placed = place(client, store_id)
    for token in ({}, {"X-Order-Token": "not-its-token"}):
        response = client.get(f"/v1/orders/{placed['id']}/live", headers=token)
        assert (response.status_code, response.get_json()["code"]) == (404, "order_not_found")


def test_a_store_stream_refuses_to_resume_further_back_than_its_window(client, store_id):
    response = client.get(
        f"/v1/stores/{store_id}/live", query_string={"since": "2020-01-01T00:00:00+00:00"}, headers=auth(store_id)
    )
    assert (response.status_code, response.get_json()["errors"]) == (
        422,
        [{"field": "query.since", "message": "more than 15 minutes ago"}],
    )


def test_an_idle_stream_reads_once_and_ends_after_its_lifetime(client, store_id, backend, lifetime):
    lifetime(2)
    before = backend.live.reads.counts()
    stream = store_stream(client, store_id)
    try:
        stream.until("ready")
        assert stream.until("end", timeout=4)[1] == {}
        assert stream.next()[0] == "closed"
    finally:
        stream.finish()
    after = backend.live.reads.counts()
    # one listener, whose query found nothing: one read, as Firestore bills it
    assert {name: after[name] - before[name] for name in after} == {"listeners": 1, "documents": 0, "reads": 1}
