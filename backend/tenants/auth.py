"""Bearer API-key authentication and per-key rate limiting for the REST API."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from backend.lib.errors import Problem
from backend.tenants.services import TenantContext, authenticate

log = logging.getLogger("switchboard.auth")

# Routes a stranger may call: health, docs, webhooks (signature-verified), OAuth callback.
PUBLIC_PATHS = [
    "^/health$",
    "^/ready$",
    "^/schema",
    "^/api/webhooks/",
    "^/api/connectors/oauth/callback",
]


class ApiKeyAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp, rate_limit_per_minute: int = 0, **kwargs: Any) -> None:
        super().__init__(app, exclude=PUBLIC_PATHS, **kwargs)
        self.rate_limit = rate_limit_per_minute

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Problem(
                401,
                "Send your API key as `Authorization: Bearer <key>`.",
                headers={"WWW-Authenticate": 'Bearer realm="switchboard"'},
            )
        tenant = await authenticate(key.strip())
        if tenant is None:
            raise Problem(
                401,
                "The API key is invalid or revoked.",
                headers={"WWW-Authenticate": 'Bearer realm="switchboard", error="invalid_token"'},
            )
        await self._rate_limit(connection, tenant)
        return AuthenticationResult(user=tenant, auth=tenant.key_prefix)

    async def _rate_limit(
        self, connection: ASGIConnection[Any, Any, Any, Any], tenant: TenantContext
    ) -> None:
        redis = getattr(connection.app.state, "redis", None)
        if not self.rate_limit or redis is None:
            return
        window = int(time.time() // 60)
        bucket = f"sb:rl:api:{tenant.key_prefix}:{window}"
        try:
            async with redis.pipeline(transaction=False) as pipe:
                pipe.incr(bucket)
                pipe.expire(bucket, 120)
                count, _ = await pipe.execute()
        except Exception:
            log.warning("rate limiter unavailable; request allowed")
            return
        if count > self.rate_limit:
            retry = 60 - int(time.time()) % 60
            raise Problem(
                429,
                f"More than {self.rate_limit} requests in a minute with this key.",
                headers={"Retry-After": str(retry)},
            )
