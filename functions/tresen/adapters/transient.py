"""Which failures are worth a retry: the caller gets 503 with Retry-After instead of 500."""

from __future__ import annotations

from ..services.unit_of_work import RetryLater, StoreBusy


def is_transient(error: Exception) -> bool:
    from google.api_core import exceptions as gcp

    retryable = (
        StoreBusy,
        RetryLater,
        ConnectionError,
        TimeoutError,
        gcp.ServiceUnavailable,
        gcp.DeadlineExceeded,
        gcp.Aborted,
        gcp.InternalServerError,
        gcp.TooManyRequests,
        gcp.RetryError,  # a call's bounded retries ran out (adapters/firestore_client.py)
    )
    return isinstance(error, retryable)
