"""A mail server that delivers nothing: it takes every message on 127.0.0.1 and hands it, parsed into
plain data, to whoever started it. `tresen dev` keeps them for `GET /v1/dev/mail`; the tests read them.
Imports nothing of Tresen; aiosmtpd (the `dev` extra, never deployed) is imported when a sink starts.

Given a TLS context it offers STARTTLS and takes no message without it (as a submission server does),
or with `implicit_tls` speaks TLS from the first byte (smtps).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

# a Message-ID whose left part can name the message (ours are `<mail_…@tresen>`)
MESSAGE_ID = re.compile(r"\s*<([A-Za-z0-9][A-Za-z0-9_-]{0,127})@[^<>\s]+>\s*")


@dataclass(frozen=True)
class ReceivedAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ReceivedMessage:
    id: str  # the Message-ID's left part, or a new id when it has none that could serve
    to: str  # the To header (the envelope's recipients without one)
    subject: str
    text: str
    html: str | None
    attachments: tuple[ReceivedAttachment, ...]
    sent_at: datetime  # when the sink received it


def parse_message(raw: bytes, recipients: Sequence[str], received_at: datetime) -> ReceivedMessage:
    message: Any = BytesParser(policy=policy.default).parsebytes(raw)
    named = MESSAGE_ID.fullmatch(message.get("Message-ID", ""))
    return ReceivedMessage(
        id=named[1] if named else "m" + secrets.token_hex(10),
        to=str(message.get("To") or ", ".join(recipients)),
        subject=str(message.get("Subject", "")),
        text=body_text(message, "plain") or "",
        html=body_text(message, "html"),
        attachments=tuple(
            ReceivedAttachment(part.get_filename() or "", part.get_content_type(), part.get_payload(decode=True))
            for part in message.iter_attachments()
        ),
        sent_at=received_at,
    )


def body_text(message: EmailMessage, subtype: str) -> str | None:
    """The message's body of this text subtype, with the line ends it was written with (SMTP sends CRLF)."""
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content().replace("\r\n", "\n") if part is not None else None


class Handler:
    """aiosmtpd's handler: each message parsed and handed on before the sink answers 250, so a sender
    that got its 250 knows the message is kept."""

    def __init__(self, on_message: Callable[[ReceivedMessage], None]):
        self._on_message = on_message

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        received = parse_message(envelope.original_content or envelope.content, envelope.rcpt_tos, datetime.now(UTC))
        try:  # the receiver may block (a database): not on the sink's event loop
            await asyncio.get_running_loop().run_in_executor(None, self._on_message, received)
        except Exception as error:
            return f"451 4.3.0 the message could not be kept: {type(error).__name__}"
        return "250 2.0.0 kept"


class SmtpSink:
    """Started on 127.0.0.1 (`start()` answers the port: 0 picks a free one) until `stop()`."""

    def __init__(
        self,
        on_message: Callable[[ReceivedMessage], None],
        port: int = 0,
        tls: Any = None,  # an ssl.SSLContext with the server's certificate
        implicit_tls: bool = False,
    ):
        self._on_message, self._port, self._tls, self._implicit_tls = on_message, port, tls, implicit_tls
        self._controller: Any = None

    def start(self) -> int:
        from aiosmtpd.controller import Controller

        class FreePortController(Controller):
            def _trigger_server(self) -> None:
                self.port = self.server.sockets[0].getsockname()[1]  # the one bound, when 0 was asked for
                super()._trigger_server()

        options: dict[str, Any] = {"hostname": "127.0.0.1", "port": self._port}
        if self._tls is not None and self._implicit_tls:
            options["ssl_context"] = self._tls
        elif self._tls is not None:
            options |= {"tls_context": self._tls, "require_starttls": True}
        self._controller = FreePortController(Handler(self._on_message), **options)
        self._controller.start()
        return self._controller.port

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
