"""What the dev mode's SMTP sink received (standins/smtp_sink.py), in the document store: `dev_mail/{id}`,
the mail with each attachment's name, type, size and SHA-256, and the attachments' bytes apart in
`contents` (so the list reads none of them). Created once per id: a mail delivered twice (the same
Message-ID) is kept once, as a receiver drops a duplicate."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ..services.documents import Conflict, Documents
from ..services.mail_ports import ReceivedAttachment, ReceivedMail
from .repository import as_aware

if TYPE_CHECKING:  # only `tresen dev` runs the sink
    from ..standins.smtp_sink import ReceivedMessage

DEV_MAIL = "dev_mail"
LISTED_FIELDS = ("id", "to", "subject", "text", "html", "attachments", "sent_at")


def dev_mail_path(mail_id: str) -> str:
    return f"{DEV_MAIL}/{mail_id}"


def received_mail(doc: dict[str, Any]) -> ReceivedMail:
    return ReceivedMail(
        id=doc["id"],
        to=doc["to"],
        subject=doc["subject"],
        text=doc["text"],
        html=doc["html"],
        attachments=tuple(ReceivedAttachment(**attachment) for attachment in doc["attachments"]),
        sent_at=as_aware(doc["sent_at"]),
    )


class DocumentDevMailbox:
    """services/mail_ports.py `DevMailbox`, and where the sink's callback keeps each message."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def keep(self, message: ReceivedMessage) -> None:
        attachments = [
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": len(attachment.content),
                "sha256": hashlib.sha256(attachment.content).hexdigest(),
            }
            for attachment in message.attachments
        ]
        batch = self._docs.batch()
        batch.create(
            dev_mail_path(message.id),
            {
                "id": message.id,
                "to": message.to,
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
                "attachments": attachments,
                "contents": [attachment.content for attachment in message.attachments],
                "sent_at": message.sent_at,
            },
        )
        try:
            batch.commit()
        except Conflict:
            pass  # delivered before: kept as it came the first time

    def newest_first(self, limit: int) -> list[ReceivedMail]:
        found = self._docs.query(DEV_MAIL, order_by=[("sent_at", True)], limit=limit, fields=LISTED_FIELDS)
        return [received_mail(doc.data) for doc in found]

    def attachment(self, mail_id: str, filename: str) -> tuple[str, bytes] | None:
        found = self._docs.get(dev_mail_path(mail_id))
        if found is None:
            return None
        listed = found.data["attachments"]
        index = next((n for n, attachment in enumerate(listed) if attachment["filename"] == filename), None)
        return None if index is None else (listed[index]["content_type"], found.data["contents"][index])
