"""Fixed-window rate limits counted in Firestore, so they hold across every instance.

Each hit is one server-side increment (no read, no transaction: nothing to contend on); the
commit answers with the counter's new value. Window documents carry an `expires_at` for
Firestore's TTL clean-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Limit:
    name: str
    allowed: int
    window: timedelta


def hit(db, limit: Limit, key: str, now: datetime) -> int | None:
    """Count one request for `key`; the seconds to wait if it is over the limit, else None."""
    from google.cloud.firestore import Increment

    seconds = limit.window.total_seconds()
    start = math.floor(now.timestamp() / seconds) * seconds
    window_end = datetime.fromtimestamp(start + seconds, UTC)
    result = db.document(f"rate_limits/{limit.name}:{key}:{int(start)}").set(
        {"count": Increment(1), "expires_at": window_end + limit.window}, merge=True
    )
    count = result.transform_results[0].integer_value
    if count <= limit.allowed:
        return None
    return max(1, math.ceil((window_end - now).total_seconds()))
