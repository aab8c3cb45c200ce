"""Scrubbing secrets out of URLs and free text before they reach a span or a log line.

URLs carry credentials in three places this product meets: query parameters (OAuth
`code`/`state`, `access_token`, `hub.verify_token`, presigned `X-Amz-Signature`, …), our own
webhook path tokens, and path-embedded tokens such as Telegram's `/bot<id>:<secret>/`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

REDACTED = "REDACTED"

# Names that are secret by themselves; anything containing one of the fragments is too.
_SECRET_NAMES = frozenset({"code", "state", "sig", "auth", "jwt", "otp", "assertion"})
_SECRET_FRAGMENTS = ("token", "key", "secret", "passw", "signature", "credential")

_WEBHOOK_PATH = re.compile(r"^(/api/webhooks/[^/]+/)[^/]+")
_WEBHOOK_PATH_ANYWHERE = re.compile(r"(/api/webhooks/[^/\s?#\"']+/)[^/\s?#\"']+")
_BOT_TOKEN = re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+")
_USERINFO_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^/\s@]+@")
# `name=value` in a URL or a message; the value runs to the next separator.
_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z0-9_.%\[\]-]+)=(?P<value>[^&\s#\"'<>]*)")
# `"name": "value"` in a JSON body or a dict repr quoted in an error message.
_QUOTED_PAIR = re.compile(
    r"(?P<q>[\"'])(?P<name>[A-Za-z0-9_.-]+)(?P=q)(?P<sep>\s*:\s*)(?P<v>[\"'])(?P<value>[^\"']*)(?P=v)"
)


def is_secret_name(name: str) -> bool:
    """Whether a query parameter or field of this name holds a credential."""
    lowered = unquote_plus(name).lower()
    return lowered in _SECRET_NAMES or any(f in lowered for f in _SECRET_FRAGMENTS)


def redact_path(path: str) -> str:
    """A webhook URL's path token is a secret: traces and logs see the route template."""
    return _BOT_TOKEN.sub(r"\1{token}", _WEBHOOK_PATH.sub(r"\1{token}", path))


def redact_query(query: str) -> str:
    """A raw (still percent-encoded) query string with every secret value replaced.

    Works on the encoded pairs, so an `&` inside a value (`%26`) cannot split a secret
    into a redacted head and a leaked tail; other parameters stay byte for byte.
    """
    if not query:
        return query
    pairs = []
    for pair in query.split("&"):
        name, eq, _ = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if eq and is_secret_name(name) else pair)
    return "&".join(pairs)


def redact_url(url: str) -> str:
    """A URL with its path tokens, user info and secret query values replaced."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc.rpartition("@")[2] if "@" in parts.netloc else parts.netloc
    return urlunsplit(
        (parts.scheme, netloc, redact_path(parts.path), redact_query(parts.query), "")
    )


def redact_text(text: str) -> str:
    """Best effort over free text (messages, tracebacks, decoded URLs): every secret-named
    assignment or quoted pair, webhook path token, bot token and URL password is replaced."""
    if "=" in text:
        text = _ASSIGNMENT.sub(_assignment, text)
    if ":" in text:
        text = _QUOTED_PAIR.sub(_quoted_pair, text)
    if "/api/webhooks/" in text:
        text = _WEBHOOK_PATH_ANYWHERE.sub(r"\1{token}", text)
    if "/bot" in text:
        text = _BOT_TOKEN.sub(r"\1{token}", text)
    if "@" in text:
        text = _USERINFO_PASSWORD.sub(rf"\1{REDACTED}@", text)
    return text


def _assignment(match: re.Match[str]) -> str:
    if not match.group("value") or not is_secret_name(match.group("name")):
        return match.group(0)
    return f"{match.group('name')}={REDACTED}"


def _quoted_pair(match: re.Match[str]) -> str:
    if not match.group("value") or not is_secret_name(match.group("name")):
        return match.group(0)
    q, v = match.group("q"), match.group("v")
    return f"{q}{match.group('name')}{q}{match.group('sep')}{v}{REDACTED}{v}"
