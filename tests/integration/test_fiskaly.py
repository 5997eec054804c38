"""fiskaly SIGN DE as Tresen drives it: `FiskalyTse` (adapters/fiskaly.py) against the local stand-in
(standins/fiskaly_api.py) over HTTP on 127.0.0.1, the stand-in's clock set by the test. Signatures are
checked with the TSS's public key over the log message the stand-in documents, its process data built
by the domain (domain/tse.py) as DSFinV-K has it; what the adapter sends and the stand-in answers is
held to fiskaly's field names (tests/data/fiskaly/). Needs no emulator."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tresen.adapters.fiskaly import FiskalyError, FiskalyTse
from tresen.domain.tse import TseReceipt, process_data
from tresen.services.tse_ports import SignedTransaction, TseUnavailable, TssInfo
from tresen.standins.fiskaly_api import TOKEN_LIFETIME, Clock, FiskalyStandIn, log_message, start, verify

FIELDS = json.loads((Path(__file__).parents[1] / "data" / "fiskaly" / "sign_de_v2.json").read_text())
KEY, SECRET, PIN = "fiskaly-key-test", "fiskaly-secret-test", "314159"
NOW = 1767258000  # 2026-01-01T09:00:00Z
TSS = "3f6c1a52-8d0e-4b7a-9c21-5e4d3b2a1f00"
CLIENT, SERIAL = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "tresen-till-1"
TX = "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b"
RECEIPT = TseReceipt((("NORMAL", 1234), ("REDUCED_1", 550), ("NULL", 200)), (("CASH", 1984),))
SIGNED_RECEIPT = "Beleg^12.34_5.50_0.00_0.00_2.00^19.84:Bar"
ERROR_FIELDS = ["code", "error", "message", "status_code"]


class Fiskaly:
    """The stand-in on a free port with its clock at NOW, Tresen's adapter of it, and fiskaly called
    directly, as another process (or an earlier attempt) would call it."""

    def __init__(self, timeout: float = 2.0):
        self.stand_in = FiskalyStandIn(KEY, SECRET, Clock(NOW))
        self.server, self.url = start(self.stand_in)
        self.tse = FiskalyTse(self.url, KEY, SECRET, timeout=timeout)
        self._bearer: dict[str, str] = {}

    def raw(self, method: str, path: str, body: dict | None = None, **query: int) -> requests.Response:
        if not self._bearer:
            granted = requests.post(f"{self.url}/api/v2/auth", json={"api_key": KEY, "api_secret": SECRET}, timeout=5)
            self._bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
        return requests.request(
            method, f"{self.url}/api/v2{path}", json=body, params=query, headers=self._bearer, timeout=5
        )

    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = requests.request(method, f"{self.url}/_standin{path}", json=body, timeout=5)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def ready(self) -> TssInfo:
        info = self.tse.ensure_tss(TSS, PIN)
        self.tse.ensure_client(TSS, PIN, CLIENT, SERIAL)
        return info

    def calls(self, since: int = 0) -> list[tuple[str, str]]:
        """The adapter's and the raw calls to fiskaly since the `since`th, but the tokens, paths below the TSS."""
        return [
            (call["method"], call["path"].removeprefix(f"/api/v2/tss/{TSS}") or "/")
            for call in self.stand_in.requests[since:]
            if call["path"] != "/api/v2/auth"
        ]

    def signature_counter(self) -> str:
        return self.raw("GET", f"/tss/{TSS}").json()["signature_counter"]

    def logs(self) -> list[dict]:
        return self.control("GET", f"/tss/{TSS}/tx")["logs"]


@pytest.fixture
def fiskaly():
    stand = Fiskaly()
    yield stand
    stand.server.shutdown()


def refusal(answer: requests.Response) -> tuple[int, str]:
    body = answer.json()
    assert sorted(body) == ERROR_FIELDS and body["status_code"] == answer.status_code
    return answer.status_code, body["code"]


