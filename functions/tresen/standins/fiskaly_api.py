"""fiskaly SIGN DE v2, the cloud TSE, stood in for locally: dev mode and the tests reach it through
adapters/fiskaly.py pointed at `FISKALY_API_BASE`, since fiskaly cannot be reached here. It signs with
a real key, so its signatures can be checked as a tax auditor checks a TSE's.

It speaks fiskaly's paths and shapes (checked against fiskaly's OpenAPI document of SIGN DE 2.2.2;
the field names are kept in tests/data/fiskaly/): the API token (`POST /api/v2/auth`), a TSS's life
cycle CREATED → UNINITIALIZED → INITIALIZED with its admin PUK, PIN and session, clients registered
under admin authentication, transactions written by strictly ascending `tx_revision` (the same
request repeated is answered as the first time, as fiskaly's requests are idempotent), and fiskaly's
error body `{status_code, error, code, message}`. Everything lives in memory.

Signing. Each TSS has an ECDSA key of its own on brainpoolP384r1, signing SHA-384 digests
(`ecdsa-plain-SHA384`): `public_key` is base64 of the uncompressed point (97 bytes), `serial_number`
the hex SHA-256 of those bytes (as TR-03153 defines a TSE's serial), `certificate` base64 of a
self-signed PEM certificate for the key, and each signature base64 of r‖s (2 × 48 bytes, "plain").
What is signed is the log message, as these UTF-8 bytes (`log_message`):

    {operation};{client serial};{process type};{process data};{transaction number};{signature counter};{log time}

for example `FinishTransaction;till-1;Kassenbeleg-V1;Beleg^12.34_0.00_0.00_0.00_0.00^12.34:Bar;1;2;1767258000`.
No field can hold a `;` (fiskaly's client serials cannot; process data never does).

- operation: `StartTransaction`, `UpdateTransaction` or `FinishTransaction` (a cancel finishes too);
- process type `Kassenbeleg-V1` and the process data of the revision's receipt (`standard_v1.receipt`)
  as DSFinV-K writes them (`process_data`): the receipt type's word (`Beleg` for RECEIPT) `^` the gross
  per VAT rate in the order NORMAL, REDUCED_1, SPECIAL_RATE_1, SPECIAL_RATE_2, NULL with two decimals,
  joined by `_`, `^` each payment as `amount:Bar` or `amount:Unbar` (`:currency` unless EUR) in the
  order given, joined by `_`; both empty where the revision carries no receipt (a start, a cancel);
- transaction number: the TSS's transactions counted from 1 in the order they started;
- signature counter: the TSS's signatures counted from 1, a start and a finish taking one each;
- log time: unix seconds, from the stand-in's `Clock` (real time, unless the tests set it).

`verify` checks a signature against a public key. Paths under /_standin/ are the stand-in's own: the
TSE unavailable for some seconds (answering 503, or holding each request unanswered until it is back,
long after the client gave up), one coming request failed, the clock set or advanced, and a TSS's
transactions with every log it signed.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import string
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .common import StandIn, WebhookQueue, json_response
from .common import start as start  # where `tresen dev` and the tests start this stand-in from

VERSION, ENVIRONMENT = "2.2.2", "TEST"
ALGORITHM, TIME_FORMAT, PROCESS_TYPE = "ecdsa-plain-SHA384", "unixTime", "Kassenbeleg-V1"
SCALAR_BYTES = 48  # brainpoolP384r1: r and s, each, in a plain signature
TOKEN_LIFETIME = 86400  # seconds: fiskaly's tokens last up to a day
LOGIN_ATTEMPTS = 5  # wrong admin PINs before the PIN is blocked (only the PUK unblocks it)
HANG_LIMIT = 30.0  # seconds an unanswered request is held at most, when the TSE "hangs"
MAX_CLIENTS, MAX_ACTIVE = 199, 2000  # what fiskaly's TSS allow
LOG_OPERATIONS = {"StartTransaction": "Start", "UpdateTransaction": "Update", "FinishTransaction": "Finish"}
TSS_TRANSITIONS = {  # fiskaly's allowed state changes, and whether the admin must be authenticated
    ("CREATED", "UNINITIALIZED"): False,
    ("UNINITIALIZED", "INITIALIZED"): True,
    ("UNINITIALIZED", "DISABLED"): True,
    ("INITIALIZED", "DISABLED"): True,
}
TSS_TIMES = {"UNINITIALIZED": "time_uninit", "INITIALIZED": "time_init", "DISABLED": "time_disable"}
TX_STATES = ("ACTIVE", "FINISHED", "CANCELLED")
# DSFinV-K's word for each receipt type (BON_TYP), as fiskaly's schema maps them
RECEIPT_WORDS = {
    "RECEIPT": "Beleg",
    "TRAINING": "AVTraining",
    "TRANSFER": "AVTransfer",
    "ORDER": "AVBestellung",
    "CANCELLATION": "AVBelegabbruch",
    "ABORT": "AVBelegabbruch",
    "BENEFIT_IN_KIND": "AVSachbezug",
    "INVOICE": "AVRechnung",
    "OTHER": "AVSonstige",
    "ANNULATION": "AVBelegstorno",
}
VAT_RATES = ("NORMAL", "REDUCED_1", "SPECIAL_RATE_1", "SPECIAL_RATE_2", "NULL")
DECIMAL_RATES = {"19": "NORMAL", "7": "REDUCED_1", "10.7": "SPECIAL_RATE_1", "5.5": "SPECIAL_RATE_2", "0": "NULL"}
PAYMENT_WORDS = {"CASH": "Bar", "NON_CASH": "Unbar"}
AMOUNT = re.compile(r"-?[0-9]+\.[0-9]{2,5}")
CLIENT_SERIAL = re.compile(r"(?!\s)[A-Za-z0-9 '()+,\-./:=?]{1,70}(?<!\s)")
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    409: "Conflict",
    423: "Locked",
    503: "Service Unavailable",
}


def log_message(
    operation: str,
    client_serial: str,
    process_type: str,
    process_data: str,
    transaction_number: int,
    signature_counter: int,
    log_time: int,
) -> bytes:
    """The bytes a signature of the stand-in covers (the module's docstring)."""
    fields = (operation, client_serial, process_type, process_data, transaction_number, signature_counter, log_time)
    return ";".join(map(str, fields)).encode()


def verify(public_key: str, signature: str, message: bytes) -> bool:
    """Whether `signature` (base64 of r‖s) is the key's ECDSA brainpoolP384r1/SHA-384 signature of
    `message`; `public_key` is base64 of the uncompressed point, as a TSS shows it."""
    try:
        point, plain = base64.b64decode(public_key, validate=True), base64.b64decode(signature, validate=True)
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.BrainpoolP384R1(), point)
    except ValueError:
        return False
    if len(plain) != 2 * SCALAR_BYTES:
        return False
    r, s = int.from_bytes(plain[:SCALAR_BYTES], "big"), int.from_bytes(plain[SCALAR_BYTES:], "big")
    try:
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        return False
    return True


