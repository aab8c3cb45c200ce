"""A provider's fake API: answers the calls our adapters make the way the provider documents.

One `ProviderSimulator` per provider serves both the product's test mode (in process, through
`httpx.MockTransport`) and the tests (over a loopback HTTP server, see tests/provider_server.py),
so what a tenant sees in test mode is exactly what the test suite checks.

Behaviour: a valid-looking credential gets the success body; a credential containing
"invalid" or "revoked" gets the provider's real authentication error; a failure can be forced
with `fail_with` or the request header `X-Switchboard-Simulate: 401|429|500|timeout`, and a
test-mode integration's runtime faults (backend/testmode/faults.py) are answered by `inject`,
in the provider's own error shapes.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

SIMULATE_HEADER = "x-switchboard-simulate"
FORCED_FAILURES = ("401", "429", "500", "timeout")
# The faults a test-mode integration can be given at runtime (PUT .../faults).
FAULT_KINDS = ("rate_limit", "auth_expired", "auth_revoked", "server_error", "timeout", "malformed")
_BAD_MARKERS = ("invalid", "revoked")


@dataclass(frozen=True, slots=True)
class SimRequest:
    """A request as the simulator sees it; `path` is relative to the provider's API base."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace")))

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def basic(self) -> tuple[str, str] | None:
        value = self.headers.get("authorization", "")
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(encoded.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return (user, password) if sep else None


@dataclass(frozen=True, slots=True)
class SimResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # The provider never answers: in process this raises httpx.ReadTimeout; the loopback
    # server holds the connection open instead.
    timeout: bool = False


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> SimResponse:
    body = json.dumps(data).encode()
    return SimResponse(
        status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


def remember(store: dict[str, Any], key: str, value: Any, limit: int = 1000) -> None:
    """Keep what a simulated provider created (hooks, endpoints), evicting the oldest past
    `limit` so test mode's memory stays bounded."""
    if key not in store and len(store) >= limit:
        store.pop(next(iter(store)))
    store[key] = value


Handler = Callable[[SimRequest], SimResponse]
# Builds the provider's 429 answer, given the Retry-After seconds to announce.
RateLimitHandler = Callable[[SimRequest, int], SimResponse]


@dataclass(frozen=True, slots=True)
class Route:
    """`path` is a regular expression matched in full against the request path."""

    method: str
    path: str
    handler: Handler
    authenticated: bool = True


def looks_valid(credential: str | None, pattern: str = "") -> bool:
    """The simulator's rule for credentials: present, shaped right, not marked bad."""
    if not credential:
        return False
    if any(marker in credential.lower() for marker in _BAD_MARKERS):
        return False
    return not pattern or re.fullmatch(pattern, credential) is not None


def _default_server_error(request: SimRequest) -> SimResponse:
    return json_response(500, {"error": "internal_error", "message": "simulated server error"})


def _default_not_found(request: SimRequest) -> SimResponse:
    return json_response(404, {"error": "not_found", "message": "no such endpoint"})


class ProviderSimulator:
    """The fake API of one provider; see the module docstring."""

    def __init__(
        self,
        *,
        key: str,
        api_base_url: str,
        routes: tuple[Route, ...],
        credential: Callable[[SimRequest], bool],
        unauthorized: Handler,
        rate_limited: RateLimitHandler,
        server_error: Handler = _default_server_error,
        not_found: Handler = _default_not_found,
        sample_credentials: dict[str, str] | None = None,
        sample_config: dict[str, str] | None = None,
        retry_after: int = 17,
    ) -> None:
        self.key = key
        self.routes = tuple((route, re.compile(route.path)) for route in routes)
        self._credential_ok = credential
        self._unauthorized = unauthorized
        self._rate_limited = rate_limited
        self._server_error = server_error
        self._not_found = not_found
        # Requests may carry the API base's path (in process) or not (loopback server).
        self.base_path = urlsplit(api_base_url).path.rstrip("/")
        #: Credentials and config that work against this simulator (test mode, tests).
        self.sample_credentials = dict(sample_credentials or {})
        self.sample_config = dict(sample_config or {})
        #: Seconds announced in Retry-After on a simulated 429.
        self.retry_after = retry_after
        #: Force every answer to fail: "401", "429", "500", "timeout" (or any 5xx code).
        self.fail_with: str | None = None

    # -- answering ----------------------------------------------------------------------
    def relative_path(self, path: str) -> str:
        if self.base_path and (path == self.base_path or path.startswith(self.base_path + "/")):
            path = path[len(self.base_path) :]
        return path or "/"

    def forced(self, request: SimRequest) -> SimResponse | None:
        mode = (request.headers.get(SIMULATE_HEADER) or self.fail_with or "").strip().lower()
        if not mode:
            return None
        if mode == "timeout":
            return self.inject("timeout", request)
        if mode == "401":
            return self.inject("auth_expired", request)
        if mode == "429":
            return self.inject("rate_limit", request)
        if mode.isdigit() and 500 <= int(mode) <= 599:
            response = self._server_error(request)
            return SimResponse(int(mode), response.body, response.headers)
        return json_response(400, {"error": f"unknown {SIMULATE_HEADER} value"})

    def inject(self, kind: str, request: SimRequest, retry_after: int | None = None) -> SimResponse:
        """The provider's own answer for a fault of `kind` (one of FAULT_KINDS): its real
        401/429/500 bodies, so the spec's error table classifies them as it would live."""
        if kind == "timeout":
            return SimResponse(504, timeout=True)
        if kind in ("auth_expired", "auth_revoked"):
            # Providers answer an expired and a revoked access token alike; the difference
            # shows at the token endpoint (invalid_grant), see backend/testmode/faults.py.
            return self._unauthorized(request)
        if kind == "rate_limit":
            return self._rate_limited(
                request, self.retry_after if retry_after is None else retry_after
            )
        if kind == "server_error":
            return self._server_error(request)
        if kind == "malformed":
            return self._malformed(request)
        raise ValueError(f"unknown fault kind {kind!r}")

    def _malformed(self, request: SimRequest) -> SimResponse:
        """A 200 whose body breaks the documented shape: the real answer cut short, as a
        proxy or a provider bug truncates it (no longer valid JSON)."""
        real = self._answer(request)
        body = real.body[: len(real.body) // 2] or b"{"
        return SimResponse(200, body, {"Content-Type": "application/json; charset=utf-8"})

    def handle(self, request: SimRequest) -> SimResponse:
        forced = self.forced(request)
        if forced is not None:
            return forced
        return self._answer(request)

    def _answer(self, request: SimRequest) -> SimResponse:
        for route, pattern in self.routes:
            if route.method == request.method and pattern.fullmatch(request.path):
                if route.authenticated and not self._credential_ok(request):
                    return self._unauthorized(request)
                return route.handler(request)
        return self._not_found(request)

    # -- transports ---------------------------------------------------------------------
    def request_from(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> SimRequest:
        parts = urlsplit(target)
        return SimRequest(
            method=method.upper(),
            path=self.relative_path(parts.path),
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
        )

    def _handle_httpx(self, request: httpx.Request) -> httpx.Response:
        return self.to_httpx(self.handle(self.sim_request(request)), request)

    def sim_request(self, request: httpx.Request) -> SimRequest:
        return self.request_from(
            request.method, str(request.url), dict(request.headers), request.content
        )

    @staticmethod
    def to_httpx(response: SimResponse, request: httpx.Request) -> httpx.Response:
        """An answer as httpx delivers it; a timeout raises as a real one would."""
        if response.timeout:
            raise httpx.ReadTimeout("simulated timeout", request=request)
        return httpx.Response(response.status, headers=response.headers, content=response.body)

    def transport(self) -> httpx.MockTransport:
        """In-process transport for test mode: every request goes to this simulator."""
        return httpx.MockTransport(self._handle_httpx)
