"""Random tokens and their stored hashes.

API keys and webhook path tokens carry 256 bits of randomness, so a plain SHA-256 is a
safe one-way store (no slow KDF needed) and lets lookups hit a unique index.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(candidate: str, expected: str) -> bool:
    return hmac.compare_digest(candidate.encode(), expected.encode())


API_KEY_PREFIX = "sb_"


def new_api_key() -> tuple[str, str, str]:
    """Return (full key, visible prefix, stored hash). The full key is shown once."""
    prefix = API_KEY_PREFIX + secrets.token_hex(4)
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_token(key)


def split_api_key(key: str) -> str | None:
    """The visible prefix of a well-formed key, or None."""
    if not key.startswith(API_KEY_PREFIX) or key.count("_") < 2:
        return None
    prefix = key[: len(API_KEY_PREFIX) + 8]
    if len(prefix) != len(API_KEY_PREFIX) + 8 or key[len(prefix)] != "_":
        return None
    return prefix
