"""PayPal: every call needs an app token from the client_credentials grant (authlib), fetched
before the first call; health and errors are data in its spec.

The token request goes through the shared client's transport, so test mode's simulator and
the connection pool apply to it exactly as to every other call.
"""

from __future__ import annotations

from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from backend.connectors.base import Adapter, AdapterContext, ProviderError
from backend.connectors.providers.paypal.spec import SPEC
from backend.lib.vocab import FailureKind


class _ViaClient(httpx.AsyncBaseTransport):
    """Send through another client; closing this transport leaves that client open."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._client.send(request, stream=True)


class PayPalAdapter(Adapter):
    spec = SPEC

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self._access_token = ""

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._access_token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if not self._access_token:
            await self.fetch_token()
        return await super().call(method, path, **kwargs)

    async def fetch_token(self) -> str:
        """A new app access token (PayPal issues no refresh tokens for this grant)."""
        client_id = str(self.ctx.credentials.get("client_id", ""))
        client_secret = str(self.ctx.credentials.get("client_secret", ""))
        if not client_id or not client_secret:
            raise ProviderError(FailureKind.MISCONFIGURED, "the client ID and secret are required")
        client = AsyncOAuth2Client(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method="client_secret_basic",
            transport=_ViaClient(self.ctx.http),
            timeout=self.ctx.http.timeout,
            headers=dict(self.ctx.http.headers),
        )
        client.register_compliance_hook("access_token_response", self._check_token_response)
        try:
            async with client:
                token = await client.fetch_token(
                    self.url("/v1/oauth2/token"), grant_type="client_credentials"
                )
        except OAuthError as exc:
            raise ProviderError(
                FailureKind.AUTH_FAILED, f"the provider rejected the credentials ({exc.error})"
            ) from None
        except httpx.TimeoutException:
            raise ProviderError(
                FailureKind.NETWORK, "the provider did not answer in time"
            ) from None
        except httpx.HTTPError as exc:
            raise ProviderError(
                FailureKind.NETWORK, f"could not reach the provider ({type(exc).__name__})"
            ) from None
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ProviderError(
                FailureKind.BAD_REQUEST, "the provider's token answer had no access token"
            )
        self._access_token = access_token
        return access_token

    def _check_token_response(self, response: httpx.Response) -> httpx.Response:
        # Classify here, where status and headers are still at hand (authlib keeps only
        # the body's `error`); 401 invalid_client becomes auth_failed like any 401.
        error = self.classify(response)
        if error is not None:
            raise error
        return response
