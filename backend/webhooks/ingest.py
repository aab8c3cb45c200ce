"""Receive a webhook: find, verify, store durably, answer, enqueue — the hot path.

Order matters: nothing is processed before the signature verifies, and nothing is
acknowledged before the raw bytes are committed. Redis being down does not lose events
(the sweeper enqueues stored rows later); PostgreSQL being down answers 503 so the
provider retries. The code here knows no web framework: `fastpath.py` serves POSTs
straight from ASGI, and the Litestar route serves GET handshakes, both through `ingest`
(per-integration URLs) and `ingest_app` (the operator's app URL, see `routing.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import msgspec

from backend.connectors.base import (
    Reply,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)
from backend.connectors.registry import get_provider
from backend.connectors.spec import WebhookContract
from backend.lib.client_ip import TrustedProxies
from backend.lib.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, Problem
from backend.lib.queue import FastEnqueuer
from backend.lib.telemetry import (
    current_trace_id,
    describe_integration,
    span_if_tracing,
)
from backend.lib.tokens import hash_token
from backend.observability.recorder import WebhookOutcome, record_app_webhook, record_webhook
from backend.observability.services import write_log
from backend.settings import Settings
from backend.webhooks import material, metrics, routing
from backend.webhooks.jobs import WAKE_JOB, wake_job_id
from backend.webhooks.ratelimit import SharedBuckets, TokenBuckets
from backend.webhooks.schemas import AppWebhookReceipt
from backend.webhooks.store import store_event, store_routed

log = logging.getLogger("switchboard.webhooks")

# Failed verifications per integration and minute that may reload secrets and write a log
# row; beyond it a forged delivery is answered 401 from memory.
_REJECTION_CHECKS_PER_MINUTE = 60
_REDIS_BACKOFF_SECONDS = 5.0
_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One delivery as received, before anything is trusted."""

    method: str
    connector_id: str
    token: str
    headers: dict[str, str]  # lower-cased names
    raw_path: str
    query_string: str
    body: bytes
    client_host: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def problem_answer(problem: Problem, path: str = "") -> Answer:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.kind,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if path:
        body["instance"] = path
    return Answer(problem.status, msgspec.json.encode(body), PROBLEM_MEDIA_TYPE, problem.headers)


def _reply(reply: Reply) -> Answer:
    return Answer(reply.status, reply.body, reply.content_type)


# Problems are made fresh for each raise: raising one shared instance again and again
# appends to its traceback, which keeps every failed request's frames (bodies) alive.
def _not_found() -> Problem:
    return Problem(404, "No such webhook endpoint.")


