"""The archive bucket in Cloud Storage (one client per process), and how long a call to it may take.

The archive (archive.py) writes and reads journal entries and checkpoints in it; download links to
its objects (signed_urls.py) are signed for it."""

from __future__ import annotations

from typing import Any

from ..config import settings
from .lazy import once

# Archive writes run in the background: a slow bucket may take its time, but not forever (the
# sweeper retries). A lookup on the request path gets a few seconds at most.
BACKGROUND = (10.0, 30.0)  # seconds: one attempt, all attempts
LOOKUP = (2.0, 4.0)
# Objects downloaded at once when a store is read back (`tresen verify`), each by a thread of its
# own: the client's HTTP session keeps as many connections. With fewer (requests keeps 10 per
# host), a thread beyond them opens one, uses it once and throws it away, and urllib3 warns each
# time ("Connection pool is full, discarding connection") among verify's findings.
CONNECTIONS = 16


@once
def bucket():
    from google.cloud import storage
    from requests.adapters import HTTPAdapter

    client = storage.Client(project=settings().project)
    pooled = HTTPAdapter(pool_maxsize=CONNECTIONS)
    for scheme in ("https://", "http://"):  # http: the storage emulator of the dev stack and the tests
        client._http.mount(scheme, pooled)  # the session the client sends every request through
    return client.bucket(settings().archive_bucket)


def bounded(deadline: tuple[float, float]) -> dict[str, Any]:
    from google.cloud.storage.retry import DEFAULT_RETRY

    attempt, total = deadline
    return {"timeout": attempt, "retry": DEFAULT_RETRY.with_timeout(total)}
