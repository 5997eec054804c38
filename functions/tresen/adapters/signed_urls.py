"""Download links to archived objects: Cloud Storage V4 signed URLs, made by google-cloud-storage's
own signing, so a client downloads a statement's files straight from the bucket for 15 minutes
without any credential of ours.

- Production: no key file exists. The function's service account signs through IAM
  (`iamcredentials…:signBlob`, which the library calls when given the account's e-mail and an
  access token); the account needs `roles/iam.serviceAccountTokenCreator` on itself (infra/).
- Dev and tests: a throwaway RSA key of a made-up service account signs, and the URL points at the
  storage emulator, which serves the object (it does not check the signature; the URL's form and
  expiry are the library's, exactly as in production).
"""

from __future__ import annotations

import os
from datetime import timedelta
from threading import Lock
from typing import Any

from .archive_bucket import bucket
from .lazy import once

DOWNLOAD_VALIDITY = timedelta(minutes=15)
DEV_ACCOUNT = "tresen-dev@tresen-dev.iam.gserviceaccount.com"


def signed_url(object_name: str, filename: str, validity: timedelta = DOWNLOAD_VALIDITY) -> str:
    """A GET link to `object_name` valid for `validity`, downloading as `filename`."""
    return (
        bucket()
        .blob(object_name)
        .generate_signed_url(
            version="v4",
            expiration=validity,
            method="GET",
            response_disposition=f'attachment; filename="{filename}"',
            **signing_arguments(),
        )
    )


def signing_arguments() -> dict[str, Any]:
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator:
        return {"credentials": dev_credentials(), "api_access_endpoint": emulator}
    return iam_signing()


@once
def dev_credentials():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return service_account.Credentials.from_service_account_info(
        {
            "type": "service_account",
            "client_email": DEV_ACCOUNT,
            "private_key": pem.decode(),
            "token_uri": "https://oauth2.googleapis.com/token",
            "project_id": "tresen-dev",
        }
    )


_refresh = Lock()


def iam_signing() -> dict[str, Any]:
    """The runtime's own account signs through IAM signBlob: the library needs its e-mail and a
    fresh access token (a Cloud Run function's metadata server gives both)."""
    from google.auth.transport.requests import Request

    credentials = runtime_credentials()
    with _refresh:
        if not credentials.valid:
            credentials.refresh(Request())
    return {"service_account_email": credentials.service_account_email, "access_token": credentials.token}


@once
def runtime_credentials():
    import google.auth

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    return credentials
