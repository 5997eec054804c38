"""Webhooks to the merchants' own systems on the in-memory backend: every event fanned out once per
endpoint and entry however often the dispatcher runs, only what an endpoint subscribes to and only
what came after it, signed as Standard Webhooks' own library signs (two signatures while a rotated
secret still signs), the same event id and bytes on every attempt, retried on the schedule and as
`Retry-After` asks, a 410 disabling the endpoint at once and five days of failures disabling it with
one mail to its owner. The schedule, `Retry-After` and where a webhook may go, as pure functions."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import standardwebhooks
from test_mail import T0, Clock
from test_use_cases import STAFF, STORE, instances, order, pay

from tresen import cli
from tresen.adapters import backend as backend_module
from tresen.adapters import clock as clock_module
from tresen.adapters.webhook_store import DELIVERIES, ENDPOINTS
from tresen.domain import events
from tresen.domain.errors import DomainError
from tresen.domain.memberships import Membership
from tresen.domain.webhooks import (
    EVENT_OF_ENTRY,
    NOT_SENT,
    Endpoint,
    checked_events,
    event_id,
    new_secret,
    signature,
    signature_header,
)
from tresen.domain.webhooks_sending import (
    RETRY_DELAYS,
    address_refusal,
    destination,
    next_attempt,
    retry_after,
    verdict,
)
from tresen.http import webhook_objects  # noqa: F401  (events show their objects as the API does)
from tresen.services import api_keys, cards
from tresen.services import webhook_endpoints as endpoints
from tresen.services.mail import deliver_all_due_mail
from tresen.services.store_runs import WalkStores
from tresen.services.unit_of_work import Writes
from tresen.services.webhook_dispatch import LEASE, deliver_webhooks, dispatch_store, fan_out
from tresen.services.webhook_ports import Answer

OWNER = STAFF | {"role": "owner"}
HOOK = "https://hooks.example.com/tresen"


def job(backend):
    """The webhooks job, on a run of its own: every store with an endpoint walked, as each minute's
    call does while its hour's run is not done."""
    return deliver_webhooks(backend, WalkStores(f"test-{uuid.uuid4().hex}"))


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The one clock of the backend and of the records it writes, at T0 until a test moves it."""
    fixed = Clock()
    monkeypatch.setattr(clock_module, "now", fixed)
    return fixed


class Receiver:
    """The HTTP client, faked: keeps every request and answers them in turn with `answers`, then with
    `otherwise`."""

    retry_scale = 1.0

    def __init__(self):
        self.requests = []
        self.answers: list[Answer] = []
        self.otherwise = Answer(200)
        self.lock = threading.Lock()

    def refusal(self, url: str) -> str | None:
        return None if url.startswith("https://") else "https:// only"

    def send_all(self, requests):
        with self.lock:
            self.requests += requests
            return [self.answers.pop(0) if self.answers else self.otherwise for _ in requests]

    @staticmethod
    def jitter() -> float:
        return 0.0

    def events(self) -> list[tuple[str, str, int | None]]:
        """(url, type, seq) of each request, in the order sent."""
        return [(r.url, json.loads(r.body)["type"], json.loads(r.body)["data"]["seq"]) for r in self.requests]


@pytest.fixture
def receiver(backend) -> Receiver:
    backend.webhook_sender = Receiver()
    return backend.webhook_sender


def endpoint(backend, events=("*",), url=HOOK) -> Endpoint:
    return endpoints.create_endpoint(endpoints.CreateEndpoint(STORE, url, tuple(events), None, OWNER), backend)


def deliveries(backend) -> dict[str, dict]:
    return {doc.id: doc.data for doc in backend.docs.query(DELIVERIES)}


def stored(backend, endpoint_id: str) -> Endpoint:
    return backend.webhook_endpoints.get(STORE, endpoint_id)[0]


def paid_order(backend):
    placed = order(backend, "online")
    pay(backend, placed, event_id=f"evt_{placed.id}")
    return placed


def sell_card(backend):
    return cards.issue_card(cards.IssueCard(STORE, 5000, STAFF), backend)


# -- what is sent -------------------------------------------------------------------------------------


def test_each_event_reaches_each_endpoint_once_and_standard_webhooks_verifies_it(backend, receiver):
    first, second = endpoint(backend), endpoint(backend, url=HOOK + "/2")
    placed = paid_order(backend)

    run = dispatch_store(backend, STORE)

    assert (run.created, run.succeeded) == (4, 4)
    assert sorted(receiver.events()) == [
        (HOOK, "order.paid", 4), (HOOK, "order.placed", 3), (HOOK + "/2", "order.paid", 4),
        (HOOK + "/2", "order.placed", 3),
    ]  # fmt: skip
    for request in receiver.requests:
        secret = first.secret if request.url == HOOK else second.secret
        body = standardwebhooks.Webhook(secret).verify(request.body, dict(request.headers))
        assert body["data"]["store_id"] == STORE
        assert request.headers["webhook-id"] == event_id(STORE, body["data"]["seq"])
        shown = body["data"]["object"]
        assert (shown["id"], shown["status"], shown["payment_status"]) == (placed.id, "paid", "paid")
        assert body["timestamp"] == backend.journal.entry(STORE, body["data"]["seq"])["at"]
    assert {delivery["status"] for delivery in deliveries(backend).values()} == {"succeeded"}
    assert dispatch_store(backend, STORE).created == 0


def test_the_object_is_the_order_as_the_api_shows_it(backend, receiver):
    from tresen.http.present import order_out
    from tresen.services.order_views import order_view_for_staff

    endpoint(backend, ("order.placed",))
    placed = order(backend)
    dispatch_store(backend, STORE)

    [request] = receiver.requests
    shown = json.loads(request.body)["data"]["object"]
    assert shown == json.loads(order_out(order_view_for_staff(backend, STORE, placed.id)).model_dump_json())


def test_an_entry_fanned_out_twice_or_by_three_dispatchers_at_once_is_delivered_once():
    servers = instances(3)
    for server in servers:
        server.webhook_sender, server.webhooks_after_commit = Receiver(), False  # each dispatches when told
    made = endpoint(servers[0])
    for _ in range(5):
        order(servers[0])
    assert len(fan_out(servers[0], STORE)) == 5
    assert fan_out(servers[0], STORE) == []  # the cursor moved past them

    for _ in range(5):
        order(servers[1])
    created: list = []
    threads = [threading.Thread(target=lambda s=s: created.extend(fan_out(s, STORE))) for s in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(held.delivery.seq for held in created) == [7, 8, 9, 10, 11]
    assert sorted(deliveries(servers[0])) == [f"{made.id}-{seq:012d}" for seq in range(2, 12)]
    assert servers[0].webhook_cursors.read(STORE)[0] == 11


def test_an_endpoint_receives_only_the_events_it_subscribes_to(backend, receiver):
    paid = endpoint(backend, ("order.paid",), HOOK + "/paid")
    cards_only = endpoint(backend, ("giftcard.*",), HOOK + "/cards")
    everything = endpoint(backend, ("*",), HOOK + "/all")
    paid_order(backend)
    sell_card(backend)
    api_keys.create_key(api_keys.CreateKey(STORE, "DATEV", ("exports:read",), OWNER), backend)  # not sent

    dispatch_store(backend, STORE)

    by_url = {url: [kind for to, kind, _ in receiver.events() if to == url] for url in (paid.url, cards_only.url)}
    assert by_url == {paid.url: ["order.paid"], cards_only.url: ["giftcard.activate"]}
    assert [kind for to, kind, _ in receiver.events() if to == everything.url] == [
        "order.placed", "order.paid", "giftcard.activate"
    ]  # fmt: skip


def test_an_endpoint_made_after_seq_n_gets_nothing_up_to_n(backend, receiver):
    order(backend)
    order(backend)
    made = endpoint(backend)  # seq 3 is its own creation
    assert made.after_seq == 2
    later = order(backend)

    dispatch_store(backend, STORE)

    assert receiver.events() == [(HOOK, "order.placed", 4)]
    assert json.loads(receiver.requests[0].body)["data"]["object"]["id"] == later.id


def test_every_journal_type_is_either_sent_or_kept_inside(backend):
    declared = set(events.CURRENT_VERSION)
    assert set(EVENT_OF_ENTRY) | NOT_SENT == declared
    assert set(EVENT_OF_ENTRY) & NOT_SENT == set()
    assert EVENT_OF_ENTRY["order.completed"] == EVENT_OF_ENTRY["order.rejected"] == "order.status_changed"
    assert EVENT_OF_ENTRY["order.voided"] == EVENT_OF_ENTRY["order.discounted"] == "order.updated"


def test_what_an_endpoint_may_subscribe_to():
    assert checked_events(["order.paid", "giftcard.*", "order.paid"]) == ("giftcard.*", "order.paid")
    assert checked_events(["*"]) == ("*",)
    for refused, why in [
        (["order.teleported"], "unknown event type 'order.teleported'"),
        (["api_key.created"], "unknown event type 'api_key.created'"),
        (["member.*"], "unknown event type 'member.*'"),
        (["*", "order.paid"], '"*" stands alone: it names every event'),
        ([], 'name 1 to 50 event types, or ["*"]'),
    ]:
        with pytest.raises(DomainError) as error:
            checked_events(refused)
        assert [e.message for e in error.value.errors] == [why]


# -- signatures and secrets ---------------------------------------------------------------------------


def test_the_signature_is_the_one_standard_webhooks_makes():
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # Standard Webhooks' own example secret
    body = b'{"type":"order.paid","data":{"object":{"name":"M\xc3\xbcller"}}}'
    timestamp = 1_764_000_000
    expected = standardwebhooks.Webhook(secret).sign("msg_1", datetime.fromtimestamp(timestamp, UTC), body)
    assert signature(secret, "msg_1", timestamp, body) == expected

    now = int(datetime.now(UTC).timestamp())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now),
               "webhook-signature": signature_header([secret], "msg_1", now, body)}  # fmt: skip
    assert standardwebhooks.Webhook(secret).verify(body, headers) == json.loads(body)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_secret()).verify(body, headers)


def test_a_secret_is_whsec_and_the_base64_of_32_random_bytes():
    import base64

    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:], validate=True)) == 32
    assert new_secret() != secret


def test_during_a_rotation_both_secrets_sign_and_after_24_hours_only_the_new_one(backend, receiver):
    made = endpoint(backend)
    rotated = endpoints.rotate_secret(endpoints.EndpointCommand(STORE, made.id, OWNER), backend)
    assert rotated.secret != made.secret
    order(backend)
    dispatch_store(backend, STORE)

    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (made.secret, rotated.secret):  # a receiver still verifying with the old one, and one with the new
        standardwebhooks.Webhook(secret).verify(request.body, dict(request.headers))
    kept = stored(backend, made.id)
    assert kept.signing_secrets(kept.previous_valid_until - timedelta(seconds=1)) == (rotated.secret, made.secret)
    assert kept.signing_secrets(kept.previous_valid_until) == (rotated.secret,)
    assert [entry["type"] for entry in backend.journal.entries(STORE)][:2] == [
        "webhook_endpoint.created", "webhook_endpoint.secret_rotated"
    ]  # fmt: skip
    assert all(made.secret not in json.dumps(entry) for entry in backend.journal.entries(STORE))


# -- retries ------------------------------------------------------------------------------------------


def test_a_receiver_down_for_a_while_gets_the_same_bytes_under_the_same_id_until_it_takes_them(
    backend, receiver, clock
):
    endpoint(backend)
    order(backend)
    receiver.answers = [Answer(503, "30"), Answer(500), Answer(429, format_datetime(T0 + timedelta(hours=1), True))]

    dispatch_store(backend, STORE)  # 503, Retry-After: 30 s (over the 5 s of the schedule)
    [delivery] = deliveries(backend).values()
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("pending", 1, 503)
    assert delivery["next_attempt_at"] == T0 + timedelta(seconds=30)
    assert job(backend).retrying == 0  # not due yet: nothing sent
    clock.now = T0 + timedelta(seconds=30)
    job(backend)  # 500: the 2nd delay of the schedule, 5 min
    assert deliveries(backend)[delivery["id"]]["next_attempt_at"] == clock.now + timedelta(minutes=5)
    clock.now += timedelta(minutes=5)
    job(backend)  # 429 with an HTTP date an hour after T0
    assert deliveries(backend)[delivery["id"]]["next_attempt_at"] == T0 + timedelta(hours=1)
    clock.now = T0 + timedelta(hours=1)
    assert job(backend).succeeded == 1

    assert len(receiver.requests) == 4
    assert len({(r.headers["webhook-id"], r.body) for r in receiver.requests}) == 1
    done = deliveries(backend)[delivery["id"]]
    assert (done["status"], done["attempts"], done["last_status_code"], done["next_attempt_at"]) == (
        "succeeded", 4, 200, None
    )  # fmt: skip


def test_after_ten_failed_attempts_the_delivery_fails_is_kept_and_can_be_retried_by_hand(backend, receiver, clock):
    made = endpoint(backend)
    order(backend)
    receiver.answers = [Answer(None, error="could not connect")] * 10
    dispatch_store(backend, STORE)
    for delay in RETRY_DELAYS:
        clock.now += delay
        job(backend)
    [delivery] = deliveries(backend).values()
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("failed", 10, "could not connect")
    assert len(receiver.requests) == 10

    again = endpoints.retry_delivery(backend, STORE, made.id, delivery["id"])

    assert (again.status, again.attempts, again.last_status_code) == ("succeeded", 1, 200)
    assert len(receiver.requests) == 11


def test_a_delivery_whose_sender_died_is_sent_when_its_lease_ends(backend, receiver, clock):
    endpoint(backend)
    order(backend)
    [held] = fan_out(backend, STORE)  # created held by a dispatcher that then died
    assert job(backend).succeeded == 0
    clock.now += LEASE
    assert job(backend).succeeded == 1
    assert receiver.events() == [(HOOK, "order.placed", held.delivery.seq)]


def test_events_committed_by_an_instance_that_sent_nothing_go_out_with_the_job(backend, receiver):
    endpoint(backend)
    paid_order(backend)  # this backend sends nothing after its commits (as an instance killed after them)
    assert receiver.requests == []
    run = job(backend)
    assert (run.created, run.succeeded) == (2, 2)
    assert [kind for _, kind, _ in receiver.events()] == ["order.placed", "order.paid"]


def test_a_commit_sends_its_events_on_a_thread_of_its_own(backend, receiver):
    backend.webhooks_after_commit = True
    endpoint(backend)
    order(backend)
    backend.webhook_courier.drain()
    assert [kind for _, kind, _ in receiver.events()] == ["order.placed"]


# -- endpoints disabled --------------------------------------------------------------------------------


def test_a_410_disables_the_endpoint_at_once_and_its_other_deliveries_are_not_sent(backend, receiver, clock):
    made = endpoint(backend)
    order(backend)
    order(backend)
    receiver.answers = [Answer(410), Answer(503)]
    dispatch_store(backend, STORE)
    assert (stored(backend, made.id).status, stored(backend, made.id).disabled_reason) == ("disabled", "gone")
    assert backend.journal.entries(STORE)[-1]["data"] == {
        "endpoint_id": made.id,
        "reason": "gone",
        "failing_since": None,
    }

    clock.now += timedelta(minutes=1)
    order(backend)
    job(backend)

    assert len(receiver.requests) == 2  # the retry and the new order: nothing
    statuses = sorted((d["seq"], d["status"], d["last_error"]) for d in deliveries(backend).values())
    assert statuses == [(2, "failed", "answered 410 Gone: the endpoint is disabled"),
                        (3, "failed", "the endpoint is disabled")]  # fmt: skip
    with pytest.raises(DomainError) as refused:
        endpoints.send_ping(endpoints.EndpointCommand(STORE, made.id, OWNER), backend)
    assert refused.value.code == "webhook_endpoint_disabled"
    assert backend.mail_sender.sent == [] and deliver_all_due_mail(backend).sent == 0


def owned_by(backend, email: str) -> None:
    writes = Writes(OWNER)
    writes.member(Membership("owner-9", email, STORE, "owner", T0), {STORE: "owner"})
    backend.commit_writes(writes)


def test_an_endpoint_failing_for_5_days_is_disabled_and_its_owner_mailed_once(backend, receiver, clock):
    owned_by(backend, "inhaberin@example.de")
    made = endpoint(backend)
    receiver.otherwise = Answer(500)
    order(backend)
    dispatch_store(backend, STORE)
    assert (stored(backend, made.id).failing_since, len(receiver.requests)) == (T0, 1)
    clock.now = T0 + timedelta(days=4, hours=23)
    order(backend)
    dispatch_store(backend, STORE)  # the new order, and the first one's retry
    assert (stored(backend, made.id).enabled, len(receiver.requests)) == (True, 3)

    clock.now = T0 + timedelta(days=5)
    order(backend)
    dispatch_store(backend, STORE)  # the new order fails too: disabled before the retries due are sent
    clock.now += timedelta(hours=1)
    job(backend)

    kept = stored(backend, made.id)
    assert (kept.status, kept.disabled_reason, kept.disabled_at) == ("disabled", "failing", T0 + timedelta(days=5))
    assert len(receiver.requests) == 4
    assert deliver_all_due_mail(backend).sent == 1
    [(mail, _)] = backend.mail_sender.sent
    assert (mail.to, mail.subject) == ("inhaberin@example.de", "Webhook-Endpunkt deaktiviert")
    assert f"seit 23.11.2026 12:00 UTC hat Ihr Webhook-Endpunkt {HOOK}" in mail.text
    disabled = backend.journal.entries(STORE)[-1]
    assert (disabled["type"], disabled["data"]["reason"], disabled["data"]["failing_since"]) == (
        "webhook_endpoint.disabled", "failing", "2026-11-23T12:00:00+00:00"
    )  # fmt: skip


def test_a_success_in_between_starts_the_5_days_again(backend, receiver, clock):
    made = endpoint(backend)
    for day, answer in ((0, Answer(500)), (3, Answer(200)), (6, Answer(500))):
        clock.now, receiver.otherwise = T0 + timedelta(days=day), answer
        order(backend)
        dispatch_store(backend, STORE)
    assert (stored(backend, made.id).enabled, stored(backend, made.id).failing_since) == (True, T0 + timedelta(days=6))


def test_without_an_owner_member_the_billing_address_is_mailed_and_without_either_a_line_is_logged(
    backend, receiver, clock, caplog
):
    from test_portal_use_cases import open_store

    from tresen.adapters.identity_directory import MemoryIdentityDirectory
    from tresen.services.webhook_dispatch import owner_address

    backend.identity = MemoryIdentityDirectory()
    open_store(backend, "cafe-nord", "Rechnung@Cafe-Nord.de")  # its owner is invited, not a member yet
    assert owner_address(backend, "cafe-nord") == "rechnung@cafe-nord.de"
    assert owner_address(backend, STORE) is None

    made = endpoint(backend)
    receiver.otherwise = Answer(500)
    order(backend)
    dispatch_store(backend, STORE)
    clock.now += timedelta(days=5)
    order(backend)
    dispatch_store(backend, STORE)
    assert not stored(backend, made.id).enabled
    assert f"store demo: webhook endpoint {made.id} disabled; no owner to e-mail" in caplog.text
    deliver_all_due_mail(backend)
    assert [mail.to for mail, _ in backend.mail_sender.sent] == ["rechnung@cafe-nord.de"]  # the invitation alone


def test_enabled_again_an_endpoint_receives_only_what_came_after(backend, receiver):
    made = endpoint(backend)
    receiver.answers = [Answer(410)]
    order(backend)
    dispatch_store(backend, STORE)
    order(backend)  # while it is disabled: never sent
    enabled = endpoints.enable_endpoint(endpoints.EndpointCommand(STORE, made.id, OWNER), backend)
    assert (enabled.status, enabled.after_seq, enabled.disabled_reason) == ("enabled", 4, None)
    later = order(backend)
    dispatch_store(backend, STORE)
    assert receiver.events()[1:] == [(HOOK, "order.placed", 6)]
    assert json.loads(receiver.requests[1].body)["data"]["object"]["id"] == later.id


def test_a_deleted_endpoint_gets_nothing_more(backend, receiver):
    made = endpoint(backend)
    order(backend)
    fan_out(backend, STORE)  # created, not sent yet
    endpoints.delete_endpoint(endpoints.EndpointCommand(STORE, made.id, OWNER), backend)
    order(backend)
    backend.now = lambda: datetime.now(UTC) + LEASE  # the dispatcher's lease is over
    job(backend)
    assert receiver.requests == []
    [delivery] = deliveries(backend).values()
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == (
        "failed", 0, "the endpoint was deleted"
    )  # fmt: skip
    with pytest.raises(DomainError) as gone:
        endpoints.endpoint_of(backend, STORE, made.id)
    assert gone.value.code == "webhook_endpoint_not_found"


def test_a_ping_is_sent_at_once_and_listed_with_the_deliveries_newest_first(backend, receiver):
    made = endpoint(backend)
    order(backend)
    dispatch_store(backend, STORE)
    ping = endpoints.send_ping(endpoints.EndpointCommand(STORE, made.id, OWNER), backend)
    assert (ping.type, ping.seq, ping.status, ping.attempts, ping.last_status_code) == (
        "ping",
        None,
        "succeeded",
        1,
        200,
    )
    assert json.loads(receiver.requests[-1].body)["data"] == {"store_id": STORE, "seq": None,
                                                              "object": {"endpoint_id": made.id}}  # fmt: skip

    first = endpoints.deliveries(backend, STORE, made.id, 1, None)
    second = endpoints.deliveries(backend, STORE, made.id, 1, first.next_cursor)
    assert [d.type for d in first.deliveries + second.deliveries] == ["ping", "order.placed"]
    assert second.next_cursor is None
    with pytest.raises(DomainError) as refused:
        endpoints.deliveries(backend, STORE, made.id, 1, "nonsense")
    assert refused.value.code == "validation_failed"


def test_a_url_the_sender_refuses_makes_no_endpoint(backend, receiver):
    with pytest.raises(DomainError) as refused:
        endpoint(backend, url="http://hooks.example.com/")
    assert [(e.field, e.message) for e in refused.value.errors] == [("url", "https:// only")]
    assert backend.webhook_endpoints.of_store(STORE) == []


def test_tresen_webhooks_deliver_sends_what_is_due(backend, receiver, monkeypatch, capsys):
    monkeypatch.setattr(backend_module, "backend", lambda: backend)
    endpoint(backend)
    order(backend)
    assert cli.main(["webhooks-deliver"]) == 0
    assert capsys.readouterr().out == (
        "webhooks: 1 deliveries fanned out, 1 succeeded, 0 to retry, 0 failed, 0 taken by another sender\n"
    )


# -- pure: the schedule, Retry-After, where a webhook may go --------------------------------------------


def test_the_retry_schedule_and_its_jitter():
    minutes, hours = timedelta(minutes=1), timedelta(hours=1)
    schedule = [5 * timedelta(seconds=1), 5 * minutes, 30 * minutes, 2 * hours, 5 * hours, 10 * hours, 14 * hours,
                20 * hours, 24 * hours]  # fmt: skip
    for failures, delay in enumerate(schedule, start=1):
        assert next_attempt(failures, T0, 0.0) == T0 + delay
        assert next_attempt(failures, T0, -1.0) == T0 + delay * 0.9
        assert next_attempt(failures, T0, 1.0) == T0 + delay * 1.1
    assert next_attempt(10, T0, 0.0) is None
    assert next_attempt(1, T0, 0.0, scale=0.001) == T0 + timedelta(milliseconds=5)
    assert next_attempt(1, T0, 0.0, retry_after=timedelta(minutes=3)) == T0 + 3 * minutes
    assert next_attempt(2, T0, 0.0, retry_after=timedelta(seconds=1)) == T0 + 5 * minutes  # never earlier
    assert next_attempt(1, T0, 0.0, retry_after=timedelta(days=3)) == T0 + 24 * hours  # at most 24 h


@pytest.mark.parametrize(
    ("value", "wait"),
    [
        ("120", timedelta(minutes=2)),
        (" 0 ", timedelta(0)),
        ("Mon, 23 Nov 2026 12:10:00 GMT", timedelta(minutes=10)),
        ("Mon, 23 Nov 2026 11:00:00 GMT", timedelta(0)),  # past
        ("999999999", timedelta(hours=24)),
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value, wait):
    assert retry_after(value, T0) == wait


def test_what_an_answer_means():
    assert verdict(1, 204, None, T0, 0, 1).status == "succeeded"
    assert verdict(1, 410, "60", T0, 0, 1) == verdict(1, 410, None, T0, 0, 1)
    assert verdict(1, 410, None, T0, 0, 1).endpoint_gone
    assert verdict(1, 503, "60", T0, 0, 1).next_attempt_at == T0 + timedelta(minutes=1)
    assert verdict(1, 500, "60", T0, 0, 1).next_attempt_at == T0 + timedelta(seconds=5)  # only 429 and 503 ask
    assert verdict(1, 302, None, T0, 0, 1).status == "pending"  # a redirect is not followed: a failure
    assert verdict(10, None, None, T0, 0, 1).status == "failed"


@pytest.mark.parametrize(
    ("url", "dev", "why"),
    [
        ("https://hooks.example.com/a?b=1", False, None),
        ("http://hooks.example.com/", False, "https:// only"),
        ("http://127.0.0.1:8000/hook", False, "https:// only"),
        ("http://127.0.0.1:8000/hook", True, None),
        ("http://localhost:8000/hook", True, None),
        ("http://10.0.0.1:8000/hook", True, "https:// only (and http://127.0.0.1 or http://localhost in dev mode)"),
        ("https://user:pw@hooks.example.com/", False, "no user or password in the URL: the signature says who sends"),
        ("https://hooks.example.com/#x", False, "no fragment (#…)"),
        ("https:///path", False, "no host"),
        ("https://hooks.example.com:99999/", False, "not a URL"),
        ("https://hooks.example.com/ä", False, "a URL of at most 2048 printable ASCII characters"),
        ("https://hooks.example.com/" + "a" * 2048, False, "a URL of at most 2048 printable ASCII characters"),
    ],
)
def test_which_urls_a_webhook_may_go_to(url, dev, why):
    if why is None:
        assert destination(url, dev).scheme in ("http", "https")
    else:
        with pytest.raises(DomainError) as refused:
            destination(url, dev)
        assert [e.message for e in refused.value.errors] == [why]


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("169.254.169.254", False),  # the metadata server
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),
        ("127.0.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:169.254.169.254", False),  # IPv4 in IPv6 clothing
        ("64:ff9b::a9fe:a9fe", False),
        ("2002:a00:1::", False),
    ],
)
def test_only_public_addresses_in_production(address, allowed):
    to = destination("https://hooks.example.com/", dev=False)
    assert (address_refusal(address, to, dev=False) is None) == allowed


def test_dev_mode_admits_loopback_for_the_local_hosts_only():
    local, other = destination("http://localhost:9000/", dev=True), destination("https://example.test/", dev=True)
    assert address_refusal("127.0.0.1", local, dev=True) is None
    assert address_refusal("::1", local, dev=True) is None
    assert (
        address_refusal("127.0.0.1", other, dev=True)
        == "example.test resolves to 127.0.0.1, which is not a public address"
    )
    assert address_refusal("127.0.0.1", local, dev=False) is not None


# -- the HTTP client, against a server on 127.0.0.1 -----------------------------------------------------


@pytest.fixture(scope="module")
def local_server():
    """Answers by path: /ok 200, /moved 302 (to /ok), /busy 503 with Retry-After; keeps what it got."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    got = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            got.append((self.path, dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            status, headers = {"/ok": (200, {}), "/moved": (302, {"Location": "/ok"}),
                               "/busy": (503, {"Retry-After": "7"})}[self.path]  # fmt: skip
            self.send_response(status)
            for name, value in (headers | {"Content-Length": "2"}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], got
    server.shutdown()


