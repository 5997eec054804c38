"""The fiskaly adapter's pure parts (adapters/fiskaly.py): the receipt in fiskaly's shape with its
amounts as decimal strings, fiskaly's answers read into the port's types, its failures sorted into an
outage or an error to fix, and the settings it is built from. No HTTP."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tresen.adapters.fiskaly import (
    FiskalyError,
    FiskalyTse,
    answer_of,
    certificate_body,
    finish_body,
    receipt_schema,
    signed_transaction,
    token_lifetime,
    tss_info,
)
from tresen.config import FISKALY_BASE, ConfigError, load_settings
from tresen.domain.tse import TseReceipt
from tresen.services.tse_ports import SignedTransaction, TseUnavailable, TssInfo

FISKALY_AMOUNT = re.compile(r"^-?\d+(\.\d{2,5})$")  # fiskaly's pattern for every amount of a receipt
CLIENT = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
# an answer of fiskaly's to a finish (upsertTransaction), as its OpenAPI document describes it
FINISHED = {
    "number": 18,
    "time_start": 1767258000,
    "time_end": 1767258042,
    "client_serial_number": "tresen-till-1",
    "tss_serial_number": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "state": "FINISHED",
    "client_id": CLIENT,
    "revision": 2,
    "latest_revision": 2,
    "tss_id": "3f6c1a52-8d0e-4b7a-9c21-5e4d3b2a1f00",
    "_type": "TRANSACTION",
    "_id": "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b",
    "_env": "TEST",
    "_version": "2.2.2",
    "log": {"operation": "Finish", "timestamp": 1767258042, "timestamp_format": "unixTime"},
    "signature": {"value": "c2lnbmF0dXJl", "algorithm": "ecdsa-plain-SHA384", "counter": 112, "public_key": "BHhW"},
}


def test_a_receipt_goes_to_fiskaly_as_its_standard_v1_receipt():
    receipt = TseReceipt((("NORMAL", 1234), ("REDUCED_1", 550), ("NULL", 200)), (("CASH", 984), ("NON_CASH", 1000)))
    assert receipt_schema(receipt) == {
        "receipt_type": "RECEIPT",
        "amounts_per_vat_rate": [
            {"vat_rate": "NORMAL", "amount": "12.34"},
            {"vat_rate": "REDUCED_1", "amount": "5.50"},
            {"vat_rate": "NULL", "amount": "2.00"},
        ],
        "amounts_per_payment_type": [
            {"payment_type": "CASH", "amount": "9.84"},
            {"payment_type": "NON_CASH", "amount": "10.00"},
        ],
    }


@pytest.mark.parametrize(
    ("cents", "amount"),
    [(1234, "12.34"), (5, "0.05"), (100, "1.00"), (0, "0.00"), (-150, "-1.50"), (123456789, "1234567.89")],
)
def test_amounts_are_decimal_strings_with_two_places_from_the_cents(cents, amount):
    schema = receipt_schema(TseReceipt((("NORMAL", cents),), (("CASH", cents),)))
    sent = {schema["amounts_per_vat_rate"][0]["amount"], schema["amounts_per_payment_type"][0]["amount"]}
    assert sent == {amount}
    assert FISKALY_AMOUNT.fullmatch(amount)


def test_a_sale_finishes_with_its_receipt_and_a_cancel_with_none():
    receipt = TseReceipt((("NORMAL", 119),), (("NON_CASH", 119),))
    assert finish_body(CLIENT, receipt) == {
        "state": "FINISHED",
        "client_id": CLIENT,
        "schema": {"standard_v1": {"receipt": receipt_schema(receipt)}},
    }
    assert finish_body(CLIENT, None) == {"state": "CANCELLED", "client_id": CLIENT}


@pytest.mark.parametrize("counter", [112, "112"], ids=["a number, as the middleware sends it", "a string, as typed"])
def test_a_finished_transaction_is_read_into_the_signed_transaction(counter):
    answer = FINISHED | {"signature": FINISHED["signature"] | {"counter": counter}}
    assert signed_transaction(answer) == SignedTransaction(
        number=18,
        state="FINISHED",
        signature_counter=112,
        signature="c2lnbmF0dXJl",
        time_start=datetime(2026, 1, 1, 9, 0, tzinfo=UTC),
        time_end=datetime(2026, 1, 1, 9, 0, 42, tzinfo=UTC),
        tss_serial="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        client_serial="tresen-till-1",
        public_key="BHhW",
        signature_algorithm="ecdsa-plain-SHA384",
        log_time_format="unixTime",
    )


def test_an_answer_lacking_a_field_is_an_error_naming_it():
    with pytest.raises(FiskalyError) as unexpected:
        signed_transaction({key: value for key, value in FINISHED.items() if key != "time_end"})
    assert (unexpected.value.code, unexpected.value.message) == (
        "E_UNEXPECTED_ANSWER",
        "fiskaly's transaction lacks or garbles 'time_end'",
    )


def certificate_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tss")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def test_the_certificate_is_kept_as_the_body_of_its_pem():
    pem = certificate_pem()
    body = "".join(pem.decode().splitlines()[1:-1])
    assert certificate_body(base64.b64encode(pem).decode()) == body  # fiskaly's: base64 of the PEM text
    assert certificate_body(body) == body  # base64 of the DER already
    assert x509.load_der_x509_certificate(base64.b64decode(body)).public_bytes(serialization.Encoding.PEM) == pem


def test_a_tss_is_read_into_the_tss_info():
    pem = certificate_pem()
    tss = {
        "serial_number": "9f86d081",
        "public_key": "BHhW",
        "signature_algorithm": "ecdsa-plain-SHA384",
        "signature_timestamp_format": "unixTime",
        "certificate": base64.b64encode(pem).decode(),
        "time_creation": 1767258000,
        "state": "INITIALIZED",
    }
    assert tss_info("3f6c1a52", tss) == TssInfo(
        tss_id="3f6c1a52",
        serial_number="9f86d081",
        public_key="BHhW",
        signature_algorithm="ecdsa-plain-SHA384",
        log_time_format="unixTime",
        certificate="".join(pem.decode().splitlines()[1:-1]),
        created_at=datetime(2026, 1, 1, 9, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (503, '{"status_code":503,"error":"Service Unavailable","code":"E_TSS_LOCKED","message":"maintenance"}'),
        (502, "<html>Bad Gateway</html>"),
        (500, ""),
        (429, '{"status_code":429,"error":"Too Many Requests","message":"slow down"}'),
        (499, ""),
        (409, '{"status_code":409,"error":"Conflict","code":"E_PENDING_TX_CONFLICT","message":"busy"}'),
        (200, "<html>a proxy's page</html>"),
        (200, "[]"),
    ],
)
def test_an_outage_or_a_retry_fiskaly_asks_for_is_the_tse_unavailable(status, text):
    with pytest.raises(TseUnavailable):
        answer_of(status, text)


@pytest.mark.parametrize(
    ("status", "text", "code", "message"),
    [
        (
            400,
            '{"status_code":400,"error":"Bad Request","code":"E_TX_UPSERT","message":"tx_revision 2 is taken"}',
            "E_TX_UPSERT",
            "tx_revision 2 is taken",
        ),
        (
            401,
            '{"status_code":401,"error":"Unauthorized","code":"E_UNAUTHORIZED","message":"no"}',
            "E_UNAUTHORIZED",
            "no",
        ),
        (404, "Not Found", "HTTP_404", "Not Found"),
    ],
)
def test_any_other_refusal_is_an_error_with_fiskalys_code_and_message(status, text, code, message):
    with pytest.raises(FiskalyError) as refused:
        answer_of(status, text)
    assert (refused.value.code, refused.value.message) == (code, message)


def test_an_answer_is_its_json_object():
    assert answer_of(200, '{"state": "INITIALIZED"}') == {"state": "INITIALIZED"}
    assert answer_of(200, "") == {}  # an answer without a body


@pytest.mark.parametrize(
    ("granted", "seconds"),
    [
        ({"access_token_expires_in": 86400, "access_token_expires_at": 1767344400}, 86400.0),
        ({"access_token_expires_at": 1767259800}, 1800.0),
        ({}, 0.0),
        ({"access_token_expires_at": 1767257000}, 0.0),
    ],
)
def test_a_token_lives_as_long_as_fiskaly_says(granted, seconds):
    assert token_lifetime(granted, now=1767258000.0) == seconds


def test_without_key_and_secret_the_tse_is_unavailable_and_nothing_is_sent():
    tse = FiskalyTse("http://127.0.0.1:9", "", "")  # nothing listens there: a request would fail otherwise
    with pytest.raises(TseUnavailable) as unavailable:
        tse.start("3f6c1a52-8d0e-4b7a-9c21-5e4d3b2a1f00", CLIENT, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b")
    assert str(unavailable.value) == (
        "fiskaly is not configured here: FISKALY_API_KEY or FISKALY_API_SECRET is not set"
    )


PROD = {
    "K_SERVICE": "tresen-api",
    "GOOGLE_CLOUD_PROJECT": "tresen-prod",
    "TRESEN_ARCHIVE_BUCKET": "tresen-archive",
    "TRESEN_SIGNING_KEY": "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
    "FUNCTION_TARGET": "exports",
}


def test_fiskaly_settings_in_dev_production_and_a_stand_in():
    dev = load_settings({})
    assert (dev.fiskaly_api_base, dev.fiskaly_api_key, dev.fiskaly_api_secret) == (
        FISKALY_BASE,
        "fiskaly-key-dev",
        "fiskaly-secret-dev",
    )
    assert load_settings({"FISKALY_API_BASE": "http://127.0.0.1:5000"}).fiskaly_api_base == "http://127.0.0.1:5000"
    unset = load_settings(PROD)  # optional: without them sales on site are marked TSE-failed
    assert (unset.fiskaly_api_base, unset.fiskaly_api_key, unset.fiskaly_api_secret) == (FISKALY_BASE, "", "")
    given = load_settings(PROD | {"FISKALY_API_KEY": "test_key", "FISKALY_API_SECRET": "test_secret"})
    assert (given.fiskaly_api_key, given.fiskaly_api_secret) == ("test_key", "test_secret")
    with pytest.raises(ConfigError) as refused:
        load_settings(PROD | {"FISKALY_API_BASE": "http://127.0.0.1:5000"})
    assert str(refused.value) == "refusing to start in production: FISKALY_API_BASE is set (a local stand-in)"
