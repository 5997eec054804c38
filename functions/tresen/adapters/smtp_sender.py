"""Sending mail by SMTP submission (services/mail_ports.py `MailSender`) with the standard library's
smtplib and EmailMessage, to the server `SMTP_URL` names; and a sender in memory for the tests.

`smtp://[user[:password]@]host[:port]` (port 587 unless given) upgrades the connection with STARTTLS
and sends nothing without it, unless the host is this machine (127.0.0.1, localhost, ::1: the dev
sink), where STARTTLS is used if offered. `smtps://…` (port 465) speaks TLS from the start. User and
password are URL-encoded. Each step of the exchange waits at most 10 s.

What the server answers decides what happens next: a 5xx for the recipient or for the message is
permanent (the mail is given up); anything else (no connection, 4xx, a refused login) is tried again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ..config import is_smtp_url, settings
from ..services.mail_ports import MailNotSent

if TYPE_CHECKING:  # annotations only: the mail types and smtplib are loaded when a mail is sent
    import smtplib
    import ssl
    from email.message import EmailMessage

    from ..domain.mail import Mail

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
TIMEOUT = 10.0  # seconds, for each step (connect, each command, the message)
MAX_REASON = 500  # characters of a server's answer kept with the mail


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool  # smtps://
    starttls_required: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def smtp_server(url: str) -> SmtpServer:
    """The server an SMTP_URL names. A ValueError never repeats the URL: it may hold a password."""
    if not is_smtp_url(url):
        raise ValueError("SMTP_URL must be smtp://[user:password@]host[:port] or smtps://[user:password@]host[:port]")
    parts = urlsplit(url)
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        implicit_tls=parts.scheme == "smtps",
        starttls_required=parts.scheme == "smtp" and parts.hostname not in LOCAL_HOSTS,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def email_message(mail: Mail, message_id: str, sender: str) -> EmailMessage:
    """The mail as sent: its text, its html as the alternative, then its attachments."""
    from email.message import EmailMessage
    from email.utils import formatdate

    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message


class SmtpSender:
    """`tls`: whom to trust (the system's certificate authorities unless given: the tests give their own)."""

    def __init__(self, url: str, sender: str, tls: ssl.SSLContext | None = None, timeout: float = TIMEOUT):
        self._url, self._sender, self._tls, self._timeout = url, sender, tls, timeout

    def send(self, mail: Mail, message_id: str) -> None:
        import smtplib

        message = email_message(mail, message_id, self._checked_sender())
        try:
            with self._connected(self._server()) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            [(code, answer)] = refused.recipients.values()  # a mail has one recipient
            raise refusal(code, answer, final_if_5xx=True) from None
        except smtplib.SMTPDataError as refused:
            raise refusal(refused.smtp_code, refused.smtp_error, final_if_5xx=True) from None
        except smtplib.SMTPResponseException as refused:  # our sender address or login refused, a 4xx
            raise refusal(refused.smtp_code, refused.smtp_error, final_if_5xx=False) from None
        except (smtplib.SMTPException, OSError) as error:  # no connection, a timeout, TLS, a dropped line
            raise MailNotSent(False, f"{type(error).__name__}: {error}"[:MAX_REASON]) from None

    def _server(self) -> SmtpServer:
        if not self._url:
            raise MailNotSent(False, "SMTP_URL is not set")
        try:
            return smtp_server(self._url)
        except ValueError as error:
            raise MailNotSent(False, str(error)) from None

    def _checked_sender(self) -> str:
        if not self._sender:
            raise MailNotSent(False, "MAIL_FROM is not set")
        return self._sender

    def _connected(self, server: SmtpServer) -> smtplib.SMTP:
        """Connected, encrypted as the URL demands, logged in."""
        import smtplib
        import ssl

        tls = self._tls or ssl.create_default_context()
        if server.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=self._timeout, context=tls)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self._timeout)
        try:
            if not server.implicit_tls:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=tls)
                    smtp.ehlo()
                elif server.starttls_required:
                    raise MailNotSent(False, f"{server.host} does not offer STARTTLS; nothing is sent in the clear")
            if server.username is not None:
                smtp.login(server.username, server.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def refusal(code: int, answer: bytes | str, final_if_5xx: bool) -> MailNotSent:
    """What the server answered: final if it refused the recipient or the message with a 5xx."""
    text = answer.decode(errors="replace") if isinstance(answer, bytes) else answer
    return MailNotSent(final_if_5xx and 500 <= code < 600, f"{code} {text}"[:MAX_REASON])


def configured_sender() -> SmtpSender:
    config = settings()
    return SmtpSender(config.smtp_url, config.mail_from)


class MemoryMailSender:
    """`MailSender` in memory (`Backend.in_memory()`): what was sent, in order, and refusals a test lines
    up for the next sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[Mail, str]] = []  # (mail, Message-ID)
        self.refusals: list[Exception] = []  # raised by the next sends, in order (MailNotSent, or a fault)
        self._lock = threading.Lock()

    def send(self, mail: Mail, message_id: str) -> None:
        with self._lock:
            if self.refusals:
                raise self.refusals.pop(0)
            self.sent.append((mail, message_id))
