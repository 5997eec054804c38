"""The mail outbox on the in-memory backend: a mail committed with a use case is sent once, retried on the
schedule when the server does not take it, given up (and kept) when refused for good or out of retries,
taken over when its deliverer died, and never sent twice by two deliverers. The schedule and what a mail
may hold, as pure functions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tresen import cli
from tresen.adapters import backend as backend_module
from tresen.adapters import clock as clock_module
from tresen.adapters.mail_outbox import mail_path
from tresen.adapters.smtp_sender import SmtpSender, smtp_server
from tresen.domain.mail import MAX_MAIL_BYTES, Attachment, Mail, message_id, next_attempt
from tresen.services.mail import MailDelivery, deliver_all_due_mail, deliver_due_mail
from tresen.services.mail_ports import MailNotSent
from tresen.services.unit_of_work import AlreadyWritten, Plan, Writes

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)
ACTOR = {"type": "staff", "uid": "owner-1", "role": "owner"}
INVOICE = Attachment("Rechnung 2026-0001.pdf", "application/pdf", b"%PDF-1.7\n\x00\xff")


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The one clock of the backend and of the outbox's new documents."""
    fixed = Clock()
    monkeypatch.setattr(clock_module, "now", fixed)
    return fixed


def a_mail(n: int = 1, **fields) -> Mail:
    return Mail(
        **{
            "id": f"mail_{n}",
            "to": f"kundin{n}@example.de",
            "subject": f"Ihre Rechnung {n}",
            "text": "Guten Tag,\nanbei Ihre Rechnung.\n",
            "html": "<p>Guten Tag,</p><p>anbei Ihre Rechnung.</p>",
            "attachments": (INVOICE,),
        }
        | fields
    )


def enqueue(backend, *mails: Mail) -> None:
    """As a use case does: its mail in its own commit."""
    writes = Writes(ACTOR)
    for mail in mails:
        writes.mail(mail)
    backend.commit("demo", lambda claims: Plan(None, T0, ACTOR, [], writes))


def outbox(backend, mail_id: str) -> dict:
    return backend.docs.get(mail_path(mail_id)).data


def sent_ids(backend) -> list[str]:
    return [mail.id for mail, _ in backend.mail_sender.sent]


def test_a_mail_committed_with_a_use_case_is_sent_once(backend, clock):
    enqueue(backend, a_mail())
    stored = outbox(backend, "mail_1")
    assert (stored["status"], stored["attempts"], stored["next_attempt_at"]) == ("pending", 0, T0)
    assert stored["attachments"] == [{"filename": INVOICE.filename, "content_type": INVOICE.content_type,
                                      "content": INVOICE.content}]  # fmt: skip

    clock.now = T0 + timedelta(seconds=1)
    assert deliver_due_mail(backend) == MailDelivery(sent=1)
    assert backend.mail_sender.sent == [(a_mail(), "<mail_1@tresen>")]
    stored = outbox(backend, "mail_1")
    assert (stored["status"], stored["sent_at"], stored["message_id"]) == ("sent", clock.now, "<mail_1@tresen>")
    assert stored["next_attempt_at"] is None

    clock.now += timedelta(days=4)
    assert deliver_due_mail(backend) == MailDelivery()
    assert sent_ids(backend) == ["mail_1"]


def test_a_commit_that_fails_leaves_no_mail(backend, clock):
    enqueue(backend, a_mail(1))
    with pytest.raises(AlreadyWritten):
        enqueue(backend, a_mail(2), a_mail(1))  # the second commit fails as a whole
    assert backend.docs.get(mail_path("mail_2")) is None
    assert deliver_due_mail(backend) == MailDelivery(sent=1)
    assert sent_ids(backend) == ["mail_1"]


def test_a_mail_not_taken_is_tried_again_on_the_schedule_and_then_sent(backend, clock):
    enqueue(backend, a_mail())
    backend.mail_sender.refusals = [MailNotSent(False, "421 4.3.2 try again later")] * 3
    expected = []
    for delay in (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10)):
        assert deliver_due_mail(backend) == MailDelivery(retrying=1)
        stored = outbox(backend, "mail_1")
        expected.append((stored["status"], stored["attempts"], stored["next_attempt_at"], stored["last_error"]))
        clock.now += delay - timedelta(seconds=1)
        assert deliver_due_mail(backend) == MailDelivery()  # not due yet
        clock.now += timedelta(seconds=1)
    start = T0 + timedelta(seconds=30)
    assert expected == [
        ("pending", 1, T0 + timedelta(seconds=30), "421 4.3.2 try again later"),
        ("pending", 2, start + timedelta(minutes=2), "421 4.3.2 try again later"),
        ("pending", 3, start + timedelta(minutes=12), "421 4.3.2 try again later"),
    ]
    assert deliver_due_mail(backend) == MailDelivery(sent=1)
    assert sent_ids(backend) == ["mail_1"]
    assert (outbox(backend, "mail_1")["status"], outbox(backend, "mail_1")["attempts"]) == ("sent", 3)


