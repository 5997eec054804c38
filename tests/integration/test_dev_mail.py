"""Mail on Firestore, as `tresen dev` runs it: a mail committed into the outbox goes out on the courier's
thread (or with the mail job) to the local SMTP sink, which keeps it; `GET /v1/dev/mail` lists what the
sink received, newest first, and hands out each attachment as sent. Production answers 404 there."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from tresen.adapters.mail_outbox import mail_path
from tresen.adapters.smtp_sender import SmtpSender
from tresen.config import settings
from tresen.domain.mail import Attachment, Mail
from tresen.http import dev_mail_routes
from tresen.services.unit_of_work import Writes
from tresen.standins.smtp_sink import SmtpSink
from tresen.wiring import entry_router as router

router()  # registers every route
INVOICE = Attachment("Rechnung März 2026.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8)
TERMS = Attachment("agb.txt", "text/plain", b"Es gelten unsere AGB.\n")


@pytest.fixture
def sink(backend, monkeypatch):
    """The sink `tresen dev` starts, keeping what it receives in the dev mailbox, and the backend's
    mail sent to it."""
    started = SmtpSink(backend.dev_mail.keep)
    port = started.start()
    monkeypatch.setattr(backend, "mail_sender", SmtpSender(f"smtp://127.0.0.1:{port}", settings().mail_from))
    yield started
    backend.mail_courier.drain()
    started.stop()


def a_mail(**fields) -> Mail:
    return Mail(
        **{
            "id": f"mail_{uuid.uuid4().hex[:16]}",
            "to": "kundin@example.de",
            "subject": "Willkommen bei Tresen",
            "text": "Guten Tag,\nSie wurden eingeladen.\n",
        }
        | fields
    )


def enqueue(backend, mail: Mail) -> None:
    writes = Writes({"type": "system"})
    writes.mail(mail)
    backend.commit_writes(writes)


def listed(client, *mails: Mail) -> list[dict]:
    """The listing's entries of these mails, in the listing's order (the emulator is shared)."""
    answer = client.get("/v1/dev/mail")
    assert answer.status_code == 200, answer.get_json()
    ours = {mail.id for mail in mails}
    return [entry for entry in answer.get_json()["data"] if entry["id"] in ours]


def test_the_sink_lists_what_it_received_newest_first(client, backend, sink):
    invitation = a_mail()
    invoice = a_mail(subject="Ihre Rechnung", html="<p>Guten Tag</p>\n", attachments=(INVOICE, TERMS))
    enqueue(backend, invitation)
    backend.mail_courier.drain()
    enqueue(backend, invoice)
    backend.mail_courier.drain()

    entries = listed(client, invitation, invoice)
    received = [datetime.fromisoformat(entry.pop("sent_at")) for entry in entries]
    assert received == sorted(received, reverse=True) and received[0].utcoffset() == timedelta(0)
    assert entries == [
        {
            "id": invoice.id,
            "to": "kundin@example.de",
            "subject": "Ihre Rechnung",
            "text": "Guten Tag,\nSie wurden eingeladen.\n",
            "html": "<p>Guten Tag</p>\n",
            "attachments": [
                {
                    "filename": "Rechnung März 2026.pdf",
                    "content_type": "application/pdf",
                    "size": 2057,
                    "sha256": hashlib.sha256(INVOICE.content).hexdigest(),
                },
                {
                    "filename": "agb.txt",
                    "content_type": "text/plain",
                    "size": 22,
                    "sha256": hashlib.sha256(b"Es gelten unsere AGB.\n").hexdigest(),
                },
            ],
        },
        {
            "id": invitation.id,
            "to": "kundin@example.de",
            "subject": "Willkommen bei Tresen",
            "text": "Guten Tag,\nSie wurden eingeladen.\n",
            "html": None,
            "attachments": [],
        },
    ]
    stored = backend.docs.get(mail_path(invoice.id)).data
    assert (stored["status"], stored["attempts"], stored["message_id"]) == ("sent", 0, f"<{invoice.id}@tresen>")


def test_an_attachment_is_handed_out_as_sent(client, backend, sink):
    invoice = a_mail(attachments=(INVOICE, TERMS))
    enqueue(backend, invoice)
    backend.mail_courier.drain()
    answer = client.get(f"/v1/dev/mail/{invoice.id}/attachments/{quote(INVOICE.filename)}")
    assert (answer.status_code, answer.content_type, answer.data) == (200, "application/pdf", INVOICE.content)
    assert answer.headers["Content-Disposition"] == "attachment"
    text = client.get(f"/v1/dev/mail/{invoice.id}/attachments/agb.txt")
    assert (text.content_type, text.data) == ("text/plain", TERMS.content)
    for unknown in (f"{invoice.id}/attachments/agb.pdf", "mail_nothere/attachments/agb.txt"):
        missing = client.get(f"/v1/dev/mail/{unknown}")
        assert (missing.status_code, missing.get_json()["code"]) == (404, "not_found"), unknown


def test_the_mail_job_sends_what_the_courier_did_not(client, backend, sink, monkeypatch):
    monkeypatch.setattr(backend, "mail_after_commit", False)
    waiting = a_mail(subject="Zahlungserinnerung")
    enqueue(backend, waiting)
    assert backend.docs.get(mail_path(waiting.id)).data["status"] == "pending"
    answer = client.post("/v1/jobs/mail")
    assert answer.status_code == 200
    assert set(answer.get_json()) == {"sent", "retrying", "failed", "taken"} and answer.get_json()["sent"] >= 1
    assert [entry["subject"] for entry in listed(client, waiting)] == ["Zahlungserinnerung"]
    assert backend.docs.get(mail_path(waiting.id)).data["status"] == "sent"


def test_production_has_no_dev_mail(client, monkeypatch):
    monkeypatch.setattr(dev_mail_routes, "settings", lambda: replace(settings(), env="prod"))
    for path in ("/v1/dev/mail", "/v1/dev/mail/mail_x/attachments/agb.txt"):
        answer = client.get(path)
        assert (answer.status_code, answer.content_type) == (404, "application/problem+json"), path
        assert answer.get_json()["code"] == "not_found"
