"""Which failures are worth a retry: the caller gets 503 with Retry-After instead of 500."""

from __future__ import annotations

from .store_writer import StoreBusy


def is_transient(error: Exception) -> bool:
    from google.api_core import exceptions as gcp

    retryable = (
        StoreBusy,
        ConnectionError,
        TimeoutError,
        gcp.ServiceUnavailable,
        gcp.DeadlineExceeded,
        gcp.Aborted,
        gcp.InternalServerError,
        gcp.TooManyRequests,
    )
    return isinstance(error, retryable)