def test_the_client_posts_the_body_with_its_headers_and_follows_no_redirect(local_server):
    from tresen.adapters.webhook_sender import UrlSender
    from tresen.services.webhook_ports import Request

    port, got = local_server
    sender = UrlSender(dev=True)
    url = f"http://127.0.0.1:{port}"
    answers = sender.send_all([Request(f"{url}/ok", {"webhook-id": "msg_1"}, b'{"a":1}'),
                               Request(f"{url}/moved", {}, b"{}"), Request(f"{url}/busy", {}, b"{}")])  # fmt: skip
    assert answers == [Answer(200), Answer(302), Answer(503, "7")]
    path, headers, body = next(request for request in got if request[0] == "/ok")
    assert (body, headers["webhook-id"], headers["User-Agent"], headers["Content-Type"], headers["Host"]) == (
        b'{"a":1}', "msg_1", "Tresen-Webhooks/1", "application/json", f"127.0.0.1:{port}"
    )  # fmt: skip
    assert [request[0] for request in got].count("/ok") == 1  # the 302 was not followed


def test_the_client_connects_to_the_address_it_checked_and_names_the_host_it_was_given(local_server):
    from tresen.adapters.webhook_sender import UrlSender
    from tresen.services.webhook_ports import Request

    port, got = local_server
    lookups = []

    def resolve(host, port, type):
        lookups.append(host)
        return [(2, 1, 6, "", ("127.0.0.1", port))]

    sender = UrlSender(dev=True, resolve=resolve)
    assert sender.send(Request(f"http://localhost:{port}/ok", {}, b"{}")) == Answer(200)
    assert lookups == ["localhost"]  # once: the connection goes to the address checked
    assert got[-1][1]["Host"] == f"localhost:{port}"