def test_a_tss_is_made_and_initialized_once(fiskaly):
    info = fiskaly.tse.ensure_tss(TSS, PIN)
    point = base64.b64decode(info.public_key)
    assert (len(point), point[0]) == (97, 4)  # the uncompressed point of a brainpoolP384r1 key
    created = datetime(2026, 1, 1, 9, tzinfo=UTC)
    serial = hashlib.sha256(point).hexdigest()
    assert info == TssInfo(TSS, serial, info.public_key, "ecdsa-plain-SHA384", "unixTime", info.certificate, created)
    certificate = x509.load_der_x509_certificate(base64.b64decode(info.certificate))
    certified = certificate.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert certified == point
    assert fiskaly.calls() == [
        ("GET", "/"),
        ("PUT", "/"),
        ("PATCH", "/"),
        ("GET", "/"),
        ("PATCH", "/admin"),
        ("POST", "/admin/auth"),
        ("PATCH", "/"),
        ("POST", "/admin/logout"),
        ("GET", "/"),
    ]
    done = len(fiskaly.stand_in.requests)
    assert fiskaly.tse.ensure_tss(TSS, PIN) == info
    assert fiskaly.calls(done) == [("GET", "/")]
    assert fiskaly.raw("GET", f"/tss/{TSS}").json()["state"] == "INITIALIZED"


def test_a_setup_that_stopped_after_creating_the_tss_goes_on_with_the_same_tss(fiskaly):
    made = fiskaly.raw("PUT", f"/tss/{TSS}", {}).json()
    assert made["state"] == "CREATED"
    info = fiskaly.tse.ensure_tss(TSS, PIN)
    assert (info.public_key, info.serial_number) == (made["public_key"], made["serial_number"])
    fiskaly.tse.ensure_client(TSS, PIN, CLIENT, SERIAL)  # the admin PIN is the one given


def test_a_setup_that_stopped_after_setting_the_pin_is_initialized_with_it(fiskaly):
    puk = fiskaly.raw("PUT", f"/tss/{TSS}", {}).json()["admin_puk"]
    fiskaly.raw("PATCH", f"/tss/{TSS}", {"state": "UNINITIALIZED"})
    assert fiskaly.raw("PATCH", f"/tss/{TSS}/admin", {"admin_puk": puk, "new_admin_pin": PIN}).status_code == 200
    done = len(fiskaly.stand_in.requests)
    fiskaly.tse.ensure_tss(TSS, PIN)
    assert fiskaly.calls(done) == [
        ("GET", "/"),
        ("POST", "/admin/auth"),
        ("PATCH", "/"),
        ("POST", "/admin/logout"),
        ("GET", "/"),
    ]


def test_a_setup_interrupted_before_the_pin_is_resumed_with_the_puk_this_process_kept(fiskaly):
    fiskaly.control("POST", "/fail", {"method": "PATCH", "path": f"/api/v2/tss/{TSS}/admin"})
    with pytest.raises(TseUnavailable):
        fiskaly.tse.ensure_tss(TSS, PIN)
    assert fiskaly.raw("GET", f"/tss/{TSS}").json()["state"] == "UNINITIALIZED"  # and fiskaly shows no PUK now
    info = fiskaly.tse.ensure_tss(TSS, PIN)
    assert fiskaly.raw("GET", f"/tss/{TSS}").json()["public_key"] == info.public_key
    fiskaly.tse.ensure_client(TSS, PIN, CLIENT, SERIAL)


def test_a_till_is_registered_once_under_admin_authentication(fiskaly):
    fiskaly.tse.ensure_tss(TSS, PIN)
    done = len(fiskaly.stand_in.requests)
    fiskaly.tse.ensure_client(TSS, PIN, CLIENT, SERIAL)
    fiskaly.tse.ensure_client(TSS, PIN, CLIENT, SERIAL)
    client = f"/client/{CLIENT}"
    assert fiskaly.calls(done) == [
        ("GET", client),
        ("POST", "/admin/auth"),
        ("PUT", client),
        ("POST", "/admin/logout"),
        ("GET", client),
    ]
    shown = fiskaly.raw("GET", f"/tss/{TSS}{client}").json()
    assert (shown["serial_number"], shown["state"], shown["tss_id"]) == (SERIAL, "REGISTERED", TSS)


