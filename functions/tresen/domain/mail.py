"""E-mails Tresen sends, and when one that could not be sent is tried again (no I/O).

A mail is kept whole in one outbox document until it is sent, so it is refused here when it would not
fit one (Firestore holds 1 MiB a document; the rest is left for the outbox's own fields).

The retry schedule: after the first to the sixth failed attempt the next one comes 30 s, 2 min,
10 min, 30 min, 2 h and 6 h later, then every 6 h while the delays add up to at most 3 days — 17
attempts in all, the last one 68 h 42 min 30 s after the first. After that the mail is `failed`:
kept, never sent, and shown to an operator (docs/operations.md, "E-mail").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from .customer_fields import EMAIL
from .ids import is_id

MAX_MAIL_BYTES = 800 * 1024  # text, html and attachments together
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
LATER_DELAY = timedelta(hours=6)  # after the delays above, until the schedule's end
SCHEDULE_SPAN = timedelta(days=3)
# A header holds one line; a control character in one could start another header.
HEADER_TEXT = re.compile(r"[^\x00-\x1f\x7f]{1,998}")
# What an attachment may be named: no path, no control character, not hidden (no leading dot).
ATTACHMENT_NAME = re.compile(r"[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,254}")
MEDIA_TYPE = re.compile(r"[a-z0-9.+-]+/[a-z0-9.+-]+")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. application/pdf
    content: bytes


@dataclass(frozen=True)
class Mail:
    """One e-mail to one recipient. Its id names it in the outbox and in its Message-ID, so a receiver
    can tell a second delivery of it from a new mail."""

    id: str
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        if not is_id(self.id):
            raise ValueError(f"a mail id is a letter or digit and up to 127 of [A-Za-z0-9_-], not {self.id!r}")
        if not EMAIL.fullmatch(self.to):
            raise ValueError("the recipient is not an e-mail address")
        if not HEADER_TEXT.fullmatch(self.subject):
            raise ValueError("a subject is one line of 1-998 characters")
        names = [attachment.filename for attachment in self.attachments]
        for attachment in self.attachments:
            if not ATTACHMENT_NAME.fullmatch(attachment.filename):
                raise ValueError(f"an attachment's name has no path or control character: {attachment.filename!r}")
            if not MEDIA_TYPE.fullmatch(attachment.content_type):
                raise ValueError(f"not a media type: {attachment.content_type!r}")
        if len(set(names)) != len(names):
            raise ValueError("two attachments of one mail have the same name")
        if self.size > MAX_MAIL_BYTES:
            raise ValueError(f"a mail holds at most {MAX_MAIL_BYTES} bytes of text and attachments, not {self.size}")

    @property
    def size(self) -> int:
        """Bytes of text, html and attachments: what the outbox document keeps of it."""
        texts = self.text.encode() + (self.html or "").encode()
        return len(texts) + sum(len(attachment.content) for attachment in self.attachments)


def message_id(mail_id: str) -> str:
    """The Message-ID header of the mail: the same on every attempt."""
    return f"<{mail_id}@tresen>"


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts (the latest just now); None when the schedule
    is over and the mail is given up."""
    if attempts < 1:
        return now  # nothing failed yet: the first attempt is due at once
    delays = RETRY_DELAYS[:attempts] + (LATER_DELAY,) * max(0, attempts - len(RETRY_DELAYS))
    if sum(delays, timedelta()) > SCHEDULE_SPAN:
        return None
    return now + delays[-1]