def test_the_client_refuses_what_resolves_to_a_private_address_before_connecting():
    from tresen.adapters.webhook_sender import UrlSender
    from tresen.services.webhook_ports import Request

    def resolve(host, port, type):
        return {"hooks.example.com": [(2, 1, 6, "", ("93.184.216.34", port)), (2, 1, 6, "", ("10.0.0.7", port))],
                "metadata.example.com": [(2, 1, 6, "", ("169.254.169.254", port))]}[host]  # fmt: skip

    sender = UrlSender(dev=False, resolve=resolve)
    assert sender.refusal("https://hooks.example.com/") == (
        "hooks.example.com resolves to 10.0.0.7, which is not a public address"
    )
    assert sender.send(Request("https://metadata.example.com/", {}, b"{}")) == Answer(
        None, error="metadata.example.com resolves to 169.254.169.254, which is not a public address"
    )
    assert sender.refusal("http://127.0.0.1:8080/") == "https:// only"


def test_a_refused_connection_is_an_answer_with_its_reason():
    import socket

    from tresen.adapters.webhook_sender import UrlSender
    from tresen.services.webhook_ports import Request

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    answer = UrlSender(dev=True).send(Request(f"http://127.0.0.1:{port}/", {}, b"{}"))
    assert answer.status_code is None and answer.error.startswith("could not connect to 127.0.0.1: ")


