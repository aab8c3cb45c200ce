"""Signature schemes shared by several providers, written once and fail-closed.

Every check here works on the raw request bytes, compares in constant time, accepts any of
the integration's signing secrets (rotation with overlap) and turns every malformed input
into `WebhookVerificationError` with a reason that never contains a secret or an expected
signature. Providers compose these; they never re-implement a comparison.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl

import msgspec

from backend.connectors.base import (
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)

#: Seconds a signed timestamp may differ from our clock (Stripe, Slack, Standard Webhooks).
TOLERANCE_SECONDS: Final = 300

HashFactory = Callable[[], Any]
T = TypeVar("T")

_HEX = frozenset("0123456789abcdefABCDEF")


# -- small, total conversions ------------------------------------------------------------


def to_bytes(value: str) -> bytes:
    """UTF-8 bytes of any str (lone surrogates from a lenient header decoder included)."""
    return value.encode("utf-8", "surrogatepass")


def header(request: WebhookRequest, name: str) -> str | None:
    """A header by its display name; names in `request.headers` are lower case."""
    value = request.headers.get(name.lower())
    return value if value else None


def require_header(request: WebhookRequest, name: str) -> str:
    value = header(request, name)
    if value is None:
        raise WebhookVerificationError(f"missing {name} header")
    return value


def signing_keys(secrets: WebhookSecrets) -> tuple[bytes, ...]:
    """The signing secrets as HMAC keys (UTF-8), current first; none configured → reject."""
    keys = tuple(to_bytes(s) for s in secrets.signing_secrets if s)
    if not keys:
        raise WebhookVerificationError("no signing secret configured")
    return keys


def parse_hex(value: str, size: int) -> bytes | None:
    """`size` bytes from exactly 2*size hex digits, else None."""
    if len(value) != 2 * size or not _HEX.issuperset(value):
        return None
    return bytes.fromhex(value)


def parse_base64(value: str) -> bytes | None:
    """Bytes from strict standard base64, else None (never binascii.Error)."""
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except ValueError:  # binascii.Error, or a non-ASCII str
        return None


def parse_int(value: str | None) -> int | None:
    """A plain decimal integer (no sign, no spaces, at most 15 digits), else None."""
    if not value or len(value) > 15 or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def decode_json(body: bytes, type_: type[T]) -> T:
    """Decode only the fields `type_` names (msgspec skips the rest without building it).

    Nesting deeper than msgspec's limit raises RecursionError even in skipped fields: that
    is malformed input too, never an unhandled error.
    """
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        raise WebhookVerificationError("unexpected JSON body shape") from exc
    except (msgspec.DecodeError, RecursionError) as exc:
        raise WebhookVerificationError("malformed JSON body") from exc


def media_type(content_type: str) -> str:
    """A Content-Type value's media type, lower case, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def is_form_type(content_type: str) -> bool:
    """Whether a Content-Type value announces an HTML form body (the one check every
    handler that accepts forms uses)."""
    return media_type(content_type) == "application/x-www-form-urlencoded"


def is_form(request: WebhookRequest) -> bool:
    return is_form_type(request.headers.get("content-type", ""))


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """Form fields in order, values percent-decoded; a non-UTF-8 body → reject."""
    try:
        text = body.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, max_num_fields=1000)
    except ValueError as exc:  # UnicodeDecodeError, too many fields
        raise WebhookVerificationError("malformed form body") from exc


# -- comparisons ---------------------------------------------------------------------------


def hmac_digests(keys: Iterable[bytes], message: bytes, digest: HashFactory) -> list[bytes]:
    return [hmac.new(key, message, digest).digest() for key in keys]


def any_match(expected: Iterable[bytes], received: Iterable[bytes]) -> bool:
    """True when any received value equals any expected one (each compare constant time)."""
    received = list(received)
    matched = False
    for good in expected:
        for candidate in received:
            matched |= hmac.compare_digest(good, candidate)
    return matched


def constant_time_equals(value: str, expected: str) -> bool:
    return hmac.compare_digest(to_bytes(value), to_bytes(expected))


def equals_any_secret(value: str, secrets: WebhookSecrets) -> bool:
    """Constant-time equality of a shared token (a channel or secret token) to any secret."""
    received = to_bytes(value)
    return any_match(signing_keys(secrets), [received])


def check_hex_hmac(
    keys: Iterable[bytes],
    message: bytes,
    signatures: Iterable[str],
    digest: HashFactory = hashlib.sha256,
    size: int = 32,
) -> None:
    """Pass when any hex signature is the HMAC of `message` under any key."""
    received = [sig for sig in (parse_hex(s, size) for s in signatures) if sig is not None]
    if not received:
        raise WebhookVerificationError("malformed signature")
    if not any_match(hmac_digests(keys, message, digest), received):
        raise WebhookVerificationError("signature mismatch")


def verify_prefixed_hex(
    request: WebhookRequest,
    secrets: WebhookSecrets,
    header_name: str,
    prefix: str = "sha256=",
) -> None:
    """`<header>: sha256=<hex HMAC-SHA256 of the body>` (GitHub, Meta, Jira)."""
    value = require_header(request, header_name)
    if not value.startswith(prefix):
        raise WebhookVerificationError(f"malformed {header_name} header")
    check_hex_hmac(signing_keys(secrets), request.body, [value[len(prefix) :]])


def check_timestamp(
    timestamp: int, now: float, tolerance: int = TOLERANCE_SECONDS, *, future: bool = True
) -> None:
    """Reject a signed timestamp older than `tolerance` (and newer, when `future`)."""
    if now - timestamp > tolerance or (future and timestamp - now > tolerance):
        raise WebhookVerificationError(f"timestamp outside the {tolerance} s tolerance")


# -- Standard Webhooks -------------------------------------------------------------------


def standard_webhooks_key(secret: str) -> bytes:
    """`whsec_<base64>` → key bytes, exactly like the reference library (padding lenient)."""
    raw = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(raw + "==")
    except ValueError:
        key = b""
    if not key:
        raise WebhookVerificationError("signing secret is not valid base64")
    return key


def verify_standard_webhooks(request: WebhookRequest, secrets: WebhookSecrets) -> str:
    """Verify a Standard Webhooks delivery and return its `webhook-id`.

    Signed content is "{id}.{timestamp}.{body}", HMAC-SHA256 keyed with the base64-decoded
    secret; `webhook-signature` is a space-separated list of `v1,<base64>` (others ignored).
    """
    msg_id = require_header(request, "webhook-id")
    raw_ts = require_header(request, "webhook-timestamp")
    signature_header = require_header(request, "webhook-signature")
    timestamp = parse_int(raw_ts)
    if timestamp is None:
        raise WebhookVerificationError("malformed webhook-timestamp header")
    check_timestamp(timestamp, request.received_at)
    received: list[bytes] = []
    for entry in signature_header.split(" "):
        version, _, encoded = entry.partition(",")
        if version == "v1" and (sig := parse_base64(encoded)) is not None:
            received.append(sig)
    if not received:
        raise WebhookVerificationError("malformed webhook-signature header")
    message = to_bytes(f"{msg_id}.{timestamp}.") + request.body
    keys = [standard_webhooks_key(s) for s in secrets.signing_secrets if s]
    if not keys:
        raise WebhookVerificationError("no signing secret configured")
    if not any_match(hmac_digests(keys, message, hashlib.sha256), received):
        raise WebhookVerificationError("signature mismatch")
    return msg_id
