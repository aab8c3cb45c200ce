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
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.lib.private_files import create_private_file

_MAGIC = b"SB1"
_HEADER = struct.Struct(">3sI")  # magic, data-key version
_NONCE_BYTES = 12


class VaultError(Exception):
    """A secret could not be sealed or opened. The message never contains secret material."""


MASTER_KEY_BYTES = 32
_STANDARD, _URLSAFE = set("+/"), set("-_")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


def generate_master_key() -> str:
    return base64.b64encode(os.urandom(MASTER_KEY_BYTES)).decode()


def decode_master_key(text: str) -> bytes:
    """32 bytes from base64 in either alphabet (`base64.urlsafe_b64encode` is how
    Fernet-style keys are usually made), padded or not. Raises ValueError."""
    text = text.strip()
    body = text.rstrip("=")
    chars = set(body)
    if (
        not _BASE64.fullmatch(text)
        or (chars & _STANDARD and chars & _URLSAFE)
        or (body != text and len(text) % 4)
    ):
        raise ValueError("not base64")
    standard = body.translate(str.maketrans("-_", "+/"))
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def ensure_master_key_file(path: Path) -> tuple[str, bool]:
    """The key in `path`, generating it first when the file does not exist; returns (key,
    created). The file is private from birth and appears whole; when several processes race,
    one key wins and every one of them returns it."""
    created = create_private_file(path, generate_master_key() + "\n")
    return path.read_text().strip(), created


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
        for i, item in enumerate(encoded, start=1):
            # The messages name the key by position only: the value is a secret.
            try:
                key = decode_master_key(item)
            except ValueError:
                raise VaultError(
                    f"master key #{i} is not base64 (standard or URL-safe alphabet)"
                ) from None
            if len(key) != MASTER_KEY_BYTES:
                raise VaultError(
                    f"master key #{i} decodes to {len(key)} bytes; a master key is "
                    f"{MASTER_KEY_BYTES} random bytes"
                )
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
