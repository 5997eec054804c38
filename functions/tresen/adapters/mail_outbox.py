"""The mail outbox in the document store: `mail_outbox/{id}`, one document per e-mail holding all of it
(attachments as bytes), created in the commit of the use case that sends it (adapters/records.py), and
changed only under the version its deliverer read (services/mail_ports.py `MailOutbox`), as every
leased outbox is (adapters/leased_outbox.py).

`next_attempt_at` is when a deliverer is to take the mail next: its creation, its next retry, or the
end of the lease of the deliverer sending it; null once it is sent or failed. And the `Courier`
sends due mail on a thread of its own right after a commit enqueued some, so a mail goes out within
seconds without waiting for the job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..services.documents import Doc, Documents
from ..services.mail_ports import DueMail, Version
from . import clock
from .leased_outbox import LeasedOutbox

if TYPE_CHECKING:  # the mail types are loaded where a mail is read, not by every cold start
    from ..domain.mail import Mail

log = logging.getLogger(__name__)
OUTBOX = "mail_outbox"


def mail_path(mail_id: str) -> str:
    return f"{OUTBOX}/{mail_id}"


def new_mail_doc(mail: Mail) -> dict[str, Any]:
    """The outbox document of a mail just enqueued: due at once."""
    created_at = clock.now()
    return {
        "id": mail.id,
        "to": mail.to,
        "subject": mail.subject,
        "text": mail.text,
        "html": mail.html,
        "attachments": [vars(attachment) for attachment in mail.attachments],
        "status": "pending",
        "attempts": 0,
        "created_at": created_at,
        "next_attempt_at": created_at,
        "last_error": None,
        "sent_at": None,
        "message_id": None,
    }


def mail_from_doc(doc: Mapping[str, Any]) -> Mail:
    from ..domain.mail import Attachment, Mail

    return Mail(
        id=doc["id"],
        to=doc["to"],
        subject=doc["subject"],
        text=doc["text"],
        html=doc["html"],
        attachments=tuple(Attachment(**attachment) for attachment in doc["attachments"]),
    )


def due_mail(doc: Doc) -> DueMail:
    return DueMail(mail_from_doc(doc.data), doc.data["attempts"], doc.version)


class DocumentMailOutbox:
    """services/mail_ports.py `MailOutbox`."""

    def __init__(self, docs: Documents):
        self._outbox = LeasedOutbox(docs, OUTBOX)

    def due(self, now: datetime, limit: int) -> list[DueMail]:
        return [due_mail(doc) for doc in self._outbox.due(now, limit)]

    def claim(self, due: DueMail, lease_until: datetime) -> Version | None:
        return self._outbox.claim(due.mail.id, due.version, lease_until)

    def mark_sent(self, mail_id: str, claimed: Version, sent_at: datetime, message_id: str) -> bool:
        done = {"status": "sent", "next_attempt_at": None, "sent_at": sent_at, "message_id": message_id}
        return self._outbox.change(mail_id, claimed, done) is not None

    def mark_retry(self, mail_id: str, claimed: Version, attempts: int, at: datetime, error: str) -> bool:
        retry = {"status": "pending", "attempts": attempts, "next_attempt_at": at, "last_error": error}
        return self._outbox.change(mail_id, claimed, retry) is not None

    def mark_failed(self, mail_id: str, claimed: Version, attempts: int, failed_at: datetime, error: str) -> bool:
        given_up = {
            "status": "failed",
            "attempts": attempts,
            "next_attempt_at": None,
            "last_error": error,
            "failed_at": failed_at,
        }
        return self._outbox.change(mail_id, claimed, given_up) is not None


class Courier:
    """Runs `deliver` on a thread of its own when asked to (`kick`): one run at a time per process, and
    one more after it when kicked meanwhile, so no commit's mail waits for the job. (The webhooks'
    dispatcher runs one per store: adapters/webhook_courier.py.)"""

    def __init__(self, deliver: Callable[[], Any], what: str = "mail"):
        self._deliver, self._what = deliver, what
        self._idle = threading.Condition()
        self._running = self._again = False

    def kick(self) -> None:
        with self._idle:
            if self._running:
                self._again = True
                return
            self._running = True
        threading.Thread(target=self._run, name=f"{self._what}-courier", daemon=True).start()

    def drain(self) -> None:
        """Wait until no run is under way (the tests)."""
        with self._idle:
            self._idle.wait_for(lambda: not self._running)

    def _run(self) -> None:
        while True:
            try:
                self._deliver()
            except Exception:  # what is not sent stays in the outbox for the next run or the job
                log.exception("%s delivery failed", self._what)
            with self._idle:
                if not self._again:
                    self._running = False
                    self._idle.notify_all()
                    return
                self._again = False
