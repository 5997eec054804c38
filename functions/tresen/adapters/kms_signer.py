"""Signs checkpoints with an Ed25519 key version in Cloud KMS (EC_SIGN_ED25519); the private key
never leaves KMS.

Ed25519 in KMS is PureEdDSA: the message itself goes to `asymmetricSign` as `data`, not a digest.
Every request and response carries the CRC32C checks Google documents for Cloud KMS
(cloud.google.com/kms/docs/data-integrity-guidelines), and each signature is verified against the
public key before it is returned, so a checkpoint signed by anything but this key is never published.
"""

from __future__ import annotations

from typing import Any

import google_crc32c
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from google.api_core.exceptions import GoogleAPIError

from ..domain.signed_note import Verifier

# CryptoKeyVersion.CryptoKeyVersionAlgorithm.EC_SIGN_ED25519, spelled out so importing this module
# does not import the KMS library (only `for_key_version` needs it).
EC_SIGN_ED25519 = 40


class KmsSignerError(RuntimeError):
    """Cloud KMS failed, or answered with something that cannot be trusted to be this key's."""


def crc32c(data: bytes) -> int:
    return google_crc32c.value(data)


class KmsSigner:
    """The Signer port over a `KeyManagementServiceClient` (or anything with its `get_public_key`
    and `asymmetric_sign`). The public key is fetched once, here: it never changes for a key version."""

    def __init__(self, client: Any, version_name: str, key_name: str):
        self._client = client
        self._version = version_name
        self.verifier: Verifier = Verifier(key_name, self._public_key())

    @classmethod
    def for_key_version(cls, version_name: str, key_name: str) -> KmsSigner:
        """`version_name` is projects/…/locations/…/keyRings/…/cryptoKeys/…/cryptoKeyVersions/N."""
        from google.cloud import kms  # only production signs in KMS; dev and tests never load it

        return cls(kms.KeyManagementServiceClient(), version_name, key_name)

    def _public_key(self) -> bytes:
        try:
            response = self._client.get_public_key(request={"name": self._version})
        except GoogleAPIError as error:
            raise KmsSignerError(f"Cloud KMS did not return the public key of {self._version}: {error}") from error
        if response.name != self._version:
            raise KmsSignerError(f"asked for the public key of {self._version}, got that of {response.name!r}")
        if response.pem_crc32c != crc32c(response.pem.encode()):
            raise KmsSignerError("the public key was corrupted in transit (pem_crc32c does not match)")
        if response.algorithm != EC_SIGN_ED25519:
            raise KmsSignerError(f"{self._version} is not an EC_SIGN_ED25519 key (algorithm {response.algorithm!r})")
        try:
            key = load_pem_public_key(response.pem.encode())
        except ValueError as error:
            raise KmsSignerError(f"the public key of {self._version} is not a PEM key") from error
        if not isinstance(key, Ed25519PublicKey):
            raise KmsSignerError(f"the public key of {self._version} is not an Ed25519 key")
        return key.public_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        try:
            response = self._client.asymmetric_sign(
                request={"name": self._version, "data": message, "data_crc32c": crc32c(message)}
            )
        except GoogleAPIError as error:
            raise KmsSignerError(f"Cloud KMS did not sign with {self._version}: {error}") from error
        # KMS sets verified_data_crc32c only when the data it received matched our checksum.
        if not response.verified_data_crc32c:
            raise KmsSignerError("the message was corrupted on its way to Cloud KMS (data_crc32c not verified)")
        if response.name != self._version:
            raise KmsSignerError(f"asked {self._version} to sign, {response.name!r} answered")
        if response.signature_crc32c != crc32c(response.signature):
            raise KmsSignerError("the signature was corrupted in transit (signature_crc32c does not match)")
        if not self.verifier.verifies(message, response.signature):
            raise KmsSignerError(f"the signature from {self._version} does not verify under its public key")
        return response.signature
