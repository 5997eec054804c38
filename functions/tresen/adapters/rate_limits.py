"""Fixed-window rate limits counted in Firestore, so they hold across every instance.

Each hit is one server-side increment (no read, no transaction: nothing to contend on); the
commit answers with the counter's new value. Window documents carry an `expires_at` for
Firestore's TTL clean-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..services.documents import Documents


@dataclass(frozen=True)
class Limit:
    name: str
    allowed: int
    window: timedelta


def hit(docs: Documents, counted: list[tuple[Limit, str]], now: datetime) -> int | None:
    """Count one request against each (limit, key), all in one commit; the seconds to wait if any
    limit is exceeded (the longest wait), else None."""
    batch, window_ends = docs.batch(), []
    for limit, key in counted:
        seconds = limit.window.total_seconds()
        start = math.floor(now.timestamp() / seconds) * seconds
        window_end = datetime.fromtimestamp(start + seconds, UTC)
        window_ends.append(window_end)
        batch.increment(
            f"rate_limits/{limit.name}:{key}:{int(start)}", "count", 1, {"expires_at": window_end + limit.window}
        )
    counts = batch.commit()
    waits = [
        max(1, math.ceil((window_end - now).total_seconds()))
        for (limit, _), window_end, count in zip(counted, window_ends, counts, strict=True)
        if count > limit.allowed
    ]
    return max(waits, default=None)