def test_a_retry_due_soon_is_sent_by_the_process_itself(backend, receiver):
    import time

    backend.webhooks_after_commit = True
    receiver.retry_scale = 0.001  # the first retry 5 ms after the first attempt
    receiver.answers = [Answer(503)]
    endpoint(backend)
    order(backend)
    deadline = time.monotonic() + 10
    while len(receiver.requests) < 2:  # the timer kicks the store again, without the job
        assert time.monotonic() < deadline, "the retry was not sent"
        time.sleep(0.01)
    backend.webhook_courier.drain()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [receiver.requests[0].headers["webhook-id"]] * 2
    assert {d["status"] for d in deliveries(backend).values()} == {"succeeded"}


@pytest.mark.parametrize(("value", "scale"), [("0.001", 0.001), ("1", 1.0), ("0", None), ("2", None), ("soon", None)])
def test_webhook_retry_scale_is_a_dev_setting_above_0_and_at_most_1(value, scale):
    from tresen.config import ConfigError, load_settings

    if scale is None:
        with pytest.raises(ConfigError):
            load_settings({"TRESEN_ENV": "dev", "WEBHOOK_RETRY_SCALE": value})
    else:
        assert load_settings({"TRESEN_ENV": "dev", "WEBHOOK_RETRY_SCALE": value}).webhook_retry_scale == scale


def test_the_jobs_run_pages_the_stores_with_an_enabled_endpoint_each_once(backend):
    batch = backend.docs.batch()
    stores = ["a", "a", "a", "b", "c", "d", "d"]
    for n, store_id in enumerate(stores):
        status = "disabled" if store_id == "b" else "enabled"
        batch.create(f"{ENDPOINTS}/we_{n}", {"store_id": store_id, "status": status})
    batch.commit()
    page = backend.webhook_endpoints.stores_enabled_after
    assert (page(None, 2), page("c", 2), page("d", 2)) == (["a", "c"], ["d"], [])
