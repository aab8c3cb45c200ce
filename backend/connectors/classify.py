"""A provider's answer read through its spec: which failure it is, what it says, how long to
wait.

One table per provider (`ConnectorSpec.errors`) before one default table, one message
extractor and one wait computation serve every connector, so adapters carry no status,
header or body-shape logic of their own (Airbyte's HttpResponseFilter, as data).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from backend.connectors.paths import dig, dig_str
from backend.connectors.spec import ConnectorSpec, ErrorKind, ErrorRule, RateLimitPolicy
from backend.lib.redaction import redact_text

#: Longest provider message kept (it is shown to people and stored with the health status).
MESSAGE_LIMIT = 200
#: Longest wait believed: a provider asking for more is asking for a day.
MAX_WAIT = 86400.0
# Error bodies are small; a huge one is read for its status alone.
_BODY_LIMIT = 256 * 1024
# Credential values shorter than this are not secrets worth scrubbing ("bot", "Bearer").
_MIN_SECRET = 8
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://\S+")

_HEADLINES: dict[ErrorKind, str] = {
    "auth": "the provider rejected the credentials",
    "rate_limit": "the provider is rate limiting requests",
}


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified provider answer; `message` is safe to store and show."""

    kind: ErrorKind
    message: str
    retry_after: float | None = None


def classify_response(
    spec: ConnectorSpec, response: httpx.Response, secrets: Iterable[str] = ()
) -> Failure | None:
    """The failure `response` means by the spec's table, then the default one; None when it
    succeeded. `secrets` (the integration's credentials) never appear in the message."""
    body = json_body(response)
    rule = next((r for r in spec.errors if _matches(r, response, body)), None)
    if rule is not None:
        kind, fixed = rule.kind, rule.message
    elif response.status_code >= 400:
        kind, fixed = default_kind(response.status_code), ""
    else:
        return None
    detail = fixed or error_message(body, spec.error_message_paths, secrets)
    headline = _HEADLINES.get(kind) or (
        f"the provider answered {response.status_code}"
        if response.status_code >= 400
        else "the provider refused the call"
    )
    message = f"{headline}: {detail}" if detail else headline
    if kind == "rate_limit":
        wait = retry_wait(spec.rate_limit, response, body)
    elif kind == "transient":
        wait = parse_retry_after(_header(response, spec.rate_limit.retry_after_header))
    else:
        wait = None
    return Failure(kind, message, wait)


def default_kind(status: int) -> ErrorKind:
    """The table every provider shares, for statuses its own table does not claim."""
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limit"
    if status >= 500:
        return "transient"
    return "permanent"


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when there is none (text, HTML, malformed, huge)."""
    content = response.content
    if not content or len(content) > _BODY_LIMIT or content.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return msgspec.json.decode(content)
    except (msgspec.DecodeError, RecursionError):
        return None


def error_message(body: Any, paths: Iterable[str], secrets: Iterable[str] = ()) -> str:
    """The first non-empty text at `paths`, made safe to show (see `safe_message`)."""
    for path in paths:
        text = dig_str(body, path)
        if text.strip():
            return safe_message(text, secrets)
    return ""


def safe_message(text: str, secrets: Iterable[str] = ()) -> str:
    """Provider text fit for a log line or a problem detail: no credential value, no
    secret-looking assignment, no URL (it may carry a token), no control characters,
    at most MESSAGE_LIMIT characters."""
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    text = _URL.sub("[link]", redact_text(text))
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    text = " ".join(text.split())
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 1].rstrip() + "…"
    return text


# -- waiting ------------------------------------------------------------------------------


def retry_wait(policy: RateLimitPolicy, response: httpx.Response, body: Any) -> float | None:
    """Seconds a rate-limited answer asks us to wait, read as the policy says (see
    RateLimitPolicy); None when it names no time and the policy has no default."""
    wait = parse_retry_after(_header(response, policy.retry_after_header))
    if wait is None and policy.retry_after_path:
        wait = _seconds(dig(body, policy.retry_after_path))
    if wait is None and policy.reset_header:
        remaining = _header(response, policy.remaining_header)
        if not policy.remaining_header or (remaining or "").strip() == "0":
            wait = parse_reset(_header(response, policy.reset_header), policy.reset_kind)
    return policy.default_retry_after if wait is None else wait


def _header(response: httpx.Response, name: str) -> str | None:
    return response.headers.get(name) if name else None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return _until(when)


def parse_reset(value: str | None, kind: str) -> float | None:
    """Seconds until a rate-limit reset header's moment: unix seconds, a delta or ISO 8601."""
    if not value:
        return None
    value = value.strip()
    if kind == "iso8601":
        try:
            return _until(dt.datetime.fromisoformat(value))
        except ValueError:
            return None
    if kind == "delta":
        return _seconds(value)
    try:
        return _bounded(float(value) - time.time())
    except ValueError:
        return None


def _until(when: dt.datetime) -> float | None:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return _bounded((when - dt.datetime.now(dt.UTC)).total_seconds())


def _seconds(value: Any) -> float | None:
    """A non-negative number of seconds from a number or numeric text; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    return _bounded(float(value))


def _bounded(seconds: float) -> float | None:
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_WAIT)


# -- matching -----------------------------------------------------------------------------


def _matches(rule: ErrorRule, response: httpx.Response, body: Any) -> bool:
    if rule.status and response.status_code not in rule.status:
        return False
    if rule.body_path:
        if rule.body_equals:
            if dig_str(body, rule.body_path) not in rule.body_equals:
                return False
        elif dig(body, rule.body_path) is None:
            return False
    if rule.body_contains:
        text = response.content[:_BODY_LIMIT].decode("utf-8", "replace")
        if rule.body_contains.lower() not in text.lower():
            return False
    if rule.header:
        value = response.headers.get(rule.header)
        if value is None or (rule.header_equals and value.strip() != rule.header_equals):
            return False
    return True
