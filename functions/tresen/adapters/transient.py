"""Which failures are worth a retry: the caller gets 503 with Retry-After instead of 500."""

from __future__ import annotations

from .store_writer import StoreBusy


class RetryLater(RuntimeError):
    """Nothing failed, but what was asked cannot be done yet (a provider's refund of a payment
    whose success has not reached us): 503, so the provider delivers it again later."""


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
