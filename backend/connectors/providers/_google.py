"""What Gmail, Google Calendar and Google Drive share: one OAuth server, one error shape.

Kept here once so the three provider folders state only what differs between them.
Docs: https://developers.google.com/identity/protocols/oauth2/web-server
"""

from __future__ import annotations

import httpx

from backend.connectors.base import (
    Adapter,
    NormalizedEvent,
    ProviderError,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
    parse_retry_after,
)
from backend.connectors.simulator import SimRequest, SimResponse, json_response, looks_valid
from backend.connectors.spec import OAuthSpec
from backend.connectors.webhook_normalize import google_channel_event
from backend.connectors.webhook_schemes import GOOGLE_CHANNEL_HEADERS, verify_google_channel

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
REVOKE_URL = "https://oauth2.googleapis.com/revoke"
OAUTH_DOCS = "https://developers.google.com/identity/protocols/oauth2/web-server"
SCOPE_PREFIX = "https://www.googleapis.com/auth/"

# A refresh token comes only with access_type=offline, and only on first consent unless
# prompt=consent; include_granted_scopes=true enables incremental consent.
EXTRA_AUTHORIZE_PARAMS = {
    "access_type": "offline",
    "prompt": "consent",
    "include_granted_scopes": "true",
}

# 403 reasons Google uses for quota rather than permission problems.
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


def google_oauth(default_scopes: tuple[str, ...], optional_scopes: dict[str, str]) -> OAuthSpec:
    return OAuthSpec(
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        revoke_url=REVOKE_URL,
        docs_url=OAUTH_DOCS,
        default_scopes=default_scopes,
        optional_scopes=optional_scopes,
        pkce=True,
        refresh_tokens=True,
        rotating_refresh_tokens=False,
        extra_authorize_params=EXTRA_AUTHORIZE_PARAMS,
        token_endpoint_auth_method="client_secret_post",
    )


class GoogleAdapter(Adapter):
    """Bearer calls, Google's quota errors, and revocation at the shared OAuth server."""

    def classify(self, response: httpx.Response) -> ProviderError | None:
        if response.status_code == 403 and _error_reasons(response) & _RATE_REASONS:
            return ProviderError(
                "rate_limited",
                "the provider is rate limiting requests",
                status_code=403,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        return super().classify(response)

    async def revoke(self) -> bool:
        # Revoking the refresh token ends the whole grant; an access token alone also works.
        token = self.ctx.credentials.get("refresh_token") or self.ctx.credentials.get(
            "access_token"
        )
        if not token:
            return False
        url = self.ctx.operator.revoke_url or REVOKE_URL
        try:
            response = await self.ctx.http.post(url, data={"token": token})
        except httpx.HTTPError as exc:
            raise ProviderError("network", "could not reach the provider") from exc
        # 400 invalid_token: already revoked or expired, which is what we wanted.
        if response.status_code == 400 and b"invalid_token" in response.content:
            return True
        error = super().classify(response)
        if error is not None:
            raise error
        return True


def _error_reasons(response: httpx.Response) -> set[str]:
    try:
        error = response.json().get("error", {})
        return {str(item.get("reason", "")) for item in error.get("errors", [])}
    except (ValueError, AttributeError):
        return set()


# -- simulator pieces ---------------------------------------------------------------------


def bearer_ok(request: SimRequest) -> bool:
    return looks_valid(request.bearer())


def unauthorized(request: SimRequest) -> SimResponse:
    return json_response(
        401,
        {
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                "errors": [
                    {
                        "message": "Invalid Credentials",
                        "domain": "global",
                        "reason": "authError",
                        "location": "Authorization",
                        "locationType": "header",
                    }
                ],
                "status": "UNAUTHENTICATED",
            }
        },
        {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
    )


def rate_limited(service: str, retry_after: int) -> SimResponse:
    return json_response(
        429,
        {
            "error": {
                "code": 429,
                "message": f"Quota exceeded for quota metric 'Queries' and limit 'Queries per "
                f"minute per user' of service '{service}' for consumer 'project_number:0'.",
                "errors": [
                    {"message": "Quota exceeded", "domain": "global", "reason": "rateLimitExceeded"}
                ],
                "status": "RESOURCE_EXHAUSTED",
            }
        },
        {"Retry-After": str(retry_after)},
    )


def server_error(request: SimRequest) -> SimResponse:
    return json_response(
        500,
        {
            "error": {
                "code": 500,
                "message": "Internal error encountered.",
                "errors": [
                    {"message": "Backend Error", "domain": "global", "reason": "backendError"}
                ],
                "status": "INTERNAL",
            }
        },
    )


def revoke(request: SimRequest) -> SimResponse:
    """POST https://oauth2.googleapis.com/revoke (form token=...)."""
    token = request.form().get("token") or request.query.get("token")
    if not looks_valid(token):
        return json_response(
            400, {"error": "invalid_token", "error_description": "Token expired or revoked"}
        )
    return SimResponse(200, b"{}", {"Content-Type": "application/json"})


SAMPLE_CREDENTIALS = {
    "access_token": "ya29.a0AfB_simulated_access_token",
    "refresh_token": "1//0g_simulated_refresh_token",
    "token_type": "Bearer",
}


class GoogleChannelWebhook(WebhookHandler):
    """Calendar and Drive push notifications: no signature, the channel token set at watch
    time is the shared secret (see `verify_google_channel`); the body is empty."""

    stored_headers = GOOGLE_CHANNEL_HEADERS

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        return verify_google_channel(request, secrets)

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        return google_channel_event(headers)