def process_data(receipt: dict) -> str:
    """A `standard_v1.receipt` as DSFinV-K's process data of a Kassenbeleg-V1 (the module's docstring)."""
    gross = dict.fromkeys(VAT_RATES, Decimal(0))
    for line in receipt["amounts_per_vat_rate"]:
        gross[DECIMAL_RATES.get(line["vat_rate"], line["vat_rate"])] += Decimal(line["amount"])
    payments = []
    for payment in receipt.get("amounts_per_payment_type", []):
        currency = payment.get("currency_code", "EUR").upper()
        suffix = "" if currency == "EUR" else f":{currency}"
        payments.append(f"{Decimal(payment['amount']):.2f}:{PAYMENT_WORDS[payment['payment_type']]}{suffix}")
    amounts = "_".join(f"{gross[rate]:.2f}" for rate in VAT_RATES)
    return f"{RECEIPT_WORDS[receipt['receipt_type']]}^{amounts}^{'_'.join(payments)}"


class Clock:
    """Unix seconds for everything the stand-in stamps: the real time, or a time the tests set, which
    then stands still until set or advanced again."""

    def __init__(self, at: int | None = None):
        self._at = at

    def now(self) -> int:
        return int(time.time()) if self._at is None else self._at

    def set(self, at: int) -> None:
        self._at = at

    def advance(self, seconds: int) -> None:
        self._at = self.now() + seconds