def test_a_wrong_admin_pin_is_an_error_to_fix_not_an_outage(fiskaly):
    fiskaly.tse.ensure_tss(TSS, PIN)
    with pytest.raises(FiskalyError) as refused:
        fiskaly.tse.ensure_client(TSS, "271828", CLIENT, SERIAL)
    assert (refused.value.code, refused.value.message) == ("E_UNAUTHORIZED", "Admin authentication failed")
    assert refusal(fiskaly.raw("GET", f"/tss/{TSS}/client/{CLIENT}")) == (404, "E_CLIENT_NOT_FOUND")


def test_a_sale_is_signed_and_its_signature_verifies_with_the_tss_public_key(fiskaly):
    info = fiskaly.ready()
    fiskaly.tse.start(TSS, CLIENT, TX)
    fiskaly.control("POST", "/clock", {"advance": 42})
    signed = fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT)
    started, ended = datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2026, 1, 1, 9, 0, 42, tzinfo=UTC)
    assert signed == SignedTransaction(
        1, "FINISHED", 2, signed.signature, started, ended, info.serial_number, SERIAL, info.public_key,
        "ecdsa-plain-SHA384", "unixTime",
    )  # fmt: skip
    assert process_data(RECEIPT) == SIGNED_RECEIPT
    message = log_message("FinishTransaction", SERIAL, "Kassenbeleg-V1", process_data(RECEIPT), 1, 2, NOW + 42)
    assert message == f"FinishTransaction;{SERIAL};Kassenbeleg-V1;{SIGNED_RECEIPT};1;2;1767258042".encode()
    assert len(base64.b64decode(signed.signature)) == 96
    assert verify(info.public_key, signed.signature, message)
    assert not verify(info.public_key, signed.signature, message.replace(b"19.84:Bar", b"19.85:Bar"))
    [finished] = [call for call in fiskaly.stand_in.requests if call["query"] == {"tx_revision": "2"}]
    assert finished["body"] == {
        "state": "FINISHED",
        "client_id": CLIENT,
        "schema": {
            "standard_v1": {
                "receipt": {
                    "receipt_type": "RECEIPT",
                    "amounts_per_vat_rate": [
                        {"vat_rate": "NORMAL", "amount": "12.34"},
                        {"vat_rate": "REDUCED_1", "amount": "5.50"},
                        {"vat_rate": "NULL", "amount": "2.00"},
                    ],
                    "amounts_per_payment_type": [{"payment_type": "CASH", "amount": "19.84"}],
                }
            }
        },
    }


def test_a_retried_finish_returns_the_same_signature_and_signs_nothing_again(fiskaly):
    fiskaly.ready()
    fiskaly.tse.start(TSS, CLIENT, TX)
    first = fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT)
    assert fiskaly.signature_counter() == "2"
    fiskaly.control("POST", "/clock", {"advance": 60})
    assert fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT) == first
    assert fiskaly.tse.finish(TSS, CLIENT, TX, None) == first  # nor canceled once finished
    assert fiskaly.signature_counter() == "2"
    writes = [call["query"] for call in fiskaly.stand_in.requests if call["method"] == "PUT" and "/tx/" in call["path"]]
    assert writes == [{"tx_revision": "1"}, {"tx_revision": "2"}]


def test_a_start_repeated_after_the_finish_changes_nothing(fiskaly):
    fiskaly.ready()
    fiskaly.tse.start(TSS, CLIENT, TX)
    fiskaly.tse.start(TSS, CLIENT, TX)  # the same request: fiskaly answers it as the first time
    signed = fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT)
    fiskaly.tse.start(TSS, CLIENT, TX)  # revision 1 is taken: E_TX_UPSERT, and the transaction is there
    assert fiskaly.signature_counter() == "2"
    assert fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT) == signed


def test_a_sale_never_started_is_started_and_finished_by_its_finish(fiskaly):
    fiskaly.ready()
    signed = fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT)
    assert (signed.number, signed.signature_counter, signed.state) == (1, 2, "FINISHED")
    assert signed.time_start == signed.time_end == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert [(log["operation"], log["signature_counter"]) for log in fiskaly.logs()] == [
        ("StartTransaction", 1),
        ("FinishTransaction", 2),
    ]


