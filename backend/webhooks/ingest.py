"""Receive a webhook: find, verify, store durably, enqueue, answer — the hot path.

Order matters: nothing is processed before the signature verifies, and nothing is
acknowledged before the raw bytes are committed. Redis being down does not lose events
(the sweeper enqueues stored rows later); PostgreSQL being down answers 503 so the
provider retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import time
from typing import Any

import asyncpg
from litestar import Request, Response

from backend.connectors.base import (
    Reply,
    WebhookHandler,
    WebhookRequest,
    WebhookVerificationError,
)
from backend.connectors.registry import get_provider
from backend.lib.errors import Problem, problem_response
from backend.lib.queue import FastEnqueuer
from backend.lib.telemetry import current_trace_id
from backend.lib.tokens import hash_token
from backend.observability.services import write_log
from backend.settings import Settings
from backend.webhooks import material, metrics
from backend.webhooks.ratelimit import TokenBuckets
from backend.webhooks.store import store_event

log = logging.getLogger("switchboard.webhooks")

NORMALIZE_JOB = "normalize_event"
_NOT_FOUND = Problem(404, "No such webhook endpoint.")
_REDIS_BACKOFF_SECONDS = 5.0


class Ingestor:
    """Holds what the hot path reuses: settings, rate buckets, the one-trip enqueuer."""

    def __init__(self, settings: Settings, enqueuer: FastEnqueuer) -> None:
        self.settings = settings
        self.enqueuer = enqueuer
        self.buckets = TokenBuckets(settings.webhook_rate_limit)
        self._redis_down_until = 0.0
        self._background: set[asyncio.Task[Any]] = set()
        self._trusted = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]

    # -- helpers -----------------------------------------------------------------------
    def public_url(self, request: Request[Any, Any, Any]) -> str:
        """The URL the provider called (Twilio signs it): PUBLIC_BASE_URL, or forwarded
        headers when they come from a trusted proxy."""
        base = self.settings.public_base_url.rstrip("/")
        client = request.client.host if request.client else ""
        if self._trusted and client and request.headers.get("x-forwarded-host"):
            try:
                addr = ipaddress.ip_address(client)
            except ValueError:
                addr = None
            if addr is not None and any(addr in net for net in self._trusted):
                proto = request.headers.get("x-forwarded-proto", "https").split(",")[0].strip()
                host = request.headers["x-forwarded-host"].split(",")[0].strip()
                base = f"{proto}://{host}"
        path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        query = request.scope.get("query_string", b"").decode("latin-1")
        return f"{base}{path}?{query}" if query else f"{base}{path}"

    def _later(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _log_rejection(self, m: material.Material, reason: str) -> None:
        try:
            await write_log(
                m.tenant_id,
                m.integration_id,
                "webhook.rejected",
                f"delivery rejected: {reason}",
                level="warning",
                context={"reason": reason},
            )
        except Exception:
            log.warning("could not record a webhook rejection")

    async def _enqueue(self, event_id: str) -> None:
        if time.monotonic() < self._redis_down_until:
            return
        try:
            await self.enqueuer.enqueue(NORMALIZE_JOB, event_id, job_id=f"normalize:{event_id}:0")
        except Exception:
            self._redis_down_until = time.monotonic() + _REDIS_BACKOFF_SECONDS
            metrics.incr("enqueue_failed", "all")
            log.warning("redis unavailable; event %s left for the sweeper", event_id)

    # -- the path ----------------------------------------------------------------------
    async def receive(
        self, request: Request[Any, Any, Any], connector_id: str, token: str
    ) -> Response[Any]:
        token_hash = hash_token(token)
        try:
            m = await material.get(token_hash)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return _unavailable()
        if m is None or m.connector != connector_id:
            raise _NOT_FOUND
        wait = self.buckets.take(m.integration_id)
        if wait:
            metrics.incr("rate_limited", connector_id)
            raise Problem(
                429,
                "Too many deliveries for this integration.",
                headers={"Retry-After": str(max(1, int(wait + 0.999)))},
            )
        handler = get_provider(connector_id).webhook
        if handler is None:
            raise _NOT_FOUND
        body = await request.body()
        hook_request = WebhookRequest(
            method=request.method,
            url=self.public_url(request),
            headers={k.lower(): v for k, v in request.headers.items()},
            query=dict(request.query_params),
            body=body,
            received_at=time.time(),
        )
        try:
            if request.method == "GET":
                if type(handler).handshake is WebhookHandler.handshake:
                    raise Problem(405, "This provider sends no GET handshake; POST deliveries.")
                reply = await handler.handshake(hook_request, m.secrets)
                return _reply(reply)
            try:
                delivery = await handler.verify(hook_request, m.secrets)
            except WebhookVerificationError:
                # Secrets may have changed (PATCH, rotation) in any process: check once more
                # against fresh ones. Always, so a new secret works at once; forged traffic
                # is already bounded by the per-integration rate limit above.
                try:
                    fresh = await material.load(token_hash)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    return _unavailable()
                if fresh is None or fresh.connector != connector_id:
                    raise _NOT_FOUND from None
                m = fresh
                delivery = await handler.verify(hook_request, m.secrets)
        except WebhookVerificationError as exc:
            metrics.incr("rejected", connector_id)
            self._later(self._log_rejection(m, exc.reason))
            status = 403 if request.method == "GET" else 401
            raise Problem(
                status,
                f"Webhook verification failed: {exc.reason}",
                kind="signature-invalid",
                title="Webhook verification failed",
            ) from None
        if not delivery.store:
            metrics.incr("handshake", connector_id)
            return _reply(delivery.reply or Reply(200, b""))
        event_id = delivery.event_id or "sha256:" + hashlib.sha256(body).hexdigest()
        stored_headers = {
            k: hook_request.headers[k] for k in handler.stored_headers if k in hook_request.headers
        }
        try:
            result = await store_event(
                m.integration_id,
                token_hash,
                event_id,
                delivery.event_type,
                body,
                stored_headers,
                current_trace_id(),
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.exception("could not store a webhook")
            return _unavailable()
        if not result.owned:
            material.forget_all()
            raise _NOT_FOUND
        if not result.inserted:
            metrics.incr("duplicate", connector_id)
            return _ok(delivery.reply, {"status": "duplicate", "event_id": str(result.event_id)})
        metrics.incr("accepted", connector_id)
        await self._enqueue(str(result.event_id))
        return _ok(delivery.reply, {"status": "accepted", "event_id": str(result.event_id)})


def _reply(reply: Reply) -> Response[bytes]:
    return Response(content=reply.body, status_code=reply.status, media_type=reply.content_type)


def _ok(reply: Reply | None, body: dict[str, str]) -> Response[Any]:
    if reply is not None:
        return _reply(reply)
    return Response(content=body, status_code=200)


def _unavailable() -> Response[bytes]:
    return problem_response(
        Problem(503, "The event could not be stored; retry later.", headers={"Retry-After": "5"})
    )
