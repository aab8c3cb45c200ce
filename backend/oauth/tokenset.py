"""The token set we seal into `integration.credentials`, built from a token response.

Stored fields: access_token, refresh_token, token_type, expires_at (unix seconds), scope —
what adapters need to call and revoke — plus a user-level token where the spec's
`user_token_path` says the response carries one. Nothing else from the response is kept with
the secrets; public facts go to the integration's config instead (see consent.py).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from backend.connectors.paths import dig

# The user-level token (OAuthSpec.user_token_path) is sealed under these names.
_USER_FIELDS = ("user_access_token", "user_refresh_token", "user_token_type", "user_expires_at")


def granted_scopes(token: dict[str, Any], fallback: list[str]) -> list[str]:
    """Scopes the provider says it granted; RFC 6749 §5.1: absent means as requested.
    Some providers separate them with commas instead of spaces."""
    raw = token.get("scope")
    if isinstance(raw, list):
        return [str(s) for s in raw]
    if not isinstance(raw, str) or not raw.strip():
        return list(fallback)
    return [s for s in re.split(r"[,\s]+", raw.strip()) if s]


def _expires_at(token: dict[str, Any]) -> int | None:
    # authlib computes expires_at from expires_in; a token without either never expires
    # (classic OAuth App tokens, apps without token rotation).
    try:
        if token.get("expires_at") is not None:
            return int(token["expires_at"])
        if token.get("expires_in"):
            return int(dt.datetime.now(dt.UTC).timestamp()) + int(token["expires_in"])
    except (TypeError, ValueError):
        return None
    return None


def build_token_set(
    token: dict[str, Any],
    *,
    previous: dict[str, Any] | None,
    rotating: bool,
    had_refresh_token: bool,
    scopes: list[str],
    user_token_path: str = "",
) -> dict[str, Any]:
    """The new sealed credentials after an exchange (`previous` None) or a refresh.

    A non-rotating provider sends no refresh token on refresh: keep the old one. A rotating
    provider's old refresh token is spent once used, so it is never carried over.
    """
    previous = previous or {}
    refresh_token = token.get("refresh_token") if had_refresh_token else None
    if not refresh_token and not rotating:
        refresh_token = previous.get("refresh_token")
    result: dict[str, Any] = {
        "access_token": str(token["access_token"]),
        "token_type": str(token.get("token_type") or "Bearer"),
        "scope": " ".join(scopes),
    }
    if refresh_token:
        result["refresh_token"] = str(refresh_token)
    expires_at = _expires_at(token)
    if expires_at is not None:
        result["expires_at"] = expires_at
    user = dig(token, user_token_path) if user_token_path else None
    if isinstance(user, dict) and user.get("access_token"):
        result["user_access_token"] = str(user["access_token"])
        if user.get("refresh_token"):
            result["user_refresh_token"] = str(user["refresh_token"])
        result["user_token_type"] = str(user.get("token_type") or "user")
        if user.get("expires_in"):
            result["user_expires_at"] = int(dt.datetime.now(dt.UTC).timestamp()) + int(
                user["expires_in"]
            )
    else:
        for name in _USER_FIELDS:
            if name in previous:
                result[name] = previous[name]
    return result


def expiry_of(token_set: dict[str, Any]) -> dt.datetime | None:
    value = token_set.get("expires_at")
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None
