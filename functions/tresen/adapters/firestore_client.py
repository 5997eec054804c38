"""One Firestore client per process."""

from __future__ import annotations

from ..config import settings
from .lazy import once


@once
def db():
    from google.cloud import firestore

    return firestore.Client(project=settings().project)
