"""Fixed-window rate limits counted in the document store, so they hold across every instance.

Each hit is one server-side increment (no read, no transaction: nothing to contend on); the
commit answers with the counter's new value. Window documents carry an `expires_at` for
Firestore's TTL clean-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from ..services.card_ports import Limit
from ..services.documents import Documents
from .giftcard_store import keyed_hash


class DocumentRateLimits:
    """services/card_ports.py `RateLimits`."""

    def __init__(self, docs: Documents):
        self.docs = docs

    def hit(self, counted: Sequence[tuple[Limit, str]], now: datetime) -> int | None:
        batch, window_ends = self.docs.batch(), []
        for limit, key in counted:
            seconds = limit.window.total_seconds()
            start = math.floor(now.timestamp() / seconds) * seconds
            window_end = datetime.fromtimestamp(start + seconds, UTC)
            window_ends.append(window_end)
            # a keyed hash: neither addresses (personal data) nor codes are stored in the clear
            path = f"rate_limits/{limit.name}:{keyed_hash(key)[:32]}:{int(start)}"
            batch.increment(path, "count", 1, {"expires_at": window_end + limit.window})
        counts = batch.commit()
        waits = [
            max(1, math.ceil((window_end - now).total_seconds()))
            for (limit, _), window_end, count in zip(counted, window_ends, counts, strict=True)
            if count > limit.allowed
        ]
        return max(waits, default=None)