class Refusal(Exception):
    """An answer in fiskaly's error shape."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after

    def response(self) -> Response:
        body = {"status_code": self.status, "error": REASONS[self.status], "code": self.code, "message": self.message}
        response = json_response(body, self.status)
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        return response


def invalid(message: str) -> Refusal:
    return Refusal(400, "E_FAILED_SCHEMA_VALIDATION", message)


def checked(body: dict, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> dict:
    """`body` if it has every required field and no other than the optional ones."""
    missing = [name for name in required if name not in body]
    unknown = sorted(set(body) - set(required) - set(optional))
    if missing:
        raise invalid(f"body must have required property '{missing[0]}'")
    if unknown:
        raise invalid(f"body must NOT have additional property '{unknown[0]}'")
    return body


def uuid_of(value: str, name: str) -> str:
    """A path's id, in lower case as fiskaly keeps it; fiskaly takes UUIDs only."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise invalid(f'params/{name} must match format "uuid"') from None


def receipt_of(schema: Any) -> dict:
    """The `standard_v1.receipt` of a request's schema, checked as fiskaly's OpenAPI schema checks it;
    the stand-in signs receipts only."""
    standard = schema.get("standard_v1") if isinstance(schema, dict) else None
    receipt = standard.get("receipt") if isinstance(standard, dict) else None
    if not isinstance(receipt, dict) or set(schema) != {"standard_v1"} or set(standard) != {"receipt"}:
        raise invalid("the stand-in takes schema.standard_v1.receipt only")
    checked(receipt, ("receipt_type", "amounts_per_vat_rate"), ("amounts_per_payment_type",))
    if receipt["receipt_type"] not in RECEIPT_WORDS:
        raise invalid("body/schema/standard_v1/receipt/receipt_type must be equal to one of the allowed values")
    rates = (*VAT_RATES, *DECIMAL_RATES)
    for name, kind, kinds in (
        ("amounts_per_vat_rate", "vat_rate", rates),
        ("amounts_per_payment_type", "payment_type", tuple(PAYMENT_WORDS)),
    ):
        lines = receipt.get(name, [])
        if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
            raise invalid(f"body/schema/standard_v1/receipt/{name} must be array of objects")
        for line in lines:
            checked(line, (kind, "amount"), ("currency_code",) if name == "amounts_per_payment_type" else ())
            if line[kind] not in kinds or not (isinstance(line["amount"], str) and AMOUNT.fullmatch(line["amount"])):
                raise invalid(f"body/schema/standard_v1/receipt/{name}: {line} is not a {kind} with an amount")
    return receipt


class TssKey:
    """A TSS's signing key and its self-signed certificate."""

    def __init__(self, now: int):
        self._key = ec.generate_private_key(ec.BrainpoolP384R1())
        point = self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.public_key = base64.b64encode(point).decode()
        self.serial_number = hashlib.sha256(point).hexdigest()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"fiskaly-standin {self.serial_number[:16]}")])
        issued = datetime.fromtimestamp(now, UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(issued - timedelta(days=1))
            .not_valid_after(issued + timedelta(days=8 * 365))
            .sign(self._key, hashes.SHA384())
        )
        self.certificate = base64.b64encode(certificate.public_bytes(serialization.Encoding.PEM)).decode()

    def sign(self, message: bytes) -> str:
        r, s = decode_dss_signature(self._key.sign(message, ec.ECDSA(hashes.SHA384())))
        return base64.b64encode(r.to_bytes(SCALAR_BYTES, "big") + s.to_bytes(SCALAR_BYTES, "big")).decode()


@dataclass
class Tss:
    id: str
    key: TssKey
    admin_puk: str
    time_creation: int
    metadata: dict
    state: str = "CREATED"
    admin_pin: str | None = None  # none until set with the PUK: the PIN is blocked after creation
    failed_logins: int = 0
    admins: set[str] = field(default_factory=set)  # access tokens with an admin session
    times: dict[str, int] = field(default_factory=dict)  # time_uninit, time_init, time_disable
    signature_counter: int = 0
    transaction_counter: int = 0
    logs: list[dict] = field(default_factory=list)  # every log it signed, oldest first


@dataclass
class Client:
    id: str
    tss_id: str
    serial_number: str
    time_creation: int
    metadata: dict


@dataclass
class Transaction:
    id: str
    tss_id: str
    number: int
    revisions: dict[int, dict] = field(default_factory=dict)  # revision → the transaction as it then was
    bodies: dict[int, dict] = field(default_factory=dict)  # revision → the request that wrote it

    @property
    def latest(self) -> int:
        return max(self.revisions)


@dataclass
class Outage:
    until: int  # unix seconds on the stand-in's clock
    hang: bool  # no answer (until the outage ends, or HANG_LIMIT) rather than 503


