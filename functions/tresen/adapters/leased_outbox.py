"""An outbox whose records deliverers take turns at, in the document store: the mail outbox's mails
(adapters/mail_outbox.py) and the webhooks' deliveries (adapters/webhook_store.py) are kept so.

A record is due at its `next_attempt_at` (null once it is done, so "due" is one range query on that
field). A deliverer takes it with a lease: a change, guarded by the version it read, to `sending`
with `next_attempt_at` at the lease's end, so that of two deliverers that read it only one takes
it, and one that dies with it leaves it due again when the lease ends. Every later change is
guarded by the version the lease left: a deliverer whose lease ran out and was taken over changes
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..services.documents import Conflict, Doc, Documents, Filter

Version = Any
Change = tuple[str, Version, Mapping[str, Any]]  # (record id, the version read, the fields changed)


class LeasedOutbox:
    def __init__(self, docs: Documents, collection: str):
        self._docs, self.collection = docs, collection

    def path(self, record_id: str) -> str:
        return f"{self.collection}/{record_id}"

    def due(self, now: datetime, limit: int, where: Sequence[Filter] = ()) -> list[Doc]:
        """Records due by `now` (their lease ended, for those being sent), the longest due first."""
        return self._docs.query(
            self.collection,
            where=[*where, ("next_attempt_at", "<=", now)],
            order_by=[("next_attempt_at", False)],
            limit=limit,
        )

    def claim(self, record_id: str, version: Version, lease_until: datetime) -> Version | None:
        """Held until `lease_until` if still as read: the new version; None if another deliverer took it."""
        return self.change(record_id, version, leased(lease_until))

    def claim_all(self, held: Sequence[tuple[str, Version]], lease_until: datetime) -> list[Version | None]:
        return self.change_all([(record_id, version, leased(lease_until)) for record_id, version in held])

    def change(self, record_id: str, version: Version, fields: Mapping[str, Any]) -> Version | None:
        """The fields changed if the record is still `version`: its new version, else None."""
        batch = self._docs.batch()
        batch.update(self.path(record_id), fields, version)
        try:
            [changed] = batch.commit()
        except Conflict:
            return None
        return changed

    def change_all(self, changes: Sequence[Change]) -> list[Version | None]:
        """Each change as `change` makes it: in one commit while none conflicts (the usual case), one
        by one when another deliverer took some of them."""
        batch = self._docs.batch()
        for record_id, version, fields in changes:
            batch.update(self.path(record_id), fields, version)
        try:
            return batch.commit() if changes else []
        except Conflict:
            return [self.change(record_id, version, fields) for record_id, version, fields in changes]


def leased(lease_until: datetime) -> dict[str, Any]:
    return {"status": "sending", "next_attempt_at": lease_until}
