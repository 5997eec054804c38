"""fiskaly SIGN DE v2, the cloud TSE (services/tse_ports.py `TsePort`), over its HTTP API with
`requests` (fiskaly publishes no Python SDK): `{base}/api/v2/...`, a bearer token from `POST /auth`.

- The token is kept per process until a minute before it expires, shared by every request thread,
  and fetched anew once when fiskaly answers 401.
- A TSS is set up as fiskaly's life cycle asks: created (`PUT`, whose answer alone shows the admin
  PUK), `UNINITIALIZED`, its admin PIN set with the PUK, `INITIALIZED` under admin authentication.
  `ensure_tss` reads the state first and goes on from wherever an earlier, interrupted attempt
  stopped. The PUK is kept in memory until the TSS is initialized: fiskaly shows it only while the
  TSS is `CREATED`, so an attempt that stopped between leaving that state and setting the PIN can be
  resumed by this process only.
- Clients (tills) are registered under admin authentication, as fiskaly requires; one admin session
  at a time per process (fiskaly ties it to the token, which the threads share).
- A transaction is written by `tx_revision`: started at 1, finished (or canceled) at the latest
  revision + 1, read first so that a finished one is returned as it was and never signed again.
  fiskaly answers a request repeated with the same revision and body as it did the first time.
- Every call waits `timeout` seconds at most for the connection and for each read. Unreachable, a
  timeout, 5xx, 429, 499 (fiskaly's "closed early, retry") or a transaction fiskaly is still busy
  with is `TseUnavailable`: the sale goes on, marked a TSE failure. Any other refusal is
  `FiskalyError`, with fiskaly's code and message: a bug or a misconfiguration, not an outage.

Shapes checked against fiskaly's OpenAPI document of SIGN DE 2.2.2 (the operations authenticateApi,
createTss, updateTss, retrieveTss, changeAdminPin, authenticateAdmin, logoutAdmin, createClient,
retrieveClient, upsertTransaction and retrieveTransaction; the error body and status codes of its
"Errors and Status Codes" section, and its known issue that `signature.counter` comes as a number),
as vendored in the i7aket/SYT.Fiskaly repository (fiskaly-openapi-sign-de-spec-v2.2.2.json), and
against that repository's admin client for the admin paths. The field names Tresen relies on are
kept in tests/data/fiskaly/, where the tests hold the requests and answers to them.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..config import settings
from ..domain.tse import CANCELLED, FINISHED, euros
from ..services.tse_ports import SignedTransaction, TseRefused, TseUnavailable, TssInfo
from .lazy import once

if TYPE_CHECKING:  # annotations only
    from requests import Response

    from ..domain.tse import TseReceipt

TIMEOUT = 5.0  # seconds: a sale at the counter does not wait longer for its signature
TOKEN_MARGIN = 60  # seconds before its expiry a token is no longer used: a call must not outlive it
SETUP_STEPS = 4  # reads of a TSS's state while setting it up: created, uninitialized, initialized, one more
NOT_FOUND = ("E_TSS_NOT_FOUND", "E_CLIENT_NOT_FOUND", "E_TX_NOT_FOUND")
# refusals fiskaly means to be retried: a request of the same transaction still being processed
BUSY = ("E_PENDING_TX_CONFLICT", "E_MIDDLEWARE_PENDING_REQUEST")
CLOSED_EARLY = 499  # fiskaly: the connection closed before the answer; retry


class FiskalyError(TseRefused):
    """fiskaly refused the request (a 4xx other than the transient ones), or answered in a shape
    Tresen does not know: `code` is fiskaly's (E_TX_UPSERT …)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class FiskalyTse:
    """One fiskaly account (API key and secret) for every store's TSS."""

    def __init__(self, base_url: str, api_key: str, api_secret: str, timeout: float = TIMEOUT):
        import requests

        self._base = f"{base_url.rstrip('/')}/api/v2"
        self._credentials = {"api_key": api_key, "api_secret": api_secret}
        self._timeout = timeout
        self._session = requests.Session()
        self._token, self._token_until = "", 0.0
        self._token_lock = threading.Lock()
        self._admin_lock = threading.Lock()
        # a store's first sales, signed side by side, set its TSS up one at a time in this process
        # (the PUK of a TSS being set up is this process's; another process answers a conflict, and
        # its sale is signed later by the job)
        self._setup_lock = threading.Lock()
        self._puks: dict[str, str] = {}  # TSS id → its admin PUK, until the TSS is initialized

    # --- the port ---

    def ensure_tss(self, tss_id: str, admin_pin: str) -> TssInfo:
        with self._setup_lock:
            return self._set_up(tss_id, admin_pin)

    def _set_up(self, tss_id: str, admin_pin: str) -> TssInfo:
        path = f"/tss/{tss_id}"
        for _ in range(SETUP_STEPS):
            tss = self._found(path)
            state = tss["state"] if tss else "CREATED"
            try:
                if state == "INITIALIZED":
                    return tss_info(tss_id, tss)
                if state == "CREATED":
                    self._puks[tss_id] = self._call("PUT", path, {})["admin_puk"]
                    self._call("PATCH", path, {"state": "UNINITIALIZED"})
                elif state == "UNINITIALIZED":
                    self._initialize(tss_id, admin_pin)
                else:
                    raise FiskalyError(f"E_TSS_{state}", f"TSS {tss_id} is {state}: it signs no more")
            except FiskalyError as error:
                if error.code != "E_ILLEGAL_TSS_STATE_CHANGE":
                    raise
                # another process set the TSS up at the same time: read where it stands now
        raise FiskalyError("E_ILLEGAL_TSS_STATE_CHANGE", f"TSS {tss_id} kept changing state while it was set up")

    def ensure_client(self, tss_id: str, admin_pin: str, client_id: str, serial_number: str) -> None:
        path = f"/tss/{tss_id}/client/{client_id}"
        with self._setup_lock:
            client = self._found(path)
            if client is None:
                with self._admin(tss_id, admin_pin):
                    client = self._call("PUT", path, {"serial_number": serial_number})
        if client.get("serial_number") != serial_number:
            registered = client.get("serial_number")
            raise FiskalyError("E_CLIENT_CONFLICT", f"client {client_id} is registered as {registered!r}")

    def start(self, tss_id: str, client_id: str, transaction_id: str) -> None:
        path = f"/tss/{tss_id}/tx/{transaction_id}"
        try:
            self._call("PUT", path, {"state": "ACTIVE", "client_id": client_id}, tx_revision=1)
        except FiskalyError as error:  # revision 1 taken: started before, maybe finished since
            if error.code != "E_TX_UPSERT" or self._found(path) is None:
                raise

    def finish(self, tss_id: str, client_id: str, transaction_id: str, receipt: TseReceipt | None) -> SignedTransaction:
        path = f"/tss/{tss_id}/tx/{transaction_id}"
        current = self._found(path)
        if current is None:
            current = self._call("PUT", path, {"state": "ACTIVE", "client_id": client_id}, tx_revision=1)
        if current["state"] not in (FINISHED, CANCELLED):
            revision = int(current["latest_revision"]) + 1
            try:
                current = self._call("PUT", path, finish_body(client_id, receipt), tx_revision=revision)
            except FiskalyError as error:  # another writer took the revision: ended by it, or a conflict
                current = self._found(path) if error.code == "E_TX_UPSERT" else None
                if current is None or current["state"] not in (FINISHED, CANCELLED):
                    raise error from None
        return signed_transaction(current)

    # --- set-up steps ---

    def _initialize(self, tss_id: str, admin_pin: str) -> None:
        """An UNINITIALIZED TSS initialized; its admin PIN set first if this process created it."""
        puk = self._puks.get(tss_id)
        if puk is not None:
            self._call("PATCH", f"/tss/{tss_id}/admin", {"admin_puk": puk, "new_admin_pin": admin_pin})
        with self._admin(tss_id, admin_pin):
            self._call("PATCH", f"/tss/{tss_id}", {"state": "INITIALIZED"})
        self._puks.pop(tss_id, None)

    @contextmanager
    def _admin(self, tss_id: str, admin_pin: str) -> Iterator[None]:
        """Admin authentication around a change only the taxpayer may make, logged out after it."""
        with self._admin_lock:
            self._call("POST", f"/tss/{tss_id}/admin/auth", {"admin_pin": admin_pin})
            try:
                yield
            finally:
                self._call("POST", f"/tss/{tss_id}/admin/logout", {})

    # --- HTTP ---

    def _found(self, path: str) -> dict | None:
        try:
            return self._call("GET", path)
        except FiskalyError as error:
            if error.code in NOT_FOUND:
                return None
            raise

    def _call(self, method: str, path: str, body: dict | None = None, **query: int) -> dict:
        token = self._access_token()
        answer = self._send(method, path, body, query, token)
        if answer.status_code == 401:
            answer = self._send(method, path, body, query, self._access_token(stale=token))
        return answer_of(answer.status_code, answer.text)

    def _send(self, method: str, path: str, body: dict | None, query: Mapping[str, int], token: str) -> Response:
        import requests

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            return self._session.request(
                method, self._base + path, json=body, params=query, headers=headers, timeout=self._timeout
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
            raise TseUnavailable(f"fiskaly did not answer {method} {path}: {error}") from error

    def _access_token(self, stale: str = "") -> str:
        """The token every thread uses; a new one if it expires within the margin, or if `stale`
        (the one fiskaly just refused) is still the one kept."""
        with self._token_lock:
            if self._token and self._token != stale and time.monotonic() < self._token_until:
                return self._token
            if not all(self._credentials.values()):
                raise TseUnavailable("fiskaly is not configured here: FISKALY_API_KEY or FISKALY_API_SECRET is not set")
            answer = self._send("POST", "/auth", self._credentials, {}, "")
            granted = answer_of(answer.status_code, answer.text)
            lifetime = token_lifetime(granted, time.time())
            self._token = str(granted["access_token"])
            self._token_until = time.monotonic() + lifetime - min(TOKEN_MARGIN, lifetime / 2)
            return self._token


def answer_of(status: int, text: str) -> dict:
    """fiskaly's answer as JSON; its failures in the port's terms (`TseUnavailable` to retry later,
    `FiskalyError` for a refusal)."""
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        body = None  # not fiskaly's own answer: a proxy's or a load balancer's page
    error = body if isinstance(body, dict) else {}
    code = str(error.get("code") or f"HTTP_{status}")
    if status >= 500 or status in (429, CLOSED_EARLY) or (status >= 400 and code in BUSY):
        raise TseUnavailable(f"fiskaly answered {status} {code}: {error.get('message', '')}")
    if status >= 400:
        raise FiskalyError(code, str(error.get("message") or text[:200]))
    if not isinstance(body, dict):
        raise TseUnavailable(f"fiskaly answered {status} with something other than a JSON object")
    return body


def token_lifetime(granted: Mapping[str, Any], now: float) -> float:
    """Seconds the token from `POST /auth` is valid: `access_token_expires_in`, else from
    `access_token_expires_at` (unix seconds); 0 if neither says (it is then used for one call)."""
    expires_in, expires_at = granted.get("access_token_expires_in"), granted.get("access_token_expires_at")
    if isinstance(expires_in, int | float):
        return max(float(expires_in), 0.0)
    if isinstance(expires_at, int | float):
        return max(expires_at - now, 0.0)
    return 0.0


def receipt_schema(receipt: TseReceipt) -> dict:
    """The receipt as fiskaly's `standard_v1` schema takes it (a DSFinV-K "Beleg"): gross amounts per
    VAT category and per payment type as decimal strings with two places."""
    return {
        "receipt_type": "RECEIPT",
        "amounts_per_vat_rate": [
            {"vat_rate": category, "amount": euros(cents)} for category, cents in receipt.amounts_per_vat_rate
        ],
        "amounts_per_payment_type": [
            {"payment_type": kind, "amount": euros(cents)} for kind, cents in receipt.amounts_per_payment_type
        ],
    }


def finish_body(client_id: str, receipt: TseReceipt | None) -> dict:
    """The transaction's last revision: FINISHED with the receipt, or CANCELLED without one."""
    if receipt is None:
        return {"state": CANCELLED, "client_id": client_id}
    return {"state": FINISHED, "client_id": client_id, "schema": {"standard_v1": {"receipt": receipt_schema(receipt)}}}


def moment(unix_seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(unix_seconds), UTC)


@contextmanager
def reading(what: str) -> Iterator[None]:
    """A field missing or malformed in an answer of fiskaly's is a `FiskalyError`, naming it."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as error:
        raise FiskalyError("E_UNEXPECTED_ANSWER", f"fiskaly's {what} lacks or garbles {error}") from error


def signed_transaction(answer: Mapping[str, Any]) -> SignedTransaction:
    """A finished or canceled transaction as fiskaly answers it (`signature.counter` a number or,
    as the schema has it, a string; times in unix seconds)."""
    with reading("transaction"):
        signature, log = answer["signature"], answer["log"]
        return SignedTransaction(
            number=int(answer["number"]),
            state=str(answer["state"]),
            signature_counter=int(signature["counter"]),
            signature=str(signature["value"]),
            time_start=moment(answer["time_start"]),
            time_end=moment(answer["time_end"]),
            tss_serial=str(answer["tss_serial_number"]),
            client_serial=str(answer["client_serial_number"]),
            public_key=str(signature["public_key"]),
            signature_algorithm=str(signature["algorithm"]),
            log_time_format=str(log["timestamp_format"]),
        )


def tss_info(tss_id: str, tss: Mapping[str, Any]) -> TssInfo:
    with reading("TSS"):
        return TssInfo(
            tss_id=tss_id,
            serial_number=str(tss["serial_number"]),
            public_key=str(tss["public_key"]),
            signature_algorithm=str(tss["signature_algorithm"]),
            log_time_format=str(tss["signature_timestamp_format"]),
            certificate=certificate_body(str(tss["certificate"])),
            created_at=moment(tss["time_creation"]),
        )


def certificate_body(certificate: str) -> str:
    """The TSS's certificate as DSFinV-K's tse.csv holds it — the PEM body, base64 of the DER on one
    line — from fiskaly's `certificate`: base64 of the PEM text (taken as the body already if it is
    not PEM)."""
    try:
        pem = base64.b64decode(certificate, validate=True).decode("ascii")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return certificate
    if not pem.startswith("-----BEGIN CERTIFICATE-----"):
        return certificate
    return "".join(line.strip() for line in pem.splitlines() if line.strip() and not line.startswith("-----"))


@once
def tse() -> FiskalyTse:
    """fiskaly from the settings (FISKALY_API_BASE, FISKALY_API_KEY, FISKALY_API_SECRET). Without the
    key and secret every call is `TseUnavailable`: sales on site are taken and marked TSE-failed."""
    config = settings()
    return FiskalyTse(config.fiskaly_api_base, config.fiskaly_api_key, config.fiskaly_api_secret)
