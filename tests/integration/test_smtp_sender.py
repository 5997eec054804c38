"""The SMTP sender against a real SMTP server in this process (the dev sink, aiosmtpd, on 127.0.0.1):
the message as it arrives (headers, text, html, attachments byte for byte), STARTTLS done where offered
and demanded where the host is not this machine, TLS from the first byte for smtps://, the server's
certificate checked, and what the server answers turned into a retry or a final refusal."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tresen.adapters import smtp_sender
from tresen.adapters.smtp_sender import SmtpSender
from tresen.domain.mail import Attachment, Mail
from tresen.services.mail_ports import MailNotSent
from tresen.standins import smtp_sink
from tresen.standins.smtp_sink import ReceivedAttachment, SmtpSink

SENDER = "Tresen <no-reply@tresen.example>"
INVOICE = Attachment("Rechnung März 2026.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40)
CSV = Attachment("posten.csv", "text/csv", "Posten;Betrag\r\nKaffee;3,20 €\r\n".encode())
MAIL = Mail(
    id="mail_k3x9q2",
    to="kundin@example.de",
    subject="Ihre Rechnung März – Café Süß",
    text="Guten Tag,\n\nanbei Ihre Rechnung über 12,40 €.\n",
    html="<p>Guten Tag,</p>\n<p>anbei Ihre Rechnung über <b>12,40 €</b>.</p>\n",
    attachments=(INVOICE, CSV),
)


class Inbox:
    """What a sink received: each message parsed, and its bytes as they came."""

    def __init__(self, monkeypatch):
        self.messages: list[smtp_sink.ReceivedMessage] = []
        self.raw: list[bytes] = []
        parse = smtp_sink.parse_message

        def keeping_bytes(raw, *rest):
            self.raw.append(raw)
            return parse(raw, *rest)

        monkeypatch.setattr(smtp_sink, "parse_message", keeping_bytes)

    def keep(self, message: smtp_sink.ReceivedMessage) -> None:
        self.messages.append(message)


@pytest.fixture
def inbox(monkeypatch) -> Inbox:
    return Inbox(monkeypatch)


def sink(inbox: Inbox, **options) -> tuple[SmtpSink, int]:
    started = SmtpSink(inbox.keep, **options)
    return started, started.start()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: (the server's context, a client's that trusts it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return server, ssl.create_default_context(cafile=folder / "cert.pem")


def test_the_mail_arrives_as_written(inbox):
    server, port = sink(inbox)
    try:
        SmtpSender(f"smtp://127.0.0.1:{port}", SENDER).send(MAIL, "<mail_k3x9q2@tresen>")
    finally:
        server.stop()
    [received] = inbox.messages
    assert (received.id, received.to, received.subject) == ("mail_k3x9q2", MAIL.to, MAIL.subject)
    assert (received.text, received.html) == (MAIL.text, MAIL.html)
    assert received.attachments == (
        ReceivedAttachment(INVOICE.filename, "application/pdf", INVOICE.content),
        ReceivedAttachment(CSV.filename, "text/csv", CSV.content),
    )
    [raw] = inbox.raw
    message = BytesParser(policy=policy.default).parsebytes(raw)
    headers = {name: str(message[name]) for name in ("From", "To", "Subject", "Message-ID")}
    assert headers == {"From": SENDER, "To": MAIL.to, "Subject": MAIL.subject, "Message-ID": "<mail_k3x9q2@tresen>"}
    assert message["Date"].datetime.tzinfo is not None
    assert message.get_content_type() == "multipart/mixed"
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
        "text/csv",
    ]


def test_starttls_is_used_where_offered_and_the_certificate_is_checked(inbox, certificate):
    server_tls, trusting = certificate
    server, port = sink(inbox, tls=server_tls)  # takes no message before STARTTLS
    try:
        SmtpSender(f"smtp://127.0.0.1:{port}", SENDER, tls=trusting).send(MAIL, "<mail_k3x9q2@tresen>")
        with pytest.raises(MailNotSent) as untrusted:  # the system's authorities do not know our certificate
            SmtpSender(f"smtp://127.0.0.1:{port}", SENDER).send(MAIL, "<mail_k3x9q2@tresen>")
    finally:
        server.stop()
    assert [message.id for message in inbox.messages] == ["mail_k3x9q2"]
    assert (untrusted.value.permanent, untrusted.value.reason.startswith("SSLCertVerificationError")) == (False, True)


def test_a_server_elsewhere_without_starttls_gets_nothing(inbox, monkeypatch):
    monkeypatch.setattr(smtp_sender, "LOCAL_HOSTS", frozenset())  # 127.0.0.1 stands for a host elsewhere
    server, port = sink(inbox)
    try:
        with pytest.raises(MailNotSent) as refused:
            SmtpSender(f"smtp://127.0.0.1:{port}", SENDER).send(MAIL, "<mail_k3x9q2@tresen>")
    finally:
        server.stop()
    assert (refused.value.permanent, refused.value.reason) == (
        False,
        "127.0.0.1 does not offer STARTTLS; nothing is sent in the clear",
    )
    assert inbox.raw == []


def test_smtps_speaks_tls_from_the_start(inbox, certificate):
    server_tls, trusting = certificate
    server, port = sink(inbox, tls=server_tls, implicit_tls=True)
    try:
        SmtpSender(f"smtps://127.0.0.1:{port}", SENDER, tls=trusting).send(MAIL, "<mail_k3x9q2@tresen>")
    finally:
        server.stop()
    assert [message.text for message in inbox.messages] == [MAIL.text]


class RefusingHandler(smtp_sink.Handler):
    """Knows no `unknown@…` (550) and has no room for `full@…` now (452)."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("unknown@"):
            return "550 5.1.1 no such user"
        if address.startswith("full@"):
            return "452 4.2.2 mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.mark.parametrize(
    ("to", "permanent", "reason"),
    [
        ("unknown@example.de", True, "550 5.1.1 no such user"),
        ("full@example.de", False, "452 4.2.2 mailbox full"),
    ],
)
def test_a_refused_recipient_is_final_only_with_a_5xx(inbox, monkeypatch, to, permanent, reason):
    monkeypatch.setattr(smtp_sink, "Handler", RefusingHandler)
    server, port = sink(inbox)
    try:
        with pytest.raises(MailNotSent) as refused:
            SmtpSender(f"smtp://127.0.0.1:{port}", SENDER).send(Mail(**vars(MAIL) | {"to": to}), "<m@tresen>")
    finally:
        server.stop()
    assert (refused.value.permanent, refused.value.reason) == (permanent, reason)


def test_a_message_the_server_could_not_keep_is_tried_again():
    def broken(message):
        raise OSError("disk full")

    server = SmtpSink(broken)
    port = server.start()
    try:
        with pytest.raises(MailNotSent) as refused:
            SmtpSender(f"smtp://127.0.0.1:{port}", SENDER).send(MAIL, "<mail_k3x9q2@tresen>")
    finally:
        server.stop()
    assert (refused.value.permanent, refused.value.reason) == (
        False,
        "451 4.3.0 the message could not be kept: OSError",
    )


def test_no_server_listening_is_tried_again(inbox):
    server, port = sink(inbox)
    server.stop()  # the port is free again: nobody answers there
    with pytest.raises(MailNotSent) as refused:
        SmtpSender(f"smtp://127.0.0.1:{port}", SENDER).send(MAIL, "<mail_k3x9q2@tresen>")
    assert (refused.value.permanent, refused.value.reason.startswith("ConnectionRefusedError")) == (False, True)