def test_a_canceled_sale_is_signed_without_data(fiskaly):
    info = fiskaly.ready()
    fiskaly.tse.start(TSS, CLIENT, TX)
    canceled = fiskaly.tse.finish(TSS, CLIENT, TX, None)
    assert (canceled.state, canceled.number, canceled.signature_counter) == ("CANCELLED", 1, 2)
    assert verify(info.public_key, canceled.signature, log_message("FinishTransaction", SERIAL, "", "", 1, 2, NOW))
    assert fiskaly.stand_in.requests[-1]["body"] == {"state": "CANCELLED", "client_id": CLIENT}


def test_counters_ascend_over_a_tss_and_every_signature_verifies(fiskaly):
    info = fiskaly.ready()
    first, second, third = (str(uuid.UUID(int=n, version=4)) for n in (1, 2, 3))
    fiskaly.tse.start(TSS, CLIENT, first)
    fiskaly.tse.start(TSS, CLIENT, second)
    fiskaly.control("POST", "/clock", {"advance": 5})
    assert fiskaly.tse.finish(TSS, CLIENT, second, RECEIPT).signature_counter == 3
    assert fiskaly.tse.finish(TSS, CLIENT, first, None).signature_counter == 4
    assert fiskaly.tse.finish(TSS, CLIENT, third, RECEIPT).number == 3
    logs = fiskaly.logs()
    assert [(log["operation"], log["number"], log["signature_counter"]) for log in logs] == [
        ("StartTransaction", 1, 1),
        ("StartTransaction", 2, 2),
        ("FinishTransaction", 2, 3),
        ("FinishTransaction", 1, 4),
        ("StartTransaction", 3, 5),
        ("FinishTransaction", 3, 6),
    ]
    for log in logs:
        fields = ("operation", "client_serial_number", "process_type", "process_data", "number")
        message = log_message(*(log[name] for name in fields), log["signature_counter"], log["log_time"])
        assert verify(info.public_key, log["signature"], message)
    listed = fiskaly.control("GET", f"/tss/{TSS}/tx")["transactions"]
    assert [(tx["_id"], tx["state"]) for tx in listed] == [
        (first, "CANCELLED"),
        (second, "FINISHED"),
        (third, "FINISHED"),
    ]


def test_the_tse_answering_503_is_unavailable_until_it_is_back(fiskaly):
    fiskaly.ready()
    assert fiskaly.signature_counter() == "0"
    fiskaly.control("POST", "/outage", {"seconds": 60})
    with pytest.raises(TseUnavailable):
        fiskaly.tse.start(TSS, CLIENT, TX)
    with pytest.raises(TseUnavailable):
        fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT)
    refused = fiskaly.raw("GET", f"/tss/{TSS}")
    assert refusal(refused) == (503, "E_TSS_LOCKED") and refused.headers["Retry-After"] == "60"
    fiskaly.control("POST", "/clock", {"advance": 60})
    assert fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT).signature_counter == 2  # nothing was signed meanwhile


def test_a_tse_that_does_not_answer_is_unavailable_once_the_timeout_passes():
    fiskaly = Fiskaly(timeout=0.2)
    try:
        fiskaly.ready()
        fiskaly.control("POST", "/outage", {"seconds": 600, "hang": True})
        with pytest.raises(TseUnavailable) as unavailable:
            fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT)
        assert "timed out" in str(unavailable.value)
        fiskaly.control("DELETE", "/outage")
        assert fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT).state == "FINISHED"
    finally:
        fiskaly.server.shutdown()