def _unavailable() -> Problem:
    return Problem(503, "The event could not be stored; retry later.", headers={"Retry-After": "5"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a webhook URL leads, resolved before the body is read."""

    token_hash: str
    material: material.Material
    handler: WebhookHandler
    contract: WebhookContract
    account_path: str = ""  # where events name their account ("" when they name none)


@dataclass(frozen=True, slots=True)
class AppEndpoint:
    """The operator's app URL of a connector, resolved before the body is read."""

    handler: WebhookHandler
    contract: WebhookContract
    secrets: WebhookSecrets  # the operator's, from the environment
    account_path: str
    budget_key: uuid.UUID  # the connector's share of the rejection budget


def _verification_failed(method: str, exc: WebhookVerificationError) -> Problem:
    return Problem(
        403 if method == "GET" else 401,
        f"Webhook verification failed: {exc.reason}",
        kind="signature-invalid",
        title="Webhook verification failed",
    )


def _other_account(provider_name: str) -> Problem:
    return Problem(
        403,
        f"The event belongs to another {provider_name} account than this integration's.",
        kind="account-mismatch",
        title="Event for another account",
    )


class Ingestor:
    """Holds what the hot path reuses: settings, rate buckets, the batched enqueuer."""

    def __init__(self, settings: Settings, enqueuer: FastEnqueuer) -> None:
        self.settings = settings
        self.enqueuer = enqueuer
        redis = enqueuer.redis if enqueuer is not None else None
        self.buckets = SharedBuckets(redis, settings.webhook_rate_limit)
        self.rejections = TokenBuckets(_REJECTION_CHECKS_PER_MINUTE)
        self._redis_down_until = 0.0
        self._background: set[asyncio.Task[Any]] = set()
        self._proxies = TrustedProxies(settings.trusted_proxies)
        self._base_url = settings.public_base_url.rstrip("/")
        self._woken = ""  # the last wake-up job id this process sent

    # -- helpers -----------------------------------------------------------------------
    def _hook_request(self, inbound: Inbound) -> WebhookRequest:
        return WebhookRequest(
            method=inbound.method,
            url=self.public_url(inbound),
            headers=inbound.headers,
            query=dict(parse_qsl(inbound.query_string, keep_blank_values=True)),
            body=inbound.body,
            received_at=time.time(),
        )

    def public_url(self, inbound: Inbound) -> str:
        """The URL the provider called (Twilio signs it): PUBLIC_BASE_URL, or forwarded
        headers when they come from a trusted proxy."""
        base = self._base_url
        forwarded_host = inbound.headers.get("x-forwarded-host")
        if forwarded_host and self._proxies.vouches_for(inbound.client_host):
            proto = inbound.headers.get("x-forwarded-proto", "https").split(",")[0].strip()
            base = f"{proto}://{forwarded_host.split(',')[0].strip()}"
        if inbound.query_string:
            return f"{base}{inbound.raw_path}?{inbound.query_string}"
        return f"{base}{inbound.raw_path}"

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

    async def _spend(self, integration_id: uuid.UUID, connector_id: str) -> None:
        wait = await self.buckets.take(integration_id)
        if wait:
            metrics.incr("rate_limited", connector_id)
            raise Problem(
                429,
                "Too many deliveries for this integration.",
                headers={"Retry-After": str(max(1, int(wait + 0.999)))},
            )

    # -- wake a worker, off the request ----------------------------------------------------
    def _wake_soon(self) -> None:
        """Ask for normalization after the answer: at most one wake-up per slot and process
        reaches Redis (the worker claims stored rows in batches, not ids from the queue).
        The row is already durable; if this process dies first, the sweeper wakes a worker."""
        if time.monotonic() < self._redis_down_until:
            return
        job_id, due_ms = wake_job_id(int(time.time() * 1000), self.enqueuer.queue_name)
        if job_id == self._woken:
            return
        self._woken = job_id
        self._later(self._wake(job_id, due_ms))

    async def _wake(self, job_id: str, due_ms: int) -> None:
        try:
            await self.enqueuer.enqueue(WAKE_JOB, job_id=job_id, traceparent="", due_ms=due_ms)
        except Exception:
            self._woken = ""
            self._redis_down_until = time.monotonic() + _REDIS_BACKOFF_SECONDS
            metrics.incr("enqueue_failed", "all")
            log.warning("redis unavailable; stored events left for the sweeper")

    async def drain(self) -> None:
        """Finish pending wake-ups and log writes (shutdown, tests)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # -- the path ----------------------------------------------------------------------
    async def resolve(self, connector_id: str, token: str) -> Endpoint:
        """The integration behind a URL, from the material cache (misses included): an
        unknown URL is refused before its body is read, and mostly without the database."""
        token_hash = hash_token(token)
        try:
            m = await material.get(token_hash)
        except _DB_ERRORS:
            raise _unavailable() from None
        if m is None or m.connector != connector_id:
            raise _not_found()
        provider = get_provider(connector_id)
        handler, contract = provider.webhook, provider.spec.webhook
        if handler is None or contract is None:
            raise _not_found()
        return Endpoint(token_hash, m, handler, contract, routing.account_path(contract))

    async def ingest(self, inbound: Inbound, endpoint: Endpoint | None = None) -> Answer:
        """Answer one request; `endpoint` when the caller resolved the URL already."""
        try:
            if endpoint is None:
                endpoint = await self.resolve(inbound.connector_id, inbound.token)
            return await self._ingest(inbound, endpoint)
        except Problem as problem:
            return problem_answer(problem)

    async def _still_owned(self, endpoint: Endpoint) -> None:
        """An answer that stores nothing (a handshake) gets no ownership check from the
        insert: ask the database, so a rotated or revoked URL stops answering at once."""
        try:
            owned = await material.still_owned(endpoint.material, endpoint.token_hash)
        except _DB_ERRORS:
            raise _unavailable() from None
        if not owned:
            raise _not_found()

    async def _ingest(self, inbound: Inbound, endpoint: Endpoint) -> Answer:
        started = time.perf_counter()
        connector_id = inbound.connector_id
        token_hash, m, handler = endpoint.token_hash, endpoint.material, endpoint.handler
        hook_request = self._hook_request(inbound)
        describe_integration(m.tenant_id, m.integration_id, connector_id)
        # Forged deliveries cost an HMAC each; only the rejection budget lets them cost
        # database work (a reload of the secrets, a log row).
        checked = False
        try:
            if inbound.method == "GET":
                if type(handler).handshake is WebhookHandler.handshake:
                    raise Problem(405, "This provider sends no GET handshake; POST deliveries.")
                await self._spend(m.integration_id, connector_id)
                try:
                    reply = await handler.handshake(hook_request, m.secrets)
                except WebhookVerificationError:
                    checked = self.rejections.take(m.integration_id) == 0
                    raise
                await self._still_owned(endpoint)
                return _reply(reply)
            try:
                with span_if_tracing("webhook.verify"):
                    delivery = await handler.verify(hook_request, m.secrets)
            except WebhookVerificationError:
                checked = self.rejections.take(m.integration_id) == 0
                if not checked:
                    raise
                # Secrets may have changed (PATCH, rotation) in any process: check once more
                # against fresh ones, so a new secret works at once.
                try:
                    fresh = await material.load(token_hash)
                except _DB_ERRORS:
                    return problem_answer(_unavailable())
                if fresh is None or fresh.connector != connector_id:
                    raise _not_found() from None
                m = fresh
                delivery = await handler.verify(hook_request, m.secrets)
        except WebhookVerificationError as exc:
            metrics.incr("rejected", connector_id)
            if inbound.method == "POST":
                record_webhook(
                    m.tenant_id,
                    m.integration_id,
                    connector_id,
                    WebhookOutcome.REJECTED,
                    "signature",
                )
            if checked:
                self._later(self._log_rejection(m, exc.reason))
            raise _verification_failed(inbound.method, exc) from None
        # Only verified deliveries spend the integration's budget: forged traffic cannot
        # crowd out the provider's.
        try:
            await self._spend(m.integration_id, connector_id)
        except Problem:
            record_webhook(
                m.tenant_id, m.integration_id, connector_id, WebhookOutcome.REJECTED, "rate_limited"
            )
            raise
        if not delivery.store:
            await self._still_owned(endpoint)
            metrics.incr("handshake", connector_id)
            return _reply(delivery.reply or Reply(200, b""))
        self._check_account(endpoint, hook_request, delivery)
        body = inbound.body
        event_id = routing.event_key(delivery.event_id, body)
        headers = inbound.headers
        stored_headers = {k: headers[k] for k in handler.stored_headers if k in headers}
        try:
            result = await store_event(
                m.integration_id,
                token_hash,
                event_id,
                delivery.event_type,
                body,
                stored_headers,
                current_trace_id(),
                delivery.signed_digest,
            )
        except _DB_ERRORS:
            log.exception("could not store a webhook")
            return problem_answer(_unavailable())
        if not result.owned:
            material.forget(token_hash)
            raise _not_found()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if not result.inserted:
            metrics.incr("duplicate", connector_id)
            record_webhook(
                m.tenant_id,
                m.integration_id,
                connector_id,
                WebhookOutcome.DUPLICATE,
                "",
                elapsed_ms,
            )
            return _ok(delivery.reply, b'{"status":"duplicate","event_id":"%s"}', result.event_id)
        metrics.incr("accepted", connector_id)
        record_webhook(
            m.tenant_id, m.integration_id, connector_id, WebhookOutcome.ACCEPTED, "", elapsed_ms
        )
        self._wake_soon()
        return _ok(delivery.reply, b'{"status":"accepted","event_id":"%s"}', result.event_id)

    def _check_account(
        self, endpoint: Endpoint, request: WebhookRequest, delivery: VerifiedDelivery
    ) -> None:
        """Refuse an event of another account than the integration's own (once both are
        known): a provider app sending everyone's events to one tenant's URL must not leak
        them into that tenant's integration."""
        m = endpoint.material
        if not m.account_id or not endpoint.account_path:
            return
        parts = routing.delivery_parts(endpoint.handler, endpoint.contract, request, delivery)
        if not routing.names_other_account(parts, endpoint.account_path, m.account_id):
            return
        metrics.incr("account_mismatch", m.connector)
        record_webhook(
            m.tenant_id, m.integration_id, m.connector, WebhookOutcome.REJECTED, "account"
        )
        if self.rejections.take(m.integration_id) == 0:
            self._later(self._log_rejection(m, "the event belongs to another account"))
        raise _other_account(get_provider(m.connector).spec.name)

    # -- the operator's app URL ----------------------------------------------------------
    def resolve_app(self, connector_id: str) -> AppEndpoint:
        """The app URL of a connector whose spec says `app_level` and whose secret the
        operator set; any other is the same 404 as an unknown per-integration URL."""
        try:
            provider = get_provider(connector_id)
        except KeyError:
            raise _not_found() from None
        handler, contract = provider.webhook, provider.spec.webhook
        if (
            handler is None
            or contract is None
            or not contract.app_level
            or connector_id in self.settings.disabled_connectors
        ):
            raise _not_found()
        secrets = routing.operator_secrets(provider.spec)
        if secrets is None:
            raise _not_found()
        return AppEndpoint(
            handler,
            contract,
            secrets,
            routing.account_path(contract),
            uuid.uuid5(uuid.NAMESPACE_URL, f"switchboard:app-webhook:{connector_id}"),
        )

    async def ingest_app(self, inbound: Inbound, endpoint: AppEndpoint | None = None) -> Answer:
        """Answer one request to an app URL; `endpoint` when the caller resolved it."""
        try:
            if endpoint is None:
                endpoint = self.resolve_app(inbound.connector_id)
            return await self._ingest_app(inbound, endpoint)
        except Problem as problem:
            return problem_answer(problem)

    async def _ingest_app(self, inbound: Inbound, endpoint: AppEndpoint) -> Answer:
        """Verify with the operator's secret, then store each event for its account's
        integrations. No per-integration rate limit: a 429 would make the provider retry
        the whole delivery, every other account's events included."""
        connector_id, handler = inbound.connector_id, endpoint.handler
        hook_request = self._hook_request(inbound)
        try:
            if inbound.method == "GET":
                if type(handler).handshake is WebhookHandler.handshake:
                    raise Problem(405, "This provider sends no GET handshake; POST deliveries.")
                return _reply(await handler.handshake(hook_request, endpoint.secrets))
            delivery = await handler.verify(hook_request, endpoint.secrets)
        except WebhookVerificationError as exc:
            metrics.incr("rejected", connector_id)
            record_app_webhook(connector_id, WebhookOutcome.REJECTED, "signature")
            if self.rejections.take(endpoint.budget_key) == 0:
                log.warning("app-level %s delivery rejected: %s", connector_id, exc.reason)
            raise _verification_failed(inbound.method, exc) from None
        if not delivery.store:
            metrics.incr("handshake", connector_id)
            return _reply(delivery.reply or Reply(200, b""))
        parts = routing.delivery_parts(handler, endpoint.contract, hook_request, delivery)
        events = routing.routed_events(parts, endpoint.account_path)
        headers = inbound.headers
        stored_headers = {k: headers[k] for k in handler.stored_headers if k in headers}
        try:
            result = await store_routed(connector_id, events, stored_headers, current_trace_id())
        except _DB_ERRORS:
            log.exception("could not store an app-level webhook")
            return problem_answer(_unavailable())
        metrics.incr("accepted", connector_id, len(result.inserted))
        metrics.incr("duplicate", connector_id, result.duplicates)
        # Events of accounts nobody connected: counted and dropped with a 2xx, so the
        # provider does not retry them forever.
        metrics.incr("unknown_account", connector_id, result.unrouted)
        record_app_webhook(connector_id, WebhookOutcome.ACCEPTED, by=len(result.inserted))
        record_app_webhook(connector_id, WebhookOutcome.DUPLICATE, by=result.duplicates)
        record_app_webhook(
            connector_id, WebhookOutcome.REJECTED, "unknown_account", result.unrouted
        )
        if result.inserted:
            self._wake_soon()
        if delivery.reply is not None:
            return _reply(delivery.reply)
        receipt = AppWebhookReceipt(
            status="accepted",
            events=len(events),
            stored=len(result.inserted),
            duplicates=result.duplicates,
            unrouted=result.unrouted,
        )
        return Answer(200, msgspec.json.encode(receipt))


def _ok(reply: Reply | None, template: bytes, event_id: Any) -> Answer:
    if reply is not None:
        return _reply(reply)
    return Answer(200, template % str(event_id).encode())