def test_a_permanent_refusal_gives_the_mail_up_at_once_and_keeps_it(backend, clock):
    enqueue(backend, a_mail())
    backend.mail_sender.refusals = [MailNotSent(True, "550 5.1.1 no such user")]
    assert deliver_due_mail(backend) == MailDelivery(failed=1)
    stored = outbox(backend, "mail_1")
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("failed", 1, "550 5.1.1 no such user")
    assert (stored["failed_at"], stored["next_attempt_at"], stored["subject"]) == (T0, None, "Ihre Rechnung 1")
    clock.now += timedelta(days=1)
    assert deliver_due_mail(backend) == MailDelivery()
    assert backend.mail_sender.sent == []


def test_the_retries_end_after_17_attempts_over_three_days(backend, clock):
    enqueue(backend, a_mail())
    backend.mail_sender.refusals = [MailNotSent(False, "Connection refused")] * 20
    runs = []
    while outbox(backend, "mail_1")["status"] == "pending":
        clock.now = outbox(backend, "mail_1")["next_attempt_at"]
        runs.append(deliver_due_mail(backend))
    assert runs == [MailDelivery(retrying=1)] * 16 + [MailDelivery(failed=1)]
    stored = outbox(backend, "mail_1")
    assert (stored["status"], stored["attempts"]) == ("failed", 17)
    assert stored["failed_at"] - T0 == timedelta(hours=68, minutes=42, seconds=30)
    assert len(backend.mail_sender.refusals) == 3


def test_a_fault_of_the_sender_is_tried_again_like_a_refusal(backend, clock):
    enqueue(backend, a_mail())
    backend.mail_sender.refusals = [RuntimeError("a bug")]
    assert deliver_due_mail(backend) == MailDelivery(retrying=1)
    assert outbox(backend, "mail_1")["last_error"] == "RuntimeError('a bug')"


def test_a_mail_whose_deliverer_died_is_taken_over_when_its_lease_ends(backend, clock):
    enqueue(backend, a_mail())
    [due] = backend.mail_outbox.due(T0, 10)
    dead = backend.mail_outbox.claim(due, T0 + timedelta(minutes=2))  # and then it crashed
    assert outbox(backend, "mail_1")["status"] == "sending"
    clock.now = T0 + timedelta(minutes=2) - timedelta(seconds=1)
    assert deliver_due_mail(backend) == MailDelivery()
    clock.now = T0 + timedelta(minutes=2)
    assert deliver_due_mail(backend) == MailDelivery(sent=1)
    assert sent_ids(backend) == ["mail_1"]
    # the dead deliverer, had it come back, could not mark the mail any more
    assert backend.mail_outbox.mark_sent("mail_1", dead, clock.now, "<mail_1@tresen>") is False


def test_two_deliverers_reading_the_same_mails_send_each_once(backend, clock, monkeypatch):
    enqueue(backend, *(a_mail(n) for n in range(1, 6)))
    read, both_read = backend.mail_outbox.due, threading.Barrier(2)

    def due_and_wait(now, limit):
        found = read(now, limit)
        both_read.wait(timeout=10)  # both hold the same five mails before either claims one
        return found

    monkeypatch.setattr(backend.mail_outbox, "due", due_and_wait)
    results: list[MailDelivery] = []
    deliverers = [threading.Thread(target=lambda: results.append(deliver_due_mail(backend))) for _ in range(2)]
    for deliverer in deliverers:
        deliverer.start()
    for deliverer in deliverers:
        deliverer.join()
    total = MailDelivery()
    for result in results:
        total.add(result)
    assert (len(results), total) == (2, MailDelivery(sent=5, taken=5))
    assert sorted(sent_ids(backend)) == [f"mail_{n}" for n in range(1, 6)]


def test_every_due_mail_is_sent_a_batch_at_a_time(backend, clock):
    enqueue(backend, *(a_mail(n) for n in range(1, 24)))
    assert deliver_all_due_mail(backend) == MailDelivery(sent=23)
    assert sorted(sent_ids(backend)) == sorted(f"mail_{n}" for n in range(1, 24))


def test_a_commit_with_mail_has_it_sent_on_the_couriers_thread(backend, clock):
    backend.mail_after_commit = True
    enqueue(backend, a_mail())
    backend.mail_courier.drain()
    assert sent_ids(backend) == ["mail_1"]
    assert outbox(backend, "mail_1")["status"] == "sent"


