"""KmsSigner through the real Cloud KMS client library (REST transport) against tests/fake_kms.py."""

from __future__ import annotations

import base64

import google_crc32c
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fake_kms import VERSION, FakeKms
from tresen.adapters.kms_signer import EC_SIGN_ED25519, KmsSigner, KmsSignerError
from tresen.domain import signed_note
from tresen.domain.checkpoint import Checkpoint, parse_checkpoint

NAME = "tresen/demo-tresen"
ORIGIN = "tresen/demo-tresen/store-1"


@pytest.fixture
def fake():
    fake = FakeKms()
    fake.start()
    yield fake
    fake.stop()


def test_a_checkpoint_signed_in_kms_opens_with_the_key_it_publishes(fake):
    signer = KmsSigner(fake.client(), VERSION, NAME)
    body = Checkpoint(ORIGIN, 13, bytes(range(32))).body()

    note = signed_note.sign_note(body, NAME, signer.sign, signer.verifier.key_id)

    opened = signed_note.open_note(note, [signer.verifier])
    assert opened.text == body
    assert parse_checkpoint(opened.text).size == 13
    assert signer.verifier == signed_note.Verifier(NAME, fake.public_key)
    assert signer.verifier.key_id == signed_note.key_id(NAME, fake.public_key)
    # the signature line carries that key id
    signature_line = note.rsplit("\n", 2)[-2]
    assert signed_note.decode_base64(signature_line.split(" ")[-1], "signature")[:4] == signed_note.key_id(
        NAME, fake.public_key
    )
    # and a note is not opened by some other key of the same name
    other = signed_note.Verifier(NAME, Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    with pytest.raises(signed_note.NoteError):
        signed_note.open_note(note, [other])


def test_kms_is_sent_the_message_itself_with_its_crc32c(fake):
    signer = KmsSigner(fake.client(), VERSION, NAME)
    message = b"tresen/demo-tresen/store-1\n1\n" + bytes(range(256))

    signer.sign(message)

    get, post = fake.requests
    assert (get["method"], get["path"]) == ("GET", f"/v1/{VERSION}/publicKey")
    assert (post["method"], post["path"]) == ("POST", f"/v1/{VERSION}:asymmetricSign")
    assert base64.b64decode(post["body"]["data"]) == message  # PureEdDSA: the message, not a digest
    assert "digest" not in post["body"]
    assert int(post["body"]["dataCrc32c"]) == google_crc32c.value(message)


def test_the_public_key_is_fetched_once(fake):
    signer = KmsSigner(fake.client(), VERSION, NAME)
    for n in range(3):
        signer.sign(b"note %d\n" % n)
    assert [request["method"] for request in fake.requests] == ["GET", "POST", "POST", "POST"]


def test_the_algorithm_constant_is_the_librarys():
    from google.cloud import kms

    assert kms.CryptoKeyVersion.CryptoKeyVersionAlgorithm.EC_SIGN_ED25519 == EC_SIGN_ED25519


def test_for_key_version_builds_the_client_itself(fake, monkeypatch):
    from google.cloud import kms

    built, real_client = [], fake.client()

    def client(*args, **kwargs):  # the real constructor would look for Google credentials
        built.append((args, kwargs))
        return real_client

    monkeypatch.setattr(kms, "KeyManagementServiceClient", client)
    signer = KmsSigner.for_key_version(VERSION, NAME)
    assert built == [((), {})]
    assert signer.verifier.public_key == fake.public_key


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pemCrc32c": "1"}, "pem_crc32c"),
        ({"pemCrc32c": None}, "pem_crc32c"),
        ({"pem": "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"}, "pem_crc32c"),
        ({"name": VERSION.replace("/1", "/2")}, "cryptoKeyVersions/2"),
        ({"name": None}, "got that of ''"),
        ({"algorithm": 12}, "not an EC_SIGN_ED25519 key"),  # EC_SIGN_P256_SHA256
        ({"algorithm": None}, "not an EC_SIGN_ED25519 key"),
        ({"pem": "not a key", "pemCrc32c": str(google_crc32c.value(b"not a key"))}, "not a PEM key"),
    ],
)
def test_a_public_key_that_cannot_be_trusted_is_refused(fake, overrides, message):
    fake.public_key_overrides = overrides
    with pytest.raises(KmsSignerError, match=message):
        KmsSigner(fake.client(), VERSION, NAME)


def test_a_pem_that_is_not_ed25519_is_refused(fake):
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    fake.public_key_overrides = {"pem": pem.decode(), "pemCrc32c": str(google_crc32c.value(pem))}
    with pytest.raises(KmsSignerError, match="not an Ed25519 key"):
        KmsSigner(fake.client(), VERSION, NAME)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"signatureCrc32c": "12345"}, "signature_crc32c"),
        ({"signatureCrc32c": None}, "signature_crc32c"),
        ({"verifiedDataCrc32c": False}, "data_crc32c not verified"),
        ({"verifiedDataCrc32c": None}, "data_crc32c not verified"),
        ({"name": None}, "'' answered"),
        ({"name": VERSION.replace("/1", "/2")}, "cryptoKeyVersions/2"),
        (
            {"signature": base64.b64encode(bytes(64)).decode(), "signatureCrc32c": str(google_crc32c.value(bytes(64)))},
            "does not verify",
        ),
    ],
)
def test_a_signature_that_cannot_be_trusted_is_refused(fake, overrides, message):
    signer = KmsSigner(fake.client(), VERSION, NAME)
    fake.sign_overrides = overrides
    with pytest.raises(KmsSignerError, match=message):
        signer.sign(b"a note\n")


def test_a_signature_by_another_key_is_refused(fake):
    signer = KmsSigner(fake.client(), VERSION, NAME)
    fake.private_key = Ed25519PrivateKey.generate()  # the key version changed under us
    with pytest.raises(KmsSignerError, match="does not verify"):
        signer.sign(b"a note\n")


def test_api_errors_become_kms_signer_errors(fake):
    with pytest.raises(KmsSignerError, match="public key"):
        KmsSigner(fake.client(), VERSION.replace("/1", "/9"), NAME)  # 404 NOT_FOUND

    signer = KmsSigner(fake.client(), VERSION, NAME)
    fake.refusal = (403, "PERMISSION_DENIED")
    with pytest.raises(KmsSignerError, match="did not sign"):
        signer.sign(b"a note\n")
