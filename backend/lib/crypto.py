"""Envelope encryption for secrets at rest.

Each tenant has AES-256-GCM data keys (versioned rows in `tenant_key`), each wrapped by a
master key. A ciphertext records which data-key version sealed it and is bound, as
associated data, to the tenant and the record it belongs to, so a ciphertext copied to
another row or tenant does not decrypt. Master keys rotate by re-wrapping data keys; data
keys rotate by adding a version, and old versions keep decrypting what they sealed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_MAGIC = b"SB1"
_HEADER = struct.Struct(">3sI")  # magic, data-key version
_NONCE_BYTES = 12


class VaultError(Exception):
    """A secret could not be sealed or opened. The message never contains secret material."""


def generate_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def master_key_id(key: bytes) -> str:
    """A short public fingerprint naming which master key wrapped a data key."""
    return hashlib.sha256(b"switchboard-master-key-id" + key).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class MasterKeyring:
    """Master keys, newest first; the first wraps, any of them unwraps."""

    keys: tuple[bytes, ...]

    @classmethod
    def from_strings(cls, encoded: tuple[str, ...]) -> MasterKeyring:
        if not encoded:
            raise VaultError("no master key configured (SWITCHBOARD_MASTER_KEY)")
        keys = []
        for i, item in enumerate(encoded):
            try:
                key = base64.b64decode(item, validate=True)
            except ValueError as exc:
                raise VaultError(f"master key #{i + 1} is not valid base64") from exc
            if len(key) != 32:
                raise VaultError(f"master key #{i + 1} must decode to 32 bytes")
            keys.append(key)
        return cls(tuple(keys))

    @property
    def current_id(self) -> str:
        return master_key_id(self.keys[0])

    def wrap(self, data_key: bytes, tenant_id: str, version: int) -> tuple[bytes, str]:
        nonce = os.urandom(_NONCE_BYTES)
        aad = _wrap_aad(tenant_id, version)
        sealed = nonce + AESGCM(self.keys[0]).encrypt(nonce, data_key, aad)
        return sealed, self.current_id

    def unwrap(self, wrapped: bytes, key_id: str, tenant_id: str, version: int) -> bytes:
        for key in self.keys:
            if master_key_id(key) == key_id:
                try:
                    return AESGCM(key).decrypt(
                        wrapped[:_NONCE_BYTES],
                        wrapped[_NONCE_BYTES:],
                        _wrap_aad(tenant_id, version),
                    )
                except InvalidTag as exc:
                    raise VaultError("tenant data key failed authentication") from exc
        raise VaultError(f"master key {key_id} is not configured")


def _wrap_aad(tenant_id: str, version: int) -> bytes:
    return f"switchboard/tenant-key/{tenant_id}/{version}".encode()


def record_aad(tenant_id: str, record: str) -> bytes:
    """Associated data binding a ciphertext to its tenant and record (e.g. `integration:<id>`)."""
    return f"switchboard/{tenant_id}/{record}".encode()


@dataclass(frozen=True, slots=True)
class DataKeys:
    """One tenant's unwrapped data keys by version; the highest version seals."""

    tenant_id: str
    keys: dict[int, bytes]

    @property
    def current_version(self) -> int:
        return max(self.keys)

    def seal(self, plaintext: bytes, record: str) -> bytes:
        version = self.current_version
        nonce = os.urandom(_NONCE_BYTES)
        ct = AESGCM(self.keys[version]).encrypt(
            nonce, plaintext, record_aad(self.tenant_id, record)
        )
        return _HEADER.pack(_MAGIC, version) + nonce + ct

    def open(self, sealed: bytes, record: str) -> bytes:
        if len(sealed) < _HEADER.size + _NONCE_BYTES + 16:
            raise VaultError("ciphertext is truncated")
        magic, version = _HEADER.unpack_from(sealed)
        if magic != _MAGIC:
            raise VaultError("not a Switchboard ciphertext")
        key = self.keys.get(version)
        if key is None:
            raise VaultError(f"data key version {version} is unknown for this tenant")
        body = sealed[_HEADER.size :]
        try:
            return AESGCM(key).decrypt(
                body[:_NONCE_BYTES], body[_NONCE_BYTES:], record_aad(self.tenant_id, record)
            )
        except InvalidTag as exc:
            raise VaultError("ciphertext failed authentication (tampered or wrong record)") from exc


def key_version_of(sealed: bytes) -> int:
    """The data-key version a ciphertext was sealed with (no key needed)."""
    return int(_HEADER.unpack_from(sealed)[1])


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)