def test_tresen_mail_sends_what_is_due_and_fails_when_a_mail_was_given_up(backend, clock, monkeypatch, capsys):
    monkeypatch.setattr(backend_module, "backend", lambda: backend)
    enqueue(backend, a_mail(1), a_mail(2))
    backend.mail_sender.refusals = [MailNotSent(True, "550 5.1.1 no such user")]
    assert cli.main(["mail"]) == 1
    assert capsys.readouterr().out == "mail: 1 sent, 0 to retry, 1 failed, 0 taken by another deliverer\n"
    assert cli.main(["mail"]) == 0
    assert capsys.readouterr().out == "mail: 0 sent, 0 to retry, 0 failed, 0 taken by another deliverer\n"


# ---------------------------------------------------------------- pure: the schedule, what a mail holds


def test_the_retry_schedule():
    delays = [next_attempt(attempts, T0) - T0 if next_attempt(attempts, T0) else None for attempts in range(18)]
    minutes = timedelta(minutes=1)
    assert delays[:7] == [timedelta(0), timedelta(seconds=30), 2 * minutes, 10 * minutes, 30 * minutes,
                          timedelta(hours=2), timedelta(hours=6)]  # fmt: skip
    assert delays[7:17] == [timedelta(hours=6)] * 10
    assert delays[17] is None
    assert sum(delays[1:17], timedelta()) == timedelta(hours=68, minutes=42, seconds=30) <= timedelta(days=3)


def test_a_mail_names_itself_in_its_message_id():
    assert message_id("mail_k3x9") == "<mail_k3x9@tresen>"


def test_a_mail_holds_at_most_800_kb():
    text, html = "x" * 1000, "<p>x</p>"
    filler = Attachment("a.bin", "application/octet-stream", bytes(MAX_MAIL_BYTES - len(text) - len(html)))
    fits = a_mail(text=text, html=html, attachments=(filler,))
    assert fits.size == MAX_MAIL_BYTES == 819_200
    with pytest.raises(ValueError, match="at most 819200 bytes of text and attachments, not 819201"):
        a_mail(text=text + "x", html=html, attachments=(filler,))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": "mail/1"}, "a mail id is"),
        ({"to": "kundin@example"}, "not an e-mail address"),
        ({"to": "a@example.de\nBcc: b@example.de"}, "not an e-mail address"),
        ({"subject": "Rechnung\r\nBcc: b@example.de"}, "one line"),
        ({"subject": ""}, "one line"),
        ({"attachments": (Attachment("../etc/passwd", "text/plain", b""),)}, "no path"),
        ({"attachments": (Attachment(".hidden", "text/plain", b""),)}, "no path"),
        ({"attachments": (Attachment("a.pdf", "PDF", b""),)}, "not a media type"),
        ({"attachments": (INVOICE, INVOICE)}, "the same name"),
    ],
)
def test_a_mail_that_could_not_be_sent_as_meant_is_refused(fields, reason):
    with pytest.raises(ValueError, match=reason):
        a_mail(**fields)


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://tresen%40example.de:p%3As%2Fs@mail.example.de",
         ("mail.example.de", 587, False, True, "tresen@example.de", "p:s/s")),
        ("smtps://mail.example.de", ("mail.example.de", 465, True, False, None, None)),
        ("smtp://mail.example.de:2587/", ("mail.example.de", 2587, False, True, None, None)),
        ("smtp://127.0.0.1:2525", ("127.0.0.1", 2525, False, False, None, None)),
        ("smtp://localhost:25", ("localhost", 25, False, False, None, None)),
        ("smtp://[::1]:25", ("::1", 25, False, False, None, None)),
    ],
)  # fmt: skip
def test_smtp_urls(url, server):
    named = smtp_server(url)
    fields = (named.host, named.port, named.implicit_tls, named.starttls_required, named.username, named.password)
    assert fields == server
    assert "p:s/s" not in repr(named)


@pytest.mark.parametrize(
    ("url", "sender", "reason"),
    [
        ("", "Tresen <no-reply@tresen.example>", "SMTP_URL is not set"),
        ("smtp://127.0.0.1:1", "", "MAIL_FROM is not set"),
        ("http://u:secret@mail.example.de", "Tresen <no-reply@tresen.example>", "SMTP_URL must be smtp://"),
    ],
)
def test_a_sender_without_its_settings_sends_nothing_and_says_why(url, sender, reason):
    with pytest.raises(MailNotSent) as refused:
        SmtpSender(url, sender).send(a_mail(), "<mail_1@tresen>")
    assert (refused.value.permanent, refused.value.reason.startswith(reason)) == (False, True)
    assert "secret" not in refused.value.reason
