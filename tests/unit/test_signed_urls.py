"""Signed download URLs as production makes them: no key file, the runtime's service account signs
through IAM signBlob. google-cloud-storage's own request to iamcredentials is answered here by a
fake that signs with an RSA key, so the test sees the library's real request and checks the URL's
signature over the library's own string-to-sign."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from tresen.adapters import signed_urls

ACCOUNT = "tresen-api@tresen-prod.iam.gserviceaccount.com"


class RuntimeCredentials:
    """What a Cloud Run function's metadata server gives: its account and a fresh token."""

    valid, token, service_account_email = True, "ya29.runtime-token", ACCOUNT


class FakeIam:
    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.requests: list[dict] = []

    def __call__(self):  # google.auth.transport.requests.Request()
        return self.respond

    def respond(self, url, method, body, headers):
        self.requests.append({"url": url, "method": method, "body": json.loads(body), "headers": headers})
        signed = self.key.sign(base64.b64decode(json.loads(body)["payload"]), padding.PKCS1v15(), hashes.SHA256())
        answer = json.dumps({"keyId": "k1", "signedBlob": base64.b64encode(signed).decode()}).encode()
        return type("Response", (), {"status": 200, "data": answer})()


@pytest.fixture
def iam(monkeypatch):
    from google.cloud.storage import _signing

    fake = FakeIam()
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setattr(_signing.requests, "Request", fake)
    monkeypatch.setattr(signed_urls, "runtime_credentials", lambda: RuntimeCredentials())
    client = storage.Client(project="tresen-prod", credentials=AnonymousCredentials())
    monkeypatch.setattr(signed_urls, "bucket", lambda: client.bucket("tresen-archive-prod"))
    return fake


def test_production_signs_through_iam_sign_blob_with_the_runtime_account(iam):
    url = signed_urls.signed_url("statements/cafe/stm_1/a.pdf", "a.pdf")

    [request] = iam.requests
    assert request["method"] == "POST"
    assert request["url"] == (
        f"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{ACCOUNT}:signBlob?alt=json"
    )
    assert request["headers"]["Authorization"] == "Bearer ya29.runtime-token"
    string_to_sign = base64.b64decode(request["body"]["payload"]).decode()
    algorithm, _, scope, canonical_hash = string_to_sign.split("\n")
    assert (algorithm, scope.split("/", 1)[1]) == ("GOOG4-RSA-SHA256", "auto/storage/goog4_request")

    parsed = urlparse(url)
    query = {name: values[0] for name, values in parse_qs(parsed.query).items()}
    assert (parsed.netloc, parsed.path) == (
        "storage.googleapis.com",
        "/tresen-archive-prod/statements/cafe/stm_1/a.pdf",
    )
    assert query["X-Goog-Credential"].startswith(f"{ACCOUNT}/")
    assert (query["X-Goog-Expires"], query["response-content-disposition"]) == ("900", 'attachment; filename="a.pdf"')
    signature = bytes.fromhex(query["X-Goog-Signature"])
    iam.key.public_key().verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert len(canonical_hash) == len(hashlib.sha256().hexdigest())


def test_dev_signs_with_a_local_key_and_points_at_the_emulator(monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443")
    client = storage.Client(project="tresen-dev", credentials=AnonymousCredentials())
    monkeypatch.setattr(signed_urls, "bucket", lambda: client.bucket("tresen-archive-dev"))
    url = urlparse(signed_urls.signed_url("statements/cafe/stm_1/a.json", "a.json"))
    assert (url.scheme, url.netloc, url.path) == (
        "http",
        "127.0.0.1:4443",
        "/tresen-archive-dev/statements/cafe/stm_1/a.json",
    )
    assert parse_qs(url.query)["X-Goog-Credential"][0].startswith(f"{signed_urls.DEV_ACCOUNT}/")
