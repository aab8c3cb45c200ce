"""Where the OAuth callback may send a browser: the dashboard or an allow-listed origin.

The callback redirects to a URL the caller chose when the flow began, so an unchecked
`return_url` would make Switchboard an open redirector (RFC 9700 §4.11). Only the
dashboard's origin and the operator's SWITCHBOARD_ALLOWED_RETURN_ORIGINS are accepted.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from backend.lib.errors import validation_error
from backend.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme]


def allowed_origins(settings: Settings) -> set[tuple[str, str, int]]:
    found = {
        origin_of(settings.dashboard_url),
        *(origin_of(o) for o in settings.allowed_return_origins),
    }
    return {o for o in found if o is not None}


def default_return_url(settings: Settings, integration_id: str) -> str:
    return f"{settings.dashboard_url.rstrip('/')}/integrations/{integration_id}"


def validate_return_url(url: str | None, settings: Settings, integration_id: str) -> str:
    """The URL to come back to, or a 422 naming `return_url`.

    A path (`/integrations/x`) is taken relative to the dashboard; anything absolute must be
    on an allowed origin and carry no credentials or fragment.
    """
    if url is None or not url.strip():
        return default_return_url(settings, integration_id)
    url = url.strip()
    if len(url) > 2000:
        raise validation_error("return_url", "must be at most 2000 characters")
    if any(ch in url for ch in "\\\r\n\t") or any(ord(ch) < 0x20 for ch in url):
        raise validation_error("return_url", "contains characters a URL may not have")
    if url.startswith("/") and not url.startswith("//"):
        url = settings.dashboard_url.rstrip("/") + url
    parts = urlsplit(url)
    origin = origin_of(url)
    if origin is None:
        raise validation_error("return_url", "must be an absolute http(s) URL or a dashboard path")
    if parts.username is not None or parts.password is not None:
        raise validation_error("return_url", "must not carry credentials")
    if origin not in allowed_origins(settings):
        raise validation_error(
            "return_url",
            "must be on the dashboard's origin or one of SWITCHBOARD_ALLOWED_RETURN_ORIGINS",
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def with_params(url: str, **params: str) -> str:
    """`url` with `params` set in its query (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
