"""Simulate a connector's webhooks through the real path, and purge what simulation left.

Simulate builds the connector's deliveries (its folder's `events.py`), signs them as the
provider would with the integration's current secret, and sends them over HTTP to the
integration's own webhook URL: verification, dedupe, storage, normalization and mapping
all run for real, and each delivery's status is what our endpoint answered. The URL signed
is the public one (Twilio and HubSpot sign the URL); the request travels to this api by
`transport` (an ASGI transport in tests), else over loopback to `effective_api_url`.

Why rows are flagged `simulated` here, after each send, by the row id our endpoint
answered: ingest cannot tell a simulated delivery from a provider's (a header anyone could
send proves nothing), and need not. Only this service knows which sends were its own, and a
stored delivery's receipt names its row (`{"status": "accepted", "event_id": ...}`).
Flagging exactly those rows, scoped to the tenant and the integration, can never mark what
a provider sent: a duplicate's receipt names the row stored first, flagged by then if it
was ours and left alone if it was real (an override that reuses a real event's id). Until
its send returns a row reads unflagged; normalization does not read the flag.

Per-integration URLs only: the operator's app URL stores nothing for test-mode
integrations, and signing for it would take the operator's secret, not the tenant's.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    SigningContext,
    SimulationContext,
)
from backend.connectors.generators import Generators, generators_of
from backend.connectors.registry import Provider, get_provider
from backend.integrations import secrets as sealed
from backend.integrations import services as integrations
from backend.integrations import webhook_registration as registration
from backend.integrations.services import RequestMeta
from backend.lib.clock import utc_now
from backend.lib.errors import Problem, validation_error
from backend.lib.telemetry import current_trace_id
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import IntegrationStatus
from backend.observability.services import scrub, write_audit
from backend.observability.tables import IntegrationLog
from backend.settings import Settings
from backend.testmode.schemas import (
    SimulatedDelivery,
    SimulateRequest,
    SimulationResult,
    TestDataPurged,
)
from backend.webhooks.tables import IntegrationWebhook

# How far back a stale delivery's signed time goes: beyond every provider's window (five
# minutes for Stripe, Slack, HubSpot, PayPal and Standard Webhooks; an hour for the OIDC
# token of a Pub/Sub push).
STALE_BY_SECONDS = 24 * 3600
# A build can fail on overrides that change a field's shape the template relies on.
_BUILD_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


@dataclass(frozen=True, slots=True)
class _Target:
    """One integration as its provider sees it: where to deliver and what to sign with."""

    integration_id: uuid.UUID
    provider: Provider
    generators: Generators
    path: str  # our webhook URL's path, with its token
    public_url: str  # the same URL as the provider calls it (signed by some)
    signing_secret: str | None
    credentials: dict[str, Any]
    config: dict[str, Any]  # opened: what signing may use
    public_config: dict[str, Any]  # what a generated payload may show
    account_id: str | None


@dataclass(frozen=True, slots=True)
class _Send:
    delivery: OutboundDelivery
    headers: dict[str, str]


async def _target(scope: TenantScope, integration_id: str, settings: Settings) -> _Target:
    row = await integrations.get(scope, integration_id)
    provider = get_provider(row["connector"])
    name = provider.spec.name
    if row["status"] == IntegrationStatus.REVOKED:
        raise Problem(409, "A revoked integration receives no webhooks.")
    generators = generators_of(provider)
    if provider.spec.webhook is None or generators is None:
        raise Problem(409, f"{name} has no webhook events to simulate.")
    token = await sealed.open_token(row["tenant"], row["id"], row["webhook_token_sealed"])
    if not token:
        raise Problem(409, "This integration has no webhook URL.")
    signing = await sealed.open_signing_secrets(row["tenant"], row["id"], row["webhook_secrets"])
    current = next((s.secret for s in signing if s.expires_at is None), None)
    if current is None and provider.spec.webhook.signing_secret_source in ("user", "generated"):
        raise Problem(
            409,
            f"{name} signs deliveries with the integration's webhook signing secret and none "
            "is set: set `webhook_signing_secret` first.",
        )
    stored_config: dict[str, Any] = row["config"] or {}
    url = registration.webhook_url(settings, provider.key, token)
    return _Target(
        integration_id=row["id"],
        provider=provider,
        generators=generators,
        path=f"/api/webhooks/{provider.key}/{token}",
        public_url=url,
        signing_secret=current,
        credentials=await sealed.open_credentials(row["tenant"], row["id"], row["credentials"]),
        config=await sealed.open_config(row["tenant"], row["id"], stored_config),
        public_config={k: v for k, v in stored_config.items() if not k.startswith("_")},
        account_id=row["account_id"] or None,
    )


def _event_types(target: _Target, request: SimulateRequest) -> list[EventType]:
    """The event type of each delivery: the one asked for, else every known type in turn."""
    known = target.generators.event_types
    if request.event_type is None:
        return [known[i % len(known)] for i in range(request.count)]
    chosen = target.generators.find(request.event_type)
    if chosen is None:
        names = ", ".join(e.name for e in known)
        raise validation_error(
            "event_type", f"{target.provider.spec.name} knows these event types: {names}"
        )
    return [chosen] * request.count


def _build(target: _Target, request: SimulateRequest, now: float) -> list[OutboundDelivery]:
    built = []
    for sequence, event_type in enumerate(_event_types(target, request)):
        ctx = SimulationContext(
            integration_id=str(target.integration_id),
            account_id=target.account_id,
            config=target.public_config,
            now=now,
            sequence=sequence,
            overrides=request.overrides or {},
        )
        try:
            built.append(event_type.build(ctx))
        except _BUILD_ERRORS as exc:
            raise validation_error(
                "overrides",
                f"the {event_type.name} payload cannot take them ({type(exc).__name__})",
            ) from None
    return built


def _signing(target: _Target, timestamp: float, forged: bool = False) -> SigningContext:
    if not forged:
        return SigningContext(
            target.public_url, target.signing_secret, target.credentials, target.config, timestamp
        )
    # Another secret in the provider's format, and every credential string changed (some
    # providers sign with a credential, Twilio's auth token).
    wrong_secret = sealed.generate_signing_secret(target.provider.spec)
    credentials = {
        k: f"{v}{secrets.token_hex(4)}" if isinstance(v, str) else v
        for k, v in target.credentials.items()
    }
    return SigningContext(target.public_url, wrong_secret, credentials, target.config, timestamp)


def _signed(target: _Target, delivery: OutboundDelivery, ctx: SigningContext) -> _Send:
    signature = target.generators.sign(delivery, ctx)
    headers = {**delivery.headers, **{k.lower(): v for k, v in signature.items()}}
    return _Send(delivery, headers)


def _sends(
    target: _Target, request: SimulateRequest, deliveries: list[OutboundDelivery], now: float
) -> list[_Send]:
    """What goes over the wire, in order, for the requested variant."""
    variant = request.variant
    if variant == "stale":
        stale = now - STALE_BY_SECONDS
        first = deliveries[0]
        if target.generators.sign(first, _signing(target, now)) == target.generators.sign(
            first, _signing(target, stale)
        ):
            webhook = target.provider.spec.webhook
            scheme = webhook.scheme if webhook is not None else ""
            raise validation_error(
                "variant",
                f"{target.provider.spec.name} signs no timestamp ({scheme}): a stale delivery "
                "cannot be told from a fresh one",
            )
        return [_signed(target, d, _signing(target, stale)) for d in deliveries]
    if variant == "bad_signature":
        return [_signed(target, d, _signing(target, now, forged=True)) for d in deliveries]
    sends = [_signed(target, d, _signing(target, now)) for d in deliveries]
    if variant == "out_of_order":
        return sends[::-1]  # newest first; each keeps its own provider time
    if variant == "duplicate":
        return [s for send in sends for s in (send, send)]  # the same signed bytes twice
    return sends


@asynccontextmanager
async def loopback_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client that reaches this api: `transport` when given (tests), else the api's own
    address (operator configuration, so no SSRF guard: it is loopback by design)."""
    base = settings.public_base_url if transport is not None else settings.effective_api_url
    async with httpx.AsyncClient(
        transport=transport, base_url=base, timeout=settings.http_timeout
    ) as client:
        yield client


