"""Talking to a token endpoint through authlib, with every failure put into one of three kinds.

authlib does the protocol (authorization URL, PKCE S256, client authentication, the code and
refresh grants, and raising on a JSON `error`, which also catches an `error` on HTTP 200);
this module adds what providers do beside the standard: an RPC-style `ok: false` on HTTP
200, 429s, and their own error codes, which the spec maps to RFC 6749's (`error_codes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from backend.connectors.classify import parse_retry_after
from backend.connectors.config import ConnectorConfig
from backend.connectors.spec import OAuthSpec

ErrorKind = Literal["invalid_grant", "rejected", "unavailable"]


class TokenEndpointError(Exception):
    """A token request failed. `code` is the provider's short error code (safe to show);
    `reason`, when set, is the provider folder's own sentence for a person."""

    def __init__(
        self, kind: ErrorKind, code: str, retry_after: float | None = None, reason: str = ""
    ) -> None:
        super().__init__(f"{kind}: {code}")
        self.kind: ErrorKind = kind
        self.code = code
        self.retry_after = retry_after
        self.reason = reason


@dataclass(slots=True)
class ResponseInfo:
    """What the compliance hook saw of the raw answer (authlib keeps only the body)."""

    status: int = 0
    had_refresh_token: bool = False
    retry_after: float | None = None


def safe_code(value: object) -> str:
    """A provider error code reduced to characters that cannot smuggle anything."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "", str(value or "unknown_error"))[:64] or "unknown_error"


def standard_code(oauth: OAuthSpec, code: str) -> str:
    """The RFC 6749 code a provider's own error code means (itself when the spec maps none)."""
    return oauth.error_codes.get(code, code)


def _kind(oauth: OAuthSpec, code: object) -> ErrorKind:
    """invalid_grant: the grant is gone and only a person reconnecting restores it."""
    return (
        "invalid_grant" if standard_code(oauth, safe_code(code)) == "invalid_grant" else "rejected"
    )


def build_client(
    oauth: OAuthSpec,
    cfg: ConnectorConfig,
    redirect_uri: str,
    timeout: float,
    info: ResponseInfo | None = None,
) -> AsyncOAuth2Client:
    """An authlib client for one connector's token endpoint (a new pool per flow: OAuth
    calls are rare, and their redirects must never be followed)."""
    client = AsyncOAuth2Client(
        client_id=cfg.client_id,
        client_secret=cfg.client_secret,
        token_endpoint_auth_method=oauth.token_endpoint_auth_method,
        redirect_uri=redirect_uri,
        code_challenge_method="S256" if oauth.pkce else None,
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": "Switchboard/0.1"},
    )
    seen = info if info is not None else ResponseInfo()

    def inspect(response: httpx.Response) -> httpx.Response:
        seen.status = response.status_code
        seen.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if response.status_code == 429:
            raise TokenEndpointError("unavailable", "rate_limited", seen.retry_after)
        try:
            body = response.json()
        except ValueError:
            return response
        if isinstance(body, dict):
            seen.had_refresh_token = bool(body.get("refresh_token"))
            # RPC-style endpoints fail with HTTP 200 and ok=false, which authlib would accept.
            if body.get("ok") is False:
                code = body.get("error")
                raise TokenEndpointError(_kind(oauth, code), safe_code(code))
        return response

    client.register_compliance_hook("access_token_response", inspect)
    client.register_compliance_hook("refresh_token_response", inspect)
    return client


async def exchange_code(
    client: AsyncOAuth2Client,
    oauth: OAuthSpec,
    token_url: str,
    code: str,
    code_verifier: str | None,
) -> dict[str, Any]:
    extra = {"code_verifier": code_verifier} if code_verifier else {}
    return await _classified(
        oauth, client.fetch_token(token_url, grant_type="authorization_code", code=code, **extra)
    )


async def refresh_grant(
    client: AsyncOAuth2Client, oauth: OAuthSpec, token_url: str, refresh_token: str
) -> dict[str, Any]:
    return await _classified(oauth, client.refresh_token(token_url, refresh_token=refresh_token))


async def _classified(oauth: OAuthSpec, call: Any) -> dict[str, Any]:
    try:
        token = await call
    except TokenEndpointError:
        raise
    except OAuthError as exc:
        raise TokenEndpointError(_kind(oauth, exc.error), safe_code(exc.error)) from None
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        kind: ErrorKind = "unavailable" if status >= 500 else "rejected"
        raise TokenEndpointError(kind, f"http_{status}") from None
    except httpx.TimeoutException:
        raise TokenEndpointError("unavailable", "timeout") from None
    except httpx.HTTPError as exc:
        raise TokenEndpointError("unavailable", safe_code(type(exc).__name__)) from None
    except ValueError:
        # A 2xx body that is not a JSON object (a gateway page): not the provider's answer.
        raise TokenEndpointError("unavailable", "bad_response") from None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise TokenEndpointError("rejected", "no_access_token")
    return dict(token)
