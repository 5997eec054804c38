"""What the mail use cases read and write through, as protocols: the outbox every e-mail waits in until
it is sent, the mail server that sends it (adapters/mail_outbox.py, adapters/smtp_sender.py), and in
dev mode the mailbox of the local SMTP sink (adapters/dev_mail.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from .unit_of_work import UnitOfWork

if TYPE_CHECKING:  # annotations only: not loaded by every cold start
    from ..domain.mail import Mail

Version = Any  # opaque: what a guarded write names as "the version I read"


class MailNotSent(Exception):
    """The mail server did not take the mail. `permanent`: it refused the recipient (or the message)
    for good, and trying again would not change that; otherwise it may take it later."""

    def __init__(self, permanent: bool, reason: str):
        super().__init__(reason)
        self.permanent, self.reason = permanent, reason


class MailSender(Protocol):
    def send(self, mail: Mail, message_id: str) -> None:
        """Hand the mail to the mail server under this Message-ID; raises MailNotSent."""


@dataclass(frozen=True)
class DueMail:
    """A mail of the outbox whose time to be sent has come, as read."""

    mail: Mail
    attempts: int  # failed so far
    version: Version


class MailOutbox(Protocol):
    """Every mail is `pending` until sent: `sending` while a deliverer holds it (a lease), then `sent`,
    or `pending` again with its next attempt's time, or `failed` when the retries are over. Each change
    is guarded by the version read: of two deliverers, only one changes a mail."""

    def due(self, now: datetime, limit: int) -> list[DueMail]:
        """Mails pending whose next attempt is due, and mails whose deliverer's lease ran out (it
        crashed), the longest due first."""

    def claim(self, due: DueMail, lease_until: datetime) -> Version | None:
        """`sending` until `lease_until` if still as read: the new version, or None if another
        deliverer changed it first."""

    def mark_sent(self, mail_id: str, claimed: Version, sent_at: datetime, message_id: str) -> bool:
        """False if the lease was lost (another deliverer took the mail over)."""

    def mark_retry(self, mail_id: str, claimed: Version, attempts: int, at: datetime, error: str) -> bool:
        """`pending` again, to be tried at `at`; False if the lease was lost."""

    def mark_failed(self, mail_id: str, claimed: Version, attempts: int, failed_at: datetime, error: str) -> bool:
        """Given up and kept; False if the lease was lost."""


class MailUnitOfWork(UnitOfWork, Protocol):
    """The unit of work as the mail use cases use it."""

    mail_outbox: MailOutbox
    mail_sender: MailSender


@dataclass(frozen=True)
class ReceivedAttachment:
    filename: str
    content_type: str
    size: int
    sha256: str  # hex


@dataclass(frozen=True)
class ReceivedMail:
    """A mail the dev mode's SMTP sink received, as `GET /v1/dev/mail` shows it."""

    id: str
    to: str
    subject: str
    text: str
    html: str | None
    attachments: tuple[ReceivedAttachment, ...]
    sent_at: datetime


class DevMailbox(Protocol):
    """What the local SMTP sink received (dev mode only)."""

    def newest_first(self, limit: int) -> list[ReceivedMail]: ...

    def attachment(self, mail_id: str, filename: str) -> tuple[str, bytes] | None:
        """(content type, bytes) of the mail's attachment of that name, or None."""
