"""Payload encryption: citizens' data reaches the Temporal server only as AES-256-GCM ciphertext.

Each payload is serialized whole (data and metadata), encrypted under the active key with a
fresh nonce, and stored with the key's id in its metadata, so that keys can rotate: a payload
decrypts with whichever key of the keyring it names. Payloads without the encrypted encoding
(histories recorded before encryption) pass through decoding unchanged.

    PAYLOAD_KEYS="k2:BASE64KEY,k1:BASE64KEY"    # the first key encrypts; all of them decrypt
    python -m runtime.codec                      # prints a new random key (base64 of 32 bytes)
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from runtime.secret_files import InsecureSecretFile, read_or_create

__all__ = [
    "ENCODING",
    "EncryptionCodec",
    "KeyringError",
    "PayloadDecryptionError",
    "data_converter",
    "dev_keyring",
    "generate_key",
    "load_keyring",
]

ENCODING = b"binary/encrypted"
CIPHER = b"AES-256-GCM"
KEY_ID = "encryption-key-id"
KEY_BYTES, NONCE_BYTES, TAG_BYTES = 32, 12, 16
_KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")


class KeyringError(ValueError):
    """The keyring's configuration is wrong (the message names what, never the key material)."""


class PayloadDecryptionError(ValueError):
    """An encrypted payload cannot be decrypted: unknown key id, or tampered or malformed data."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise KeyringError(f"active key id {active_key_id!r} is not in the keyring")
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id!r} is {len(key)} bytes: must be {KEY_BYTES} bytes")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active_key_id = active_key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key_id = self.active_key_id.encode()
        cipher = self._ciphers[self.active_key_id]
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), key_id)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID: key_id, "encryption-cipher": CIPHER},
                    data=nonce + sealed,
                )
            )
        return encoded

    def seal_text(self, text: str, purpose: bytes) -> str:
        """`KEY_ID:BASE64(nonce + ciphertext)` of `text`, for personal data kept outside Temporal
        (an applicant's contact details in the records store). `purpose` is authenticated too,
        so a value sealed for one column does not open as another's."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active_key_id].encrypt(
            nonce, text.encode(), self.active_key_id.encode() + b"/" + purpose
        )
        return f"{self.active_key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def open_text(self, value: str, purpose: bytes) -> str:
        key_id, _, encoded = value.partition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(f"value sealed with key id {key_id!r}, which is not in the keyring")
        try:
            data = base64.b64decode(encoded, validate=True)
            return cipher.decrypt(
                data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode() + b"/" + purpose
            ).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise PayloadDecryptionError(f"value sealed with key id {key_id!r} failed to open") from None

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]

    def _decrypt(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"payload encrypted with key id {key_id!r}, which is not in the keyring"
                f" (known: {', '.join(self._ciphers)}): add that key to PAYLOAD_KEYS"
            )
        if payload.metadata.get("encryption-cipher", CIPHER) != CIPHER:
            raise PayloadDecryptionError(
                f"payload cipher {payload.metadata['encryption-cipher']!r} is not supported"
            )
        if len(payload.data) < NONCE_BYTES + TAG_BYTES:
            raise PayloadDecryptionError(f"encrypted payload (key id {key_id!r}) is too short")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise PayloadDecryptionError(
                f"payload encrypted with key id {key_id!r} failed authentication: tampered, or a different key"
            ) from None
        return Payload.FromString(plain)


def data_converter(codec: EncryptionCodec | None) -> DataConverter:
    """The pydantic converter, encrypting payloads and failure messages when given a codec."""
    if codec is None:
        return pydantic_data_converter
    # Failure messages and stack traces move into an (encrypted) payload too: a message may quote input.
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def load_keyring(spec: str) -> tuple[dict[str, bytes], str]:
    """Parse `k2:BASE64KEY,k1:BASE64KEY` into ({key id: key}, active key id = the first)."""
    entries = [entry.strip() for entry in spec.split(",")]
    if not any(entries):
        raise KeyringError("no keys: expected KEY_ID:BASE64KEY[,KEY_ID:BASE64KEY...]")
    keys: dict[str, bytes] = {}
    for number, entry in enumerate(entries, start=1):
        if not entry:
            raise KeyringError(f"entry {number} is empty")
        key_id, colon, encoded = entry.partition(":")
        key_id, encoded = key_id.strip(), encoded.strip()
        if not colon or not key_id or not encoded:
            raise KeyringError(f"entry {number} is not KEY_ID:BASE64KEY")
        if not _KEY_ID_PATTERN.fullmatch(key_id):
            raise KeyringError(f"entry {number}: key id {key_id!r} must be 1-64 of A-Z a-z 0-9 . _ -")
        if key_id in keys:
            raise KeyringError(f"key id {key_id!r} appears twice")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise KeyringError(f"key {key_id!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise KeyringError(f"key {key_id!r} is {len(key)} bytes: must be {KEY_BYTES} bytes (AES-256)")
        keys[key_id] = key
    return keys, next(iter(keys))


def generate_key() -> str:
    """A new random key, base64 of 32 bytes."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def dev_keyring(path: Path, key_id: str = "dev1") -> tuple[dict[str, bytes], str]:
    """The keyring in `path` (mode 0600), created with one generated key on first use."""
    try:
        return load_keyring(read_or_create(path, lambda: f"{key_id}:{generate_key()}\n"))
    except InsecureSecretFile as err:
        raise KeyringError(str(err)) from None
    except KeyringError as err:
        raise KeyringError(f"{path}: {err}") from None


if __name__ == "__main__":
    print(generate_key())