@pytest.mark.parametrize(
    ("meanwhile", "outcome"),
    [({"state": "ACTIVE"}, "E_TX_UPSERT"), ({"state": "CANCELLED"}, "CANCELLED")],
    ids=["updated: a conflict", "canceled: returned as it was"],
)
def test_another_writer_between_the_read_and_the_finish(fiskaly, monkeypatch, meanwhile, outcome):
    fiskaly.ready()
    fiskaly.tse.start(TSS, CLIENT, TX)
    read, written = fiskaly.tse._found, []

    def read_then_another_writer(path: str):
        seen = read(path)
        if not written:  # another till writes revision 2 after our read and before our write
            written.append(fiskaly.raw("PUT", f"/tss/{TSS}/tx/{TX}", meanwhile | {"client_id": CLIENT}, tx_revision=2))
        return seen

    monkeypatch.setattr(fiskaly.tse, "_found", read_then_another_writer)
    if outcome == "E_TX_UPSERT":
        with pytest.raises(FiskalyError) as conflict:
            fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT)
        assert (conflict.value.code, conflict.value.message) == (
            "E_TX_UPSERT",
            "tx_revision 2 is not above the latest, 2",
        )
        assert fiskaly.raw("GET", f"/tss/{TSS}/tx/{TX}").json()["state"] == "ACTIVE"
    else:
        assert fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT).state == "CANCELLED"
    assert fiskaly.signature_counter() == "2"  # the start and the other writer's revision; ours signed nothing


def test_an_expired_token_is_renewed_once_and_the_call_goes_through(fiskaly):
    fiskaly.ready()
    fiskaly.control("POST", "/clock", {"advance": TOKEN_LIFETIME})
    done = len(fiskaly.stand_in.requests)
    fiskaly.tse.start(TSS, CLIENT, TX)
    assert [(call["path"].rsplit("/", 1)[-1], call["status"]) for call in fiskaly.stand_in.requests[done:]] == [
        (TX, 401),
        ("auth", 200),
        (TX, 200),
    ]


def test_credentials_fiskaly_refuses_are_an_error_and_none_at_all_an_outage(fiskaly):
    with pytest.raises(FiskalyError) as refused:
        FiskalyTse(fiskaly.url, KEY, "not-the-secret").ensure_tss(TSS, PIN)
    assert (refused.value.code, refused.value.message) == ("E_UNAUTHORIZED", "Invalid API key or secret")
    asked = len(fiskaly.stand_in.requests)
    with pytest.raises(TseUnavailable) as unconfigured:
        FiskalyTse(fiskaly.url, "", "").ensure_tss(TSS, PIN)
    assert "FISKALY_API_KEY" in str(unconfigured.value)
    assert len(fiskaly.stand_in.requests) == asked


def test_request_threads_share_one_token_and_each_sale_gets_its_own_signature(fiskaly):
    info = fiskaly.ready()
    tse = FiskalyTse(fiskaly.url, KEY, SECRET, timeout=5)  # a fresh process: no token yet
    together = threading.Barrier(8)
    done = len(fiskaly.stand_in.requests)

    def sale(n: int) -> SignedTransaction:
        together.wait()
        transaction = str(uuid.UUID(int=n, version=4))
        tse.start(TSS, CLIENT, transaction)
        return tse.finish(TSS, CLIENT, transaction, RECEIPT)

    with ThreadPoolExecutor(8) as pool:
        signed = list(pool.map(sale, range(1, 9)))
    assert [call["path"] for call in fiskaly.stand_in.requests[done:]].count("/api/v2/auth") == 1
    assert sorted(transaction.number for transaction in signed) == list(range(1, 9))
    assert [log["signature_counter"] for log in fiskaly.logs()] == list(range(1, 17))
    for transaction in signed:
        message = log_message(
            "FinishTransaction", SERIAL, "Kassenbeleg-V1", SIGNED_RECEIPT, transaction.number,
            transaction.signature_counter, NOW,
        )  # fmt: skip
        assert verify(info.public_key, transaction.signature, message)


# --- the stand-in holds Tresen to fiskaly's rules ---