@dataclass
class Call:
    """One request as the handlers need it."""

    request: Request
    body: dict
    token: str = ""


class FiskalyStandIn(StandIn):
    """All of the stand-in's state, and the WSGI app serving it. One lock guards the state."""

    def __init__(
        self, api_key: str = "fiskaly-key-dev", api_secret: str = "fiskaly-secret-dev", clock: Clock | None = None
    ):
        super().__init__(WebhookQueue(None, (), "fiskaly-standin"))  # fiskaly sends no webhooks
        self.api_key, self.api_secret = api_key, api_secret
        self.clock = clock or Clock()
        self.organization_id = str(uuid.uuid4())
        self._tokens: dict[str, int] = {}  # access token → when it expires (clock seconds)
        self._tsss: dict[str, Tss] = {}
        self._clients: dict[str, Client] = {}
        self._transactions: dict[tuple[str, str], Transaction] = {}  # (TSS, transaction id)
        self._outage: Outage | None = None
        self._failures: list[tuple[str, str]] = []  # (method, path) of requests to fail once each

    # --- dispatch ---

    def _respond(self, request: Request) -> Response:
        try:
            endpoint, args = ROUTES.bind_to_environ(request.environ).match()
        except HTTPException:
            endpoint, args = "not_found", {}
        api = not endpoint.startswith("control_")
        if api:
            self._hold_while_hanging()
        call = Call(request, {})
        with self._lock:
            try:
                if api:
                    self._refuse_if_unavailable(request)
                if endpoint.startswith("api_"):
                    call.token = self._authenticated(request)
                call.body = self._json_body(request)
                response = json_response(getattr(self, endpoint)(call, **args))
            except Refusal as refusal:
                response = refusal.response()
            if api:
                self._requests.append(
                    {
                        "method": request.method,
                        "path": request.path,
                        "query": request.args.to_dict(),
                        "body": call.body,
                        "status": response.status_code,
                        "answer": response.get_json(silent=True),
                    }
                )
        return response

    def _hold_while_hanging(self) -> None:
        """During an outage that hangs, no answer until it ends (or HANG_LIMIT): the lock is not held."""
        given_up = time.monotonic() + HANG_LIMIT
        while time.monotonic() < given_up:
            with self._lock:
                if not (self._outage and self._outage.hang and self.clock.now() < self._outage.until):
                    return
            time.sleep(0.05)

    def _refuse_if_unavailable(self, request: Request) -> None:
        now = self.clock.now()
        if self._outage and now < self._outage.until:
            raise Refusal(503, "E_TSS_LOCKED", "The TSS is in maintenance; retry later", self._outage.until - now)
        if (request.method, request.path) in self._failures:
            self._failures.remove((request.method, request.path))
            raise Refusal(503, "E_TSS_LOCKED", "The TSS is in maintenance; retry later", 1)

    def _authenticated(self, request: Request) -> str:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or self._tokens.get(token, 0) <= self.clock.now():
            raise Refusal(401, "E_UNAUTHORIZED", "The access token is missing, invalid or expired")
        return token

    @staticmethod
    def _json_body(request: Request) -> dict:
        if not request.get_data().strip():
            return {}
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise invalid("body must be object")
        return body

    def not_found(self, call: Call) -> dict:
        raise Refusal(404, "E_NOT_FOUND", f"Route {call.request.method}:{call.request.path} not found")

    # --- authentication ---

    def auth(self, call: Call) -> dict:
        body = checked(call.body, ("api_key", "api_secret"))
        if (body["api_key"], body["api_secret"]) != (self.api_key, self.api_secret):
            raise Refusal(401, "E_UNAUTHORIZED", "Invalid API key or secret")
        now, token = self.clock.now(), f"eyJ{secrets.token_urlsafe(48)}"
        self._tokens[token] = now + TOKEN_LIFETIME
        return {
            "access_token": token,
            "access_token_claims": {"env": ENVIRONMENT, "organization_id": self.organization_id},
            "access_token_expires_in": TOKEN_LIFETIME,
            "access_token_expires_at": now + TOKEN_LIFETIME,
        }

    def api_admin_auth(self, call: Call, tss_id: str) -> dict:
        pin = checked(call.body, ("admin_pin",))["admin_pin"]
        tss = self._tss(tss_id)
        if tss.admin_pin is None or tss.failed_logins >= LOGIN_ATTEMPTS:
            raise Refusal(423, "E_ADMIN_PIN_BLOCKED", "The admin PIN is blocked: set a new one with the PUK")
        if not secrets.compare_digest(str(pin), tss.admin_pin):
            tss.failed_logins += 1
            raise Refusal(401, "E_UNAUTHORIZED", "Admin authentication failed")
        tss.failed_logins = 0
        tss.admins.add(call.token)
        return {}

    def api_admin_logout(self, call: Call, tss_id: str) -> dict:
        checked(call.body)
        self._tss(tss_id).admins.discard(call.token)
        return {}

    def _require_admin(self, call: Call, tss: Tss) -> None:
        if call.token not in tss.admins:
            raise Refusal(401, "E_UNAUTHORIZED", "This operation requires admin authentication")

    # --- TSS ---

    def _tss(self, tss_id: str) -> Tss:
        tss = self._tsss.get(uuid_of(tss_id, "tss_id"))
        if tss is None:
            raise Refusal(404, "E_TSS_NOT_FOUND", f"TSS {tss_id} not found")
        return tss

    @staticmethod
    def _require_initialized(tss: Tss) -> None:
        if tss.state == "DISABLED":
            raise Refusal(400, "E_TSS_DISABLED", f"TSS {tss.id} is disabled")
        if tss.state != "INITIALIZED":
            raise Refusal(400, "E_TSS_NOT_INITIALIZED", f"TSS {tss.id} is not initialized")

    def api_create_tss(self, call: Call, tss_id: str) -> dict:
        body = checked(call.body, optional=("metadata",))
        tss_id = uuid_of(tss_id, "tss_id")
        tss = self._tsss.get(tss_id)
        if tss is None:  # fiskaly's PUKs: ten characters, letters and digits
            puk = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(10))
            now = self.clock.now()
            tss = Tss(tss_id, TssKey(now), puk, now, dict(body.get("metadata", {})))
            self._tsss[tss_id] = tss
        elif tss.state != "CREATED":  # the PUK shows only while the TSS is CREATED
            raise Refusal(409, "E_TSS_CONFLICT", f"TSS {tss_id} exists already")
        shown = self._tss_shown(tss)
        created = ("certificate", "serial_number", "public_key", "signature_algorithm", "signature_timestamp_format")
        created += ("transaction_data_encoding", "max_number_registered_clients", "max_number_active_transactions")
        created += ("supported_update_variants", "metadata", "_id", "_type", "_env", "_version", "time_creation")
        return {name: shown[name] for name in created} | {"admin_puk": tss.admin_puk, "state": tss.state}

    def api_get_tss(self, call: Call, tss_id: str) -> dict:
        return self._tss_shown(self._tss(tss_id))

    def api_update_tss(self, call: Call, tss_id: str) -> dict:
        body = checked(call.body, ("state",), ("description", "metadata"))
        tss = self._tss(tss_id)
        change = (tss.state, body["state"])
        if body["state"] not in TSS_TIMES:
            raise invalid("body/state must be equal to one of the allowed values")
        if change not in TSS_TRANSITIONS:
            raise Refusal(400, "E_ILLEGAL_TSS_STATE_CHANGE", f"TSS cannot change from {change[0]} to {change[1]}")
        if TSS_TRANSITIONS[change]:
            self._require_admin(call, tss)
        tss.state, tss.times[TSS_TIMES[body["state"]]] = body["state"], self.clock.now()
        tss.metadata |= body.get("metadata", {})
        return self._tss_shown(tss)

    def api_change_admin_pin(self, call: Call, tss_id: str) -> dict:
        body = checked(call.body, ("admin_puk", "new_admin_pin"))
        tss = self._tss(tss_id)
        if tss.state not in ("UNINITIALIZED", "INITIALIZED"):
            raise Refusal(400, "E_TSS_NOT_INITIALIZED", f"TSS {tss.id} is {tss.state}: its PIN cannot be set yet")
        if not isinstance(body["new_admin_pin"], str) or len(body["new_admin_pin"]) < 6:
            raise invalid("body/new_admin_pin must NOT have fewer than 6 characters")
        if not secrets.compare_digest(str(body["admin_puk"]), tss.admin_puk):
            raise Refusal(400, "E_CHANGE_ADMIN_PIN_FAILED", "The admin PUK is not correct")
        tss.admin_pin, tss.failed_logins = body["new_admin_pin"], 0
        return {}

    def _tss_shown(self, tss: Tss) -> dict:
        """The TSS as `GET /tss/{id}` (and an update) shows it."""
        shown = {
            "certificate": tss.key.certificate,
            "serial_number": tss.key.serial_number,
            "public_key": tss.key.public_key,
            "signature_algorithm": ALGORITHM,
            "signature_timestamp_format": TIME_FORMAT,
            "transaction_data_encoding": "UTF-8",
            "max_number_registered_clients": MAX_CLIENTS,
            "max_number_active_transactions": MAX_ACTIVE,
            "supported_update_variants": "SIGNED",
            "metadata": tss.metadata,
            "_id": tss.id,
            "_type": "TSS",
            "_env": ENVIRONMENT,
            "_version": VERSION,
            "time_creation": tss.time_creation,
            "description": f"fiskaly sign cloud-TSE ({tss.id})",
            "state": tss.state,
            "signature_counter": str(tss.signature_counter),
            "transaction_counter": str(tss.transaction_counter),
            "number_registered_clients": sum(client.tss_id == tss.id for client in self._clients.values()),
            "number_active_transactions": sum(
                tx.tss_id == tss.id and tx.revisions[tx.latest]["state"] == "ACTIVE"
                for tx in self._transactions.values()
            ),
        }
        if tss.state != "CREATED":
            shown["bsi_certification_id"] = "BSI-K-TR-0000-STANDIN"
        return shown | tss.times

    # --- clients ---

    def api_create_client(self, call: Call, tss_id: str, client_id: str) -> dict:
        body = checked(call.body, ("serial_number",), ("metadata",))
        tss, client_id = self._tss(tss_id), uuid_of(client_id, "client_id")
        self._require_initialized(tss)
        self._require_admin(call, tss)
        serial = body["serial_number"]
        if not isinstance(serial, str) or not CLIENT_SERIAL.fullmatch(serial):
            raise Refusal(400, "E_ILLEGAL_CLIENT_SERIAL", f"serial_number {serial!r} is not a valid client serial")
        client = self._clients.get(client_id)
        if client is not None:  # the same request again is answered again; another client id's use is not
            if (client.tss_id, client.serial_number) != (tss.id, serial):
                raise Refusal(409, "E_CLIENT_CONFLICT", f"client {client_id} exists already")
            return self._client_shown(client)
        if any(other.tss_id == tss.id and other.serial_number == serial for other in self._clients.values()):
            raise Refusal(400, "E_ILLEGAL_CLIENT_SERIAL", f"serial_number {serial!r} is used by another client")
        client = Client(client_id, tss.id, serial, self.clock.now(), dict(body.get("metadata", {})))
        self._clients[client_id] = client
        return self._client_shown(client)

    def api_get_client(self, call: Call, tss_id: str, client_id: str) -> dict:
        client = self._client(self._tss(tss_id), client_id, 404)
        return self._client_shown(client) | {"time_update": client.time_creation}

    def _client(self, tss: Tss, client_id: Any, status: int) -> Client:
        """The TSS's client of this id (fiskaly answers 404 for a path's, 400 for a body's)."""
        client = self._clients.get(uuid_of(str(client_id), "client_id"))
        if client is None or client.tss_id != tss.id:
            raise Refusal(status, "E_CLIENT_NOT_FOUND", f"client {client_id} not found for TSS {tss.id}")
        return client

    @staticmethod
    def _client_shown(client: Client) -> dict:
        return {
            "serial_number": client.serial_number,
            "state": "REGISTERED",
            "tss_id": client.tss_id,
            "metadata": client.metadata,
            "_id": client.id,
            "_type": "CLIENT",
            "_env": ENVIRONMENT,
            "_version": VERSION,
            "time_creation": client.time_creation,
        }

    # --- transactions ---

    def api_upsert_transaction(self, call: Call, tss_id: str, tx_id: str) -> dict:
        body = checked(call.body, ("state", "client_id"), ("schema", "metadata"))
        tss, tx_id = self._tss(tss_id), uuid_of(tx_id, "tx_id_or_number")
        self._require_initialized(tss)
        revision = self._revision_asked(call, required=True)
        client = self._client(tss, body["client_id"], 400)
        if body["state"] not in TX_STATES:
            raise invalid("body/state must be equal to one of the allowed values")
        receipt = receipt_of(body["schema"]) if "schema" in body else None
        if body["state"] == "FINISHED" and receipt is None:
            raise invalid("a transaction finishes with its schema.standard_v1.receipt")
        tx = self._transactions.get((tss.id, tx_id))
        if tx is None:
            if (revision, body["state"], receipt) != (1, "ACTIVE", None):
                raise Refusal(400, "E_TX_UPSERT", "A transaction starts ACTIVE, without data, at tx_revision 1")
            tss.transaction_counter += 1
            tx = self._transactions[(tss.id, tx_id)] = Transaction(tx_id, tss.id, tss.transaction_counter)
        elif revision == tx.latest and body == tx.bodies[revision]:
            return self._tx_shown(tx, revision)  # the same request again: answered as the first time
        elif revision <= tx.latest:
            raise Refusal(400, "E_TX_UPSERT", f"tx_revision {revision} is not above the latest, {tx.latest}")
        elif tx.revisions[tx.latest]["state"] != "ACTIVE":
            raise Refusal(400, "E_TX_UPSERT", f"transaction {tx_id} is {tx.revisions[tx.latest]['state']} already")
        tx.revisions[revision] = self._signed_revision(tss, tx, client, body, receipt)
        tx.bodies[revision] = body
        return self._tx_shown(tx, revision)

    def _signed_revision(self, tss: Tss, tx: Transaction, client: Client, body: dict, receipt: dict | None) -> dict:
        """The transaction as this revision leaves it, its log message signed."""
        ends, starts = body["state"] != "ACTIVE", not tx.revisions
        operation = "StartTransaction" if starts else "FinishTransaction" if ends else "UpdateTransaction"
        process = (PROCESS_TYPE, process_data(receipt)) if receipt else ("", "")
        tss.signature_counter += 1
        now, counter = self.clock.now(), tss.signature_counter
        message = log_message(operation, client.serial_number, *process, tx.number, counter, now)
        value = tss.key.sign(message)
        signature = {"value": value, "algorithm": ALGORITHM, "counter": counter, "public_key": tss.key.public_key}
        tss.logs.append(
            {
                "tx_id": tx.id,
                "operation": operation,
                "client_serial_number": client.serial_number,
                "process_type": process[0],
                "process_data": process[1],
                "number": tx.number,
                "signature_counter": counter,
                "log_time": now,
                "signature": value,
            }
        )
        earlier = tx.revisions[tx.latest] if tx.revisions else {"time_start": now, "metadata": {}}
        revision = {
            "number": tx.number,
            "time_start": earlier["time_start"],
            "client_serial_number": client.serial_number,
            "tss_serial_number": tss.key.serial_number,
            "state": body["state"],
            "client_id": client.id,
            "tss_id": tss.id,
            "metadata": earlier["metadata"] | body.get("metadata", {}),
            "_type": "TRANSACTION",
            "_id": tx.id,
            "_env": ENVIRONMENT,
            "_version": VERSION,
            "log": {"operation": LOG_OPERATIONS[operation], "timestamp": now, "timestamp_format": TIME_FORMAT},
            "signature": signature,
        }
        if receipt:
            revision["schema"] = {"standard_v1": {"receipt": receipt}}
        if ends:
            revision |= {"time_end": now, "qr_code_data": qr_code(revision, *process)}
        return revision

    def api_get_transaction(self, call: Call, tss_id: str, tx_id: str) -> dict:
        tss = self._tss(tss_id)
        tx = next((tx for tx in self._transactions.values() if tx.tss_id == tss.id and str(tx.number) == tx_id), None)
        tx = tx or self._transactions.get((tss.id, uuid_of(tx_id, "tx_id_or_number")))
        if tx is None:
            raise Refusal(404, "E_TX_NOT_FOUND", f"transaction {tx_id} not found")
        revision = self._revision_asked(call, required=False) or tx.latest
        if revision not in tx.revisions:
            raise Refusal(400, "E_TX_REVISION_NOT_FOUND", f"transaction {tx_id} has no revision {revision}")
        return self._tx_shown(tx, revision)

    @staticmethod
    def _revision_asked(call: Call, required: bool) -> int | None:
        asked = call.request.args.get("tx_revision")
        if asked is None and not required:
            return None
        if asked is None or not asked.isdigit() or int(asked) < 1:
            raise Refusal(400, "E_TX_UPSERT", "querystring/tx_revision must be an integer of at least 1")
        return int(asked)

    @staticmethod
    def _tx_shown(tx: Transaction, revision: int) -> dict:
        return tx.revisions[revision] | {"revision": revision, "latest_revision": tx.latest}

    # --- the stand-in's own controls ---

    def control_outage(self, call: Call) -> dict:
        """The TSE unavailable for `seconds` (on the stand-in's clock): 503, or with `hang` each request
        held unanswered until the outage ends (then answered) or HANG_LIMIT passes (then 503)."""
        seconds, hang = call.body.get("seconds"), call.body.get("hang", False)
        if not isinstance(seconds, int) or seconds < 1 or not isinstance(hang, bool):
            raise invalid("body must be {seconds: a whole number from 1, hang: true or false}")
        self._outage = Outage(self.clock.now() + seconds, hang)
        return {"until": self._outage.until, "hang": hang}

    def control_outage_over(self, call: Call) -> dict:
        self._outage = None
        return {}

    def control_fail(self, call: Call) -> dict:
        """The next request of `method` to `path` answered 503 without being done (once)."""
        method, path = call.body.get("method"), call.body.get("path")
        if not (isinstance(method, str) and isinstance(path, str)):
            raise invalid("body must be {method, path}")
        self._failures.append((method.upper(), path))
        return {"failing": [list(failure) for failure in self._failures]}

    def control_clock(self, call: Call) -> dict:
        """The clock set (`now`: unix seconds) or moved on (`advance`: seconds)."""
        if isinstance(call.body.get("now"), int):
            self.clock.set(call.body["now"])
        elif isinstance(call.body.get("advance"), int):
            self.clock.advance(call.body["advance"])
        else:
            raise invalid("body must be {now: unix seconds} or {advance: seconds}")
        return {"now": self.clock.now()}

    def control_transactions(self, call: Call, tss_id: str) -> dict:
        """The TSS's transactions (their latest revisions, in the order they started) and every log it
        signed, oldest first, with what each signature covers."""
        tss = self._tss(tss_id)
        started = sorted((tx for tx in self._transactions.values() if tx.tss_id == tss.id), key=lambda tx: tx.number)
        return {"transactions": [self._tx_shown(tx, tx.latest) for tx in started], "logs": list(tss.logs)}