def _stored_row(response: httpx.Response) -> uuid.UUID | None:
    """The row a 200 receipt names (`accepted`: a new row; `duplicate`: the first one)."""
    if response.status_code != 200:
        return None
    try:
        receipt = msgspec.json.decode(response.content)
        return uuid.UUID(str(receipt["event_id"])) if receipt.get("status") == "accepted" else None
    except (msgspec.DecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None


async def _flag(scope: TenantScope, integration_id: uuid.UUID, rows: list[uuid.UUID]) -> None:
    if rows:
        await scope.update(IntegrationWebhook, {IntegrationWebhook.simulated: True}).where(
            (IntegrationWebhook.integration == integration_id) & IntegrationWebhook.id.is_in(rows)
        )


async def _deliver(
    scope: TenantScope, target: _Target, sends: list[_Send], client: httpx.AsyncClient
) -> list[SimulatedDelivery]:
    """One send at a time, so receipt order is send order; rows flagged as they are stored."""
    answered: list[SimulatedDelivery] = []
    for send in sends:
        delivery = send.delivery
        path = f"{target.path}?{delivery.query}" if delivery.query else target.path
        try:
            response = await client.request(
                delivery.method, path, headers=send.headers, content=delivery.body
            )
        except httpx.HTTPError:
            raise Problem(
                502, "The api's own webhook endpoint could not be reached (SWITCHBOARD_API_URL)."
            ) from None
        row = _stored_row(response)
        if row is not None:
            await _flag(scope, target.integration_id, [row])
        answered.append(
            SimulatedDelivery(delivery.event_type, delivery.provider_event_id, response.status_code)
        )
    return answered


async def _log_simulation(
    scope: TenantScope, target: _Target, request: SimulateRequest, sent: list[SimulatedDelivery]
) -> None:
    statuses = Counter(str(d.status) for d in sent)
    await IntegrationLog.insert(
        scope.new(
            IntegrationLog,
            integration=target.integration_id,
            level="info",
            event="webhooks.simulated",
            message=f"{len(sent)} simulated {target.provider.spec.name} deliveries "
            f"({request.variant})",
            context=scrub(
                {
                    "variant": request.variant,
                    "event_type": request.event_type,
                    "sent": len(sent),
                    "statuses": dict(statuses),
                }
            ),
            trace_id=current_trace_id(),
            created_at=utc_now(),
            simulated=True,
        )
    )


async def simulate(
    scope: TenantScope,
    integration_id: str,
    request: SimulateRequest,
    meta: RequestMeta,
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> SimulationResult:
    target = await _target(scope, integration_id, settings)
    now = time.time()
    sends = _sends(target, request, _build(target, request, now), now)
    async with loopback_client(settings, transport) as client:
        sent = await _deliver(scope, target, sends, client)
    await _log_simulation(scope, target, request, sent)
    await write_audit(
        scope.tenant_id,
        meta.actor,
        "integration.simulate",
        "integration",
        str(target.integration_id),
        ip=meta.ip,
        user_agent=meta.user_agent,
        details={"variant": request.variant, "event_type": request.event_type, "sent": len(sent)},
    )
    return SimulationResult(len(sent), sent)


async def purge(scope: TenantScope, integration_id: str, meta: RequestMeta) -> TestDataPurged:
    """Delete the integration's simulated events (their normalized and mapped records live
    in the same rows) and simulated log entries, nothing else, and audit it."""
    row = await integrations.get(scope, integration_id)
    async with IntegrationWebhook._meta.db.transaction():
        events = (
            await scope.delete(IntegrationWebhook)
            .where(
                (IntegrationWebhook.integration == row["id"])
                & (IntegrationWebhook.simulated.eq(True))
            )
            .returning(IntegrationWebhook.id)
        )
        logs = (
            await scope.delete(IntegrationLog)
            .where((IntegrationLog.integration == row["id"]) & (IntegrationLog.simulated.eq(True)))
            .returning(IntegrationLog.id)
        )
        purged = TestDataPurged(events=len(events), logs=len(logs))
        await write_audit(
            scope.tenant_id,
            meta.actor,
            "integration.purge_test_data",
            "integration",
            str(row["id"]),
            ip=meta.ip,
            user_agent=meta.user_agent,
            details=msgspec.to_builtins(purged),
        )
    return purged
