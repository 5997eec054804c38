"""The mail the dev mode's SMTP sink received (`tresen dev`): the list, newest first, and one attachment.
Served in dev mode only; production answers as for a path that does not exist."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from werkzeug.wrappers import Response

from ..config import settings
from ..domain.mail import ATTACHMENT_NAME
from ..services.mail_ports import DevMailbox, ReceivedMail
from . import models as m
from .problems import ApiProblem
from .router import PATH_GRAMMAR, Call, route

# An attachment is named by its file name, which may hold dots and spaces: not an id.
PATH_GRAMMAR["filename"] = ATTACHMENT_NAME
LISTED = 100  # the newest; the sink keeps them all


class DevAttachmentOut(m.Model):
    filename: str
    content_type: str
    size: int = Field(description="bytes")
    sha256: str = Field(description="of its bytes, hex")


class DevMailOut(m.Model):
    id: str = Field(description="the Message-ID's left part: the outbox's id of a mail Tresen sent")
    to: str
    subject: str
    text: str
    html: str | None = Field(description="null when the mail has no html part")
    attachments: list[DevAttachmentOut]
    sent_at: datetime = Field(description="when the sink received it")


class DevMailList(m.Model):
    data: list[DevMailOut] = Field(description=f"the newest {LISTED}, newest first")


def dev_mailbox(call: Call) -> DevMailbox:
    if not settings().dev:
        raise ApiProblem("not_found", f"No endpoint at {call.request.path}.")
    return call.uow.dev_mail


def mail_out(mail: ReceivedMail) -> DevMailOut:
    return DevMailOut(
        id=mail.id,
        to=mail.to,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        attachments=[DevAttachmentOut(**vars(attachment)) for attachment in mail.attachments],
        sent_at=mail.sent_at,
    )


@route(
    "GET",
    "/v1/dev/mail",
    summary="The e-mails the local SMTP sink received, newest first (dev mode only)",
    tag="dev",
    response=DevMailList,
    errors=("not_found",),
)
def dev_mail_list(call: Call):
    return DevMailList(data=[mail_out(mail) for mail in dev_mailbox(call).newest_first(LISTED)])


@route(
    "GET",
    "/v1/dev/mail/{id}/attachments/{filename}",
    summary="One attachment of an e-mail the local SMTP sink received, as sent (dev mode only)",
    tag="dev",
    media_type="*/*",
    errors=("not_found",),
)
def dev_mail_attachment(call: Call):
    found = dev_mailbox(call).attachment(call.params["id"], call.params["filename"])
    if found is None:
        raise ApiProblem("not_found", "No such attachment.")
    content_type, content = found
    # a download, never a page of this origin (an html attachment is anybody's html)
    headers = {"Content-Disposition": "attachment", "Cache-Control": "no-store"}
    return Response(content, content_type=content_type, headers=headers)