def test_the_stand_in_holds_a_tss_to_its_life_cycle(fiskaly):
    created = fiskaly.raw("PUT", f"/tss/{TSS}", {})
    puk = created.json()["admin_puk"]
    assert (created.json()["state"], len(puk)) == ("CREATED", 10)
    assert refusal(fiskaly.raw("PATCH", f"/tss/{TSS}", {"state": "INITIALIZED"})) == (400, "E_ILLEGAL_TSS_STATE_CHANGE")
    assert refusal(fiskaly.raw("PATCH", f"/tss/{TSS}/admin", {"admin_puk": puk, "new_admin_pin": PIN})) == (
        400,
        "E_TSS_NOT_INITIALIZED",
    )
    assert fiskaly.raw("PATCH", f"/tss/{TSS}", {"state": "UNINITIALIZED"}).json()["state"] == "UNINITIALIZED"
    assert refusal(fiskaly.raw("PUT", f"/tss/{TSS}", {})) == (409, "E_TSS_CONFLICT")  # the PUK shows no more
    assert refusal(fiskaly.raw("POST", f"/tss/{TSS}/admin/auth", {"admin_pin": PIN})) == (423, "E_ADMIN_PIN_BLOCKED")
    wrong_puk = {"admin_puk": "AAAAAAAAAA", "new_admin_pin": PIN}
    assert refusal(fiskaly.raw("PATCH", f"/tss/{TSS}/admin", wrong_puk)) == (400, "E_CHANGE_ADMIN_PIN_FAILED")
    assert fiskaly.raw("PATCH", f"/tss/{TSS}/admin", {"admin_puk": puk, "new_admin_pin": PIN}).json() == {}
    assert refusal(fiskaly.raw("PATCH", f"/tss/{TSS}", {"state": "INITIALIZED"})) == (401, "E_UNAUTHORIZED")
    started = {"state": "ACTIVE", "client_id": CLIENT}
    assert refusal(fiskaly.raw("PUT", f"/tss/{TSS}/tx/{TX}", started, tx_revision=1)) == (400, "E_TSS_NOT_INITIALIZED")
    assert fiskaly.raw("POST", f"/tss/{TSS}/admin/auth", {"admin_pin": PIN}).json() == {}
    assert fiskaly.raw("PATCH", f"/tss/{TSS}", {"state": "INITIALIZED"}).json()["state"] == "INITIALIZED"
    assert fiskaly.raw("POST", f"/tss/{TSS}/admin/logout", {}).json() == {}
    till = {"serial_number": SERIAL}
    assert refusal(fiskaly.raw("PUT", f"/tss/{TSS}/client/{CLIENT}", till)) == (401, "E_UNAUTHORIZED")


def test_the_stand_in_holds_transactions_to_ascending_revisions_of_the_tss_own_clients(fiskaly):
    fiskaly.ready()
    path, started = f"/tss/{TSS}/tx/{TX}", {"state": "ACTIVE", "client_id": CLIENT}
    first = fiskaly.raw("PUT", path, started, tx_revision=1).json()
    assert fiskaly.raw("PUT", path, started, tx_revision=1).json() == first  # the same request, answered again
    assert fiskaly.signature_counter() == "1"
    finished = {"state": "FINISHED", "client_id": CLIENT, "schema": {"standard_v1": {"receipt": {
        "receipt_type": "RECEIPT", "amounts_per_vat_rate": [{"vat_rate": "NORMAL", "amount": "1.00"}],
    }}}}  # fmt: skip
    assert refusal(fiskaly.raw("PUT", path, finished, tx_revision=1)) == (400, "E_TX_UPSERT")
    assert refusal(fiskaly.raw("PUT", path, finished, tx_revision=0)) == (400, "E_TX_UPSERT")
    assert refusal(fiskaly.raw("PUT", path, {"state": "FINISHED", "client_id": CLIENT}, tx_revision=2)) == (
        400,
        "E_FAILED_SCHEMA_VALIDATION",
    )
    assert fiskaly.raw("PUT", path, finished, tx_revision=2).json()["state"] == "FINISHED"
    assert refusal(fiskaly.raw("PUT", path, started, tx_revision=3)) == (400, "E_TX_UPSERT")
    other_tss, other_client = str(uuid.uuid4()), str(uuid.uuid4())
    fiskaly.tse.ensure_tss(other_tss, PIN)
    fiskaly.tse.ensure_client(other_tss, PIN, other_client, "another-till")
    theirs = {"state": "ACTIVE", "client_id": other_client}
    assert refusal(fiskaly.raw("PUT", f"/tss/{TSS}/tx/{uuid.uuid4()}", theirs, tx_revision=1)) == (
        400,
        "E_CLIENT_NOT_FOUND",
    )
    assert refusal(fiskaly.raw("GET", f"/tss/{TSS}/client/{other_client}")) == (404, "E_CLIENT_NOT_FOUND")
    assert fiskaly.raw("GET", f"/tss/{TSS}/tx/1").json()["_id"] == TX  # by its number too
    assert fiskaly.raw("GET", path, tx_revision=1).json() | {"latest_revision": 1} == first