def qr_code(transaction: dict, process_type: str, process: str) -> str:
    """DSFinV-K's receipt code ("V0") of a transaction that ended, as fiskaly's `qr_code_data`."""

    def iso(unix_seconds: int) -> str:
        return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    signature = transaction["signature"]
    fields = (
        "V0",
        transaction["client_serial_number"],
        process_type,
        process,
        transaction["number"],
        signature["counter"],
        iso(transaction["time_start"]),
        iso(transaction["log"]["timestamp"]),
        ALGORITHM,
        TIME_FORMAT,
        signature["value"],
        signature["public_key"],
    )
    return ";".join(map(str, fields))


ROUTES = Map(
    [
        Rule(path, methods=methods, endpoint=endpoint)
        for methods, path, endpoint in (
            (["POST"], "/api/v2/auth", "auth"),
            (["PUT"], "/api/v2/tss/<tss_id>", "api_create_tss"),
            (["GET"], "/api/v2/tss/<tss_id>", "api_get_tss"),
            (["PATCH"], "/api/v2/tss/<tss_id>", "api_update_tss"),
            (["PATCH"], "/api/v2/tss/<tss_id>/admin", "api_change_admin_pin"),
            (["POST"], "/api/v2/tss/<tss_id>/admin/auth", "api_admin_auth"),
            (["POST"], "/api/v2/tss/<tss_id>/admin/logout", "api_admin_logout"),
            (["PUT"], "/api/v2/tss/<tss_id>/client/<client_id>", "api_create_client"),
            (["GET"], "/api/v2/tss/<tss_id>/client/<client_id>", "api_get_client"),
            (["PUT"], "/api/v2/tss/<tss_id>/tx/<tx_id>", "api_upsert_transaction"),
            (["GET"], "/api/v2/tss/<tss_id>/tx/<tx_id>", "api_get_transaction"),
            (["POST"], "/_standin/outage", "control_outage"),
            (["DELETE"], "/_standin/outage", "control_outage_over"),
            (["POST"], "/_standin/fail", "control_fail"),
            (["POST"], "/_standin/clock", "control_clock"),
            (["GET"], "/_standin/tss/<tss_id>/tx", "control_transactions"),
        )
    ]
)
