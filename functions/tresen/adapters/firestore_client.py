"""One Firestore client per process, created on first use (keeps cold start cheap)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..config import settings

if TYPE_CHECKING:
    from google.cloud.firestore import Client

_lock = threading.Lock()
_client: Client | None = None


def db() -> Client:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                from google.cloud import firestore

                _client = firestore.Client(project=settings().project)
    return _client
