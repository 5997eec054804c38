"""Cloud KMS's side for an Ed25519 key version, played over HTTP on 127.0.0.1: no network, no Google.

The real `KeyManagementServiceClient` talks to it through its REST transport, so requests and
responses go through the library's own transcoding and JSON parsing. It answers the two calls a
signer makes as the REST API does (cloud.google.com/kms/docs/reference/rest):

- `GET /v1/{name}/publicKey` → PublicKey: `pem`, `pemCrc32c`, `algorithm`, `name`, `protectionLevel`
- `POST /v1/{name}:asymmetricSign` with `data` and `dataCrc32c` → `signature`, `signatureCrc32c`,
  `verifiedDataCrc32c`, `name`, `protectionLevel`; a `dataCrc32c` that does not match the data is
  refused with 400 INVALID_ARGUMENT, and an unknown key version is 404 NOT_FOUND.

JSON field names are camelCase, bytes are base64, int64 values are strings, and enums are names
unless the client asks for `enum-encoding=int` (the Python client does). Signatures are real Ed25519
signatures by a key made per instance. Each request is recorded in `requests`; `public_key_overrides`
and `sign_overrides` replace fields of the responses (None leaves the field out), to play corruption
in transit, and `refusal` answers every call with that HTTP status and RPC code.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import google_crc32c
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

VERSION = "projects/demo-tresen/locations/europe-west3/keyRings/tresen/cryptoKeys/journal/cryptoKeyVersions/1"
# CryptoKeyVersionAlgorithm and ProtectionLevel values, by name and number (google/cloud/kms/v1/resources.proto)
ALGORITHMS = {"EC_SIGN_ED25519": 40, "EC_SIGN_P256_SHA256": 12}
HSM = ("HSM", 2)


class FakeKms:
    def __init__(self, version_name: str = VERSION):
        self.version_name = version_name
        self.private_key = Ed25519PrivateKey.generate()
        self.public_key = self.private_key.public_key().public_bytes_raw()
        self.algorithm = "EC_SIGN_ED25519"
        self.requests: list[dict[str, Any]] = []
        self.public_key_overrides: dict[str, Any] = {}
        self.sign_overrides: dict[str, Any] = {}
        self.refusal: tuple[int, str] | None = None  # e.g. (403, "PERMISSION_DENIED")
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def client(self):
        """The real client library, on its REST transport, pointed at this fake."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import kms

        return kms.KeyManagementServiceClient(
            credentials=AnonymousCredentials(), transport="rest", client_options={"api_endpoint": self.url}
        )

    # -- the API -----------------------------------------------------------------------------------

    def _handle(self, http: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(http.path)
        path, query = unquote(url.path), parse_qs(url.query)
        length = int(http.headers.get("Content-Length") or 0)
        body = json.loads(http.rfile.read(length) or b"{}") if method == "POST" else None
        self.requests.append({"method": method, "path": path, "query": query, "body": body})
        enums_as_numbers = any("enum-encoding=int" in value for value in query.get("$alt", []))

        if self.refusal is not None:
            return _error(http, *self.refusal, "refused by the test")

        def enum(name: str, number: int) -> str | int:
            return number if enums_as_numbers else name

        if method == "GET" and path == f"/v1/{self.version_name}/publicKey":
            pem = self.private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
            answer = {
                "pem": pem,
                "algorithm": enum(self.algorithm, ALGORITHMS[self.algorithm]),
                "pemCrc32c": str(google_crc32c.value(pem.encode())),
                "name": self.version_name,
                "protectionLevel": enum(*HSM),
                **self.public_key_overrides,
            }
            return _reply(http, 200, answer)
        if method == "POST" and path == f"/v1/{self.version_name}:asymmetricSign":
            if "digest" in body or "data" not in body:
                return _error(http, 400, "INVALID_ARGUMENT", "EC_SIGN_ED25519 keys sign data, not a digest")
            data = base64.b64decode(body["data"])
            checked = "dataCrc32c" in body
            if checked and int(body["dataCrc32c"]) != google_crc32c.value(data):
                return _error(http, 400, "INVALID_ARGUMENT", "The checksum in field data_crc32c did not match")
            signature = self.private_key.sign(data)
            answer = {
                "signature": base64.b64encode(signature).decode(),
                "signatureCrc32c": str(google_crc32c.value(signature)),
                "verifiedDataCrc32c": checked,
                "name": self.version_name,
                "protectionLevel": enum(*HSM),
                **self.sign_overrides,
            }
            return _reply(http, 200, answer)
        return _error(http, 404, "NOT_FOUND", f"{method} {path} not found")


def _reply(http: BaseHTTPRequestHandler, status: int, answer: dict[str, Any]) -> None:
    payload = json.dumps({field: value for field, value in answer.items() if value is not None}).encode()
    http.send_response(status)
    http.send_header("Content-Type", "application/json; charset=UTF-8")
    http.send_header("Content-Length", str(len(payload)))
    http.end_headers()
    http.wfile.write(payload)


def _error(http: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
    _reply(http, status, {"error": {"code": status, "message": message, "status": code}})
