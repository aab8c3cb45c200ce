"""Random tokens and their stored hashes.

API keys and webhook path tokens carry 256 bits of randomness, so a plain SHA-256 is a
safe one-way store (no slow KDF needed) and lets lookups hit a unique index.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(candidate: str, expected: str) -> bool:
    return hmac.compare_digest(candidate.encode(), expected.encode())


API_KEY_PREFIX = "sb_"
_PREFIX_HEX_CHARS = 8
_SECRET_BYTES = 32
# `sb_<8 hex>_<token_urlsafe(32)>`: token_urlsafe(32) is 43 characters of [A-Za-z0-9_-].
_API_KEY_FORMAT = re.compile(
    rf"({re.escape(API_KEY_PREFIX)}[0-9a-f]{{{_PREFIX_HEX_CHARS}}})_[A-Za-z0-9_-]{{43}}"
)


def new_api_key() -> tuple[str, str, str]:
    """Return (full key, visible prefix, stored hash). The full key is shown once."""
    prefix = API_KEY_PREFIX + secrets.token_hex(_PREFIX_HEX_CHARS // 2)
    key = f"{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    return key, prefix, hash_token(key)


def split_api_key(key: str) -> str | None:
    """The visible prefix of a key in exactly the issued format, or None.

    One full match instead of slicing: anything else (short, extra characters, non-ASCII)
    is simply not a key, so no caller can trip over an index or send odd bytes to the
    database.
    """
    match = _API_KEY_FORMAT.fullmatch(key)
    return match.group(1) if match else None
