"""A receipt through a real mail server (the dev SMTP sink, aiosmtpd, on 127.0.0.1) that keeps the
message and then loses its answer: the outbox does not know it was taken and sends it again, under
the same Message-ID, and the customer's mailbox (the sink's, one mail per Message-ID) holds it once."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from tresen.adapters import clock
from tresen.adapters.backend import Backend
from tresen.adapters.mail_outbox import mail_path
from tresen.adapters.smtp_sender import SmtpSender
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.services.mail import MailDelivery, deliver_all_due_mail
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.seed import DEMO, seed_store
from tresen.standins import smtp_sink
from tresen.standins.smtp_sink import SmtpSink

T0 = datetime(2026, 11, 23, 11, 36, 39, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch) -> list[datetime]:
    """The clock of the backend and of the outbox's documents: set `now[0]` to move it."""
    moment = [T0]
    monkeypatch.setattr(clock, "now", lambda: moment[0])
    return moment


@pytest.fixture
def backend(now) -> Backend:
    """The demo store in memory (overrides the emulator-backed `backend`)."""
    memory = Backend.in_memory()
    seed_store(DEMO, memory)
    return memory


@pytest.fixture
def handed_over(backend, monkeypatch):
    """The sink `tresen dev` starts, keeping what it receives in the dev mailbox, whose first answer
    to a message never reaches the sender: the connection closes once the message is kept, before
    its 250. Yields the id of each message the server was handed, in order."""
    received: list[str] = []

    def keep(message: smtp_sink.ReceivedMessage) -> None:
        received.append(message.id)
        backend.dev_mail.keep(message)

    class AnswerLostOnce(smtp_sink.Handler):
        async def handle_DATA(self, server, session, envelope):
            answer = await super().handle_DATA(server, session, envelope)
            if len(received) == 1:
                server.transport.close()
            return answer

    monkeypatch.setattr(smtp_sink, "Handler", AnswerLostOnce)
    sink = SmtpSink(keep)
    port = sink.start()
    backend.mail_sender = SmtpSender(f"smtp://127.0.0.1:{port}", "Demo Café <no-reply@tresen.example>")
    yield received
    sink.stop()


def test_a_receipt_whose_answer_was_lost_is_sent_again_and_arrives_once(backend, handed_over, now):
    customer = Customer("Anna", "anna@example.com")
    request = OrderRequest((CartItem("croissant", 2),), Fulfilment("pickup"), customer, "on_site", receipt="email")
    order = place_order(PlaceOrder("demo", request, {"type": "customer"}), backend).order
    mail_id = f"rcpt-{order.id}"

    assert deliver_all_due_mail(backend) == MailDelivery(retrying=1)
    stored = backend.docs.get(mail_path(mail_id)).data
    assert (stored["status"], stored["attempts"], stored["next_attempt_at"]) == (
        "pending",
        1,
        T0 + timedelta(seconds=30),
    )
    assert stored["last_error"].startswith("SMTPServerDisconnected")
    now[0] = T0 + timedelta(seconds=30)
    assert deliver_all_due_mail(backend) == MailDelivery(sent=1)

    assert handed_over == [mail_id, mail_id]  # the server took it twice
    [kept] = backend.dev_mail.newest_first(10)  # the customer has it once
    [attachment] = stored["attachments"]
    assert (kept.id, kept.to, kept.subject) == (mail_id, "anna@example.com", "Ihr Beleg DEMO-2026-000001 – Demo Café")
    assert [(file.filename, file.sha256) for file in kept.attachments] == [
        ("Beleg DEMO-2026-000001.pdf", hashlib.sha256(attachment["content"]).hexdigest())
    ]
    assert backend.docs.get(mail_path(mail_id)).data["status"] == "sent"