# --- shapes ---

OPERATIONS = [
    (name, spec["method"], re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(spec["path"]))))
    for name, spec in FIELDS["requests"].items()
]


def operation_of(call: dict) -> str:
    [name] = [name for name, method, path in OPERATIONS if method == call["method"] and path.fullmatch(call["path"])]
    return name


def off_shape(instance: dict, schema: str) -> list[str]:
    """Fields `instance` lacks or has beyond fiskaly's schema of that name."""
    spec = FIELDS["schemas"][schema]
    missing = [f"{schema}: lacks {name}" for name in spec["required"] if name not in instance]
    return missing + [f"{schema}: has {name}" for name in instance if name not in spec["properties"]]


def off_receipt(receipt: dict) -> list[str]:
    enums = FIELDS["enums"]
    found = off_shape(receipt, "ProcessDataStandardV1Receipt")
    found += [] if receipt["receipt_type"] in enums["receipt_type"] else [f"receipt_type {receipt['receipt_type']}"]
    for lines, kind in (("amounts_per_vat_rate", "vat_rate"), ("amounts_per_payment_type", "payment_type")):
        for line in receipt.get(lines, []):
            found += off_shape(line, f"{lines}[]")
            found += [] if line[kind] in enums[kind] else [f"{kind} {line[kind]}"]
            found += [] if re.fullmatch(enums["amount_pattern"], line["amount"]) else [f"amount {line['amount']}"]
    return found


def off_transaction(answer: dict) -> list[str]:
    found = off_shape(answer, "TxResponse") + off_shape(answer["log"], "TxResponse.log")
    found += off_shape(answer["signature"], "TxResponse.signature")
    found += [] if answer["state"] in FIELDS["enums"]["TxState"] else [f"state {answer['state']}"]
    found += [] if answer["log"]["operation"] in FIELDS["enums"]["TxLogOperationType"] else ["log.operation"]
    receipt = answer.get("schema", {}).get("standard_v1", {}).get("receipt")
    return found + (off_receipt(receipt) if receipt else [])


def test_what_tresen_sends_and_the_stand_in_answers_has_fiskalys_fields(fiskaly):
    fiskaly.ready()
    fiskaly.tse.start(TSS, CLIENT, TX)
    fiskaly.tse.finish(TSS, CLIENT, TX, RECEIPT)
    fiskaly.tse.finish(TSS, CLIENT, str(uuid.uuid4()), None)
    fiskaly.tse.start(TSS, CLIENT, TX)
    calls = [(operation_of(call), call) for call in fiskaly.stand_in.requests if call["path"] != "/api/v2/auth"]
    assert {name for name, _ in calls} == set(FIELDS["requests"]) - {"authenticateApi"}
    found = []
    for name, call in calls:
        spec = FIELDS["requests"][name]
        found += [f"{name}: sends {field}" for field in call["body"] if field not in spec["properties"]]
        found += [f"{name}: lacks {field}" for field in spec["required"] if field not in call["body"]]
        found += [f"{name}: asks {field}" for field in call["query"] if field not in spec.get("query", [])]
        if "schema" in call["body"]:
            found += off_shape(call["body"]["schema"], "TxSchema") + off_shape(
                call["body"]["schema"]["standard_v1"], "ProcessDataV1"
            )
            found += off_receipt(call["body"]["schema"]["standard_v1"]["receipt"])
        answer, schema = call["answer"], FIELDS["responses"].get(name)
        if call["status"] >= 400:
            found += [] if sorted(answer) == ERROR_FIELDS else [f"{name}: error {sorted(answer)}"]
        elif schema == "TxResponse":
            found += off_transaction(answer)
        elif schema:
            found += off_shape(answer, schema)
    assert found == []
    granted = fiskaly.stand_in.requests[0]
    assert granted["path"] == "/api/v2/auth" and off_shape(granted["answer"], "AuthenticationResponse") == []
    assert sorted(granted["body"]) == FIELDS["requests"]["authenticateApi"]["properties"]
