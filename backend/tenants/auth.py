"""Bearer API-key authentication for the REST API, with two budgets: requests per key, and
failed key attempts per client address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from backend.lib.client_ip import TrustedProxies
from backend.lib.errors import Problem
from backend.settings import get_settings
from backend.tenants.ratelimit import WindowCounters, seconds_left_in_window
from backend.tenants.services import TenantContext, authenticate

# Routes a stranger may call: health, docs, webhooks (signature-verified), OAuth callback.
PUBLIC_PATHS = [
    "^/health$",
    "^/ready$",
    "^/schema",
    "^/api/webhooks/",
    "^/api/connectors/oauth/callback",
]


@dataclass(frozen=True, slots=True)
class AuthBudgets:
    """One app's REST budgets, shared by the middleware instance of every route."""

    counters: WindowCounters
    per_key: int
    failed_per_client: int
    proxies: TrustedProxies


class ApiKeyAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp, rate_limit_per_minute: int = 0, **kwargs: Any) -> None:
        super().__init__(app, exclude=PUBLIC_PATHS, **kwargs)
        self.rate_limit = rate_limit_per_minute

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        redis = getattr(connection.app.state, "redis", None)
        budgets = self._budgets(connection)
        # Only a presented credential can be a guess; a missing header spends nothing.
        client = await self._within_failure_budget(connection, budgets, redis) if header else ""
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            await self._count_failure(budgets, redis, client)
            raise Problem(
                401,
                "Send your API key as `Authorization: Bearer <key>`.",
                headers={"WWW-Authenticate": 'Bearer realm="switchboard"'},
            )
        tenant = await authenticate(key.strip())
        if tenant is None:
            await self._count_failure(budgets, redis, client)
            raise Problem(
                401,
                "The API key is invalid or revoked.",
                headers={"WWW-Authenticate": 'Bearer realm="switchboard", error="invalid_token"'},
            )
        await self._rate_limit(budgets, redis, tenant)
        return AuthenticationResult(user=tenant, auth=tenant.key_prefix)

    def _budgets(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthBudgets:
        """Litestar builds this middleware once per route; the counters (and their
        in-process fallback) must be one per app, so they live in the app's state."""
        state = connection.app.state
        budgets: AuthBudgets | None = getattr(state, "auth_budgets", None)
        if budgets is None:
            settings = getattr(state, "settings", None) or get_settings()
            budgets = AuthBudgets(
                counters=WindowCounters(),
                per_key=self.rate_limit,
                failed_per_client=settings.failed_auth_limit,
                proxies=TrustedProxies(settings.trusted_proxies),
            )
            state.auth_budgets = budgets
        return budgets

    @staticmethod
    async def _within_failure_budget(
        connection: ASGIConnection[Any, Any, Any, Any], budgets: AuthBudgets, redis: Any
    ) -> str:
        """The client's budget key, or 429 when it is spent. Its credential is then not even
        looked at: answering 200 for a valid key would still confirm a guess."""
        if not budgets.failed_per_client:
            return ""
        forwarded = ",".join(connection.headers.getall("x-forwarded-for", []))
        peer = connection.client.host if connection.client else None
        client = budgets.proxies.budget_key(peer, forwarded)
        failures = await budgets.counters.count(redis, _failure_bucket(client))
        if failures >= budgets.failed_per_client:
            raise _too_many_failures(budgets.failed_per_client)
        return client

    @staticmethod
    async def _count_failure(budgets: AuthBudgets, redis: Any, client: str) -> None:
        if client:
            await budgets.counters.add(redis, _failure_bucket(client))

    @staticmethod
    async def _rate_limit(budgets: AuthBudgets, redis: Any, tenant: TenantContext) -> None:
        if not budgets.per_key:
            return
        count = await budgets.counters.add(redis, f"sb:rl:api:{tenant.key_prefix}")
        if count > budgets.per_key:
            raise Problem(
                429,
                f"More than {budgets.per_key} requests in a minute with this key.",
                headers={"Retry-After": str(seconds_left_in_window())},
            )


def _failure_bucket(client: str) -> str:
    return f"sb:rl:authfail:{client}"


def _too_many_failures(limit: int) -> Problem:
    return Problem(
        429,
        f"More than {limit} failed API-key attempts in a minute from this address.",
        headers={"Retry-After": str(seconds_left_in_window())},
    )
