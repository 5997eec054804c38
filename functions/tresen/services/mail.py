"""Sending the outbox's mail: each due mail claimed, sent once, and marked sent, retried later or given up.

A use case enqueues a mail in its own commit (`Writes.mail`), so the mail exists exactly when what it
tells of does. Delivery then runs apart from any request: on a thread right after such a commit, and
as a job every minute, the backstop for whatever that thread did not finish (a crash, a mail server
that was down).

A deliverer claims a mail before sending it: a guarded change to `sending` with a lease of two
minutes. Of two deliverers that read the same mail, one claim succeeds; the other skips it. A mail
whose deliverer died with the lease is due again when the lease ends. One window remains: the mail
server accepted the mail and the deliverer died before marking it sent. Then it is sent again, with
the same Message-ID, by which a receiver recognises it (docs/architecture.md, "The mail outbox").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from ..domain.mail import message_id, next_attempt
from .mail_ports import DueMail, MailNotSent, MailUnitOfWork, Version

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)  # far beyond one mail's SMTP exchange (each step times out after 10 s)
BATCH = 10  # mails read at once: each may hold up to 800 KB


@dataclass
class MailDelivery:
    """What one delivery run did."""

    sent: int = 0
    retrying: int = 0  # not taken by the mail server this time; tried again later
    failed: int = 0  # refused for good, or the retries are over
    taken: int = 0  # claimed first by another deliverer

    def add(self, other: MailDelivery) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.taken += other.taken

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.taken


def deliver_due_mail(uow: MailUnitOfWork, limit: int = BATCH) -> MailDelivery:
    """Send up to `limit` of the mails due now."""
    delivery = MailDelivery()
    for due in uow.mail_outbox.due(uow.now(), limit):
        delivery.count(deliver(uow, due))
    return delivery


def deliver_all_due_mail(uow: MailUnitOfWork) -> MailDelivery:
    """Send every mail due now, a batch at a time (a mail retried is due again only later)."""
    delivery = MailDelivery()
    while True:
        batch = deliver_due_mail(uow)
        delivery.add(batch)
        if batch.handled < BATCH:
            return delivery


def deliver(uow: MailUnitOfWork, due: DueMail) -> str:
    """Claim, send and mark one mail: which count of `MailDelivery` it adds to."""
    mail, outbox = due.mail, uow.mail_outbox
    claimed = outbox.claim(due, uow.now() + LEASE)
    if claimed is None:
        return "taken"
    try:
        uow.mail_sender.send(mail, message_id(mail.id))
    except MailNotSent as refused:
        return not_sent(uow, due, claimed, refused)
    except Exception as error:  # a fault of ours, not the mail server's: tried again like any other
        log.exception("mail %s: sending failed", mail.id)
        return not_sent(uow, due, claimed, MailNotSent(False, repr(error)))
    if not outbox.mark_sent(mail.id, claimed, uow.now(), message_id(mail.id)):
        log.warning("mail %s: sent after its lease ran out; another deliverer may send it again", mail.id)
    return "sent"


def not_sent(uow: MailUnitOfWork, due: DueMail, claimed: Version, refused: MailNotSent) -> str:
    attempts, now = due.attempts + 1, uow.now()
    retry_at = None if refused.permanent else next_attempt(attempts, now)
    if retry_at is None:
        # the alert in docs/operations.md counts these lines; the recipient's address stays out of logs
        log.error("MAIL NOT SENT %s after %d attempts: %s", due.mail.id, attempts, refused.reason)
        marked = uow.mail_outbox.mark_failed(due.mail.id, claimed, attempts, now, refused.reason)
        outcome = "failed"
    else:
        log.warning("mail %s: attempt %d failed (%s); next at %s", due.mail.id, attempts, refused.reason, retry_at)
        marked = uow.mail_outbox.mark_retry(due.mail.id, claimed, attempts, retry_at, refused.reason)
        outcome = "retrying"
    if not marked:
        log.warning("mail %s: its lease ran out while it was being sent; another deliverer has it", due.mail.id)
    return outcome
