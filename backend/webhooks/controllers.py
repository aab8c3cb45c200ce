"""Webhook receiver (public, signature-verified) and the stored-events API (tenant-scoped)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import Provide
from litestar.openapi import ResponseSpec

from backend.integrations import services as integrations
from backend.integrations.controllers import provide_scope, request_meta
from backend.lib.errors import not_found
from backend.lib.pagination import (
    choice_parameter,
    clamp_limit,
    cursor_parameter,
    filter_parameter,
    limit_parameter,
    paginate,
    parse_choice,
    parse_time,
    time_parameter,
)
from backend.lib.queue import FastEnqueuer
from backend.lib.tenancy import TenantScope
from backend.mappings.views import MappingView, mapping_view
from backend.observability.services import write_audit
from backend.tenants.services import TenantContext
from backend.webhooks.fastpath import receipt_span
from backend.webhooks.ingest import Inbound, Ingestor
from backend.webhooks.jobs import NORMALIZE_JOB
from backend.webhooks.schemas import (
    AppWebhookReceipt,
    BulkReplayed,
    Event,
    EventDetail,
    EventPage,
    EventReplayed,
    EventStatus,
    WebhookReceipt,
)
from backend.webhooks.tables import IntegrationWebhook

# One call replays at most this many events, so a large backlog never becomes one request.
REPLAY_DEFAULT_LIMIT = 500
REPLAY_MAX_LIMIT = 1000
_FLAGS = ("true", "false")


class WebhookReceiver(Controller):
    """Documents the receiver and serves GET handshakes; POST deliveries are answered by
    `webhooks/fastpath.py` before Litestar sees them (this POST route serves only when the
    app runs without that adapter)."""

    path = "/api/webhooks"
    tags = ["webhooks"]

    @post(
        "/{connector_id:str}/{token:str}",
        operation_id="receive_webhook",
        summary="Receive a provider's webhook delivery (signed; the body is the provider's)",
        security=[],
        status_code=200,
        responses={
            200: ResponseSpec(
                data_container=WebhookReceipt,
                description="Stored, or stored before (a provider's verification reply, such "
                "as Slack's challenge, is text/plain instead)",
            )
        },
    )
    async def receive(
        self, request: Request[Any, Any, Any], connector_id: str, token: str
    ) -> Response[bytes]:
        return await self._ingest(request, connector_id, token)

    @get(
        "/{connector_id:str}/{token:str}",
        operation_id="answer_webhook_handshake",
        summary="Answer a provider's subscription handshake (405 where it sends none)",
        security=[],
        status_code=200,
        media_type=MediaType.TEXT,
    )
    async def handshake(
        self, request: Request[Any, Any, Any], connector_id: str, token: str
    ) -> Response[bytes]:
        return await self._ingest(request, connector_id, token)

    @post(
        "/{connector_id:str}",
        operation_id="receive_app_webhook",
        summary="Receive a delivery for the operator's provider app (every account's events)",
        description="For connectors whose provider sends every account's events to one app "
        "URL (Slack's Events API, HubSpot, Gmail's Pub/Sub push, Meta): verified with the "
        "operator's secret (`SWITCHBOARD_<KEY>_WEBHOOK_SECRET`, HubSpot's client secret), "
        "then each event is stored for every integration connected to its account. Events "
        "of an account no integration is connected to are counted and dropped.",
        security=[],
        status_code=200,
        responses={
            200: ResponseSpec(
                data_container=AppWebhookReceipt,
                description="Verified and routed (a provider's verification reply, such as "
                "Slack's challenge, is text/plain instead)",
            )
        },
    )
    async def receive_app(
        self, request: Request[Any, Any, Any], connector_id: str
    ) -> Response[bytes]:
        return await self._ingest(request, connector_id, "")

    @get(
        "/{connector_id:str}",
        operation_id="answer_app_webhook_handshake",
        summary="Answer a provider's subscription handshake for the operator's app URL",
        security=[],
        status_code=200,
        media_type=MediaType.TEXT,
    )
    async def app_handshake(
        self, request: Request[Any, Any, Any], connector_id: str
    ) -> Response[bytes]:
        return await self._ingest(request, connector_id, "")

    async def _ingest(
        self, request: Request[Any, Any, Any], connector_id: str, token: str
    ) -> Response[bytes]:
        """A per-integration URL (`token` set) or the operator's app URL."""
        ingestor: Ingestor = request.app.state.ingestor
        with receipt_span(request.method, connector_id, app_level=not token) as span:
            inbound = Inbound(
                method=request.method,
                connector_id=connector_id,
                token=token,
                headers={k.lower(): v for k, v in request.headers.items()},
                raw_path=request.scope.get("raw_path", b"").decode("latin-1") or request.url.path,
                query_string=request.scope.get("query_string", b"").decode("latin-1"),
                body=await request.body(),
                client_host=request.client.host if request.client else "",
            )
            if token:
                answer = await ingestor.ingest(inbound)
            else:
                answer = await ingestor.ingest_app(inbound)
            span.set_attribute("http.response.status_code", answer.status)
        return Response(
            content=answer.body,
            status_code=answer.status,
            media_type=answer.content_type,
            headers=answer.headers,
        )


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def mapping_fields(r: dict[str, Any]) -> MappingView:
    """`mapped`, `mapping_version`, `mapping_errors` from the stored envelope (a full row) or
    from the list query's columns of the same names."""
    if "normalized" in r:
        envelope = _json(r["normalized"]) or {}
        return mapping_view(
            envelope.get("mapped"), envelope.get("mappingversion"), envelope.get("mappingerrors")
        )
    return mapping_view(_json(r["mapped"]), _json(r["mapping_version"]), _json(r["mapping_errors"]))


def to_event(r: dict[str, Any]) -> Event:
    return Event(
        str(r["id"]),
        r["provider_event_id"],
        r["event_type"],
        r["status"],
        r["received_at"],
        r["processed_at"],
        r["attempts"],
        r["duplicates"],
        r["error"],
        *mapping_fields(r),
        r["simulated"],
    )


def to_detail(r: dict[str, Any]) -> EventDetail:
    raw = bytes(r["raw_body"])
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode(), "base64"
    normalized = r["normalized"]
    if isinstance(normalized, str):
        normalized = msgspec.json.decode(normalized)
    headers = r["headers"] or {}
    if isinstance(headers, str):
        headers = msgspec.json.decode(headers)
    return EventDetail(
        str(r["id"]),
        r["provider_event_id"],
        r["event_type"],
        r["status"],
        r["received_at"],
        r["processed_at"],
        r["attempts"],
        r["duplicates"],
        r["error"],
        headers,
        text,
        encoding,  # type: ignore[arg-type]
        normalized,
        r["trace_id"],
        *mapping_fields(r),
        r["simulated"],
    )


_LIST_COLUMNS = [
    IntegrationWebhook.id,
    IntegrationWebhook.provider_event_id,
    IntegrationWebhook.event_type,
    IntegrationWebhook.status,
    IntegrationWebhook.received_at,
    IntegrationWebhook.processed_at,
    IntegrationWebhook.attempts,
    IntegrationWebhook.duplicates,
    IntegrationWebhook.error,
    IntegrationWebhook.simulated,
    IntegrationWebhook.normalized.arrow("mapped").as_alias("mapped"),
    IntegrationWebhook.normalized.arrow("mappingversion").as_alias("mapping_version"),
    IntegrationWebhook.normalized.arrow("mappingerrors").as_alias("mapping_errors"),
]


class EventController(Controller):
    path = "/api/integrations/{integration_id:str}/events"
    tags = ["events"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @get("/", operation_id="list_events", summary="Received webhook events, newest first")
    async def list_events(
        self,
        tenancy: TenantScope,
        integration_id: str,
        type: str | None = filter_parameter("Only events of this type."),
        status: str | None = choice_parameter(tuple(EventStatus), "Only events in this state."),
        since: str | None = time_parameter("Received at or after this instant."),
        until: str | None = time_parameter("Received before this instant."),
        simulated: str | None = choice_parameter(
            _FLAGS, "Only simulated events (true) or only the provider's (false)."
        ),
        limit: int = limit_parameter(),
        cursor: str | None = cursor_parameter(),
    ) -> EventPage:
        received_from, received_before = parse_time("since", since), parse_time("until", until)
        row = await integrations.get(tenancy, integration_id)
        query = tenancy.select(IntegrationWebhook, *_LIST_COLUMNS).where(
            IntegrationWebhook.integration == row["id"]
        )
        if type:
            query = query.where(IntegrationWebhook.event_type == type)
        if parse_choice("status", status, tuple(EventStatus)):
            query = query.where(IntegrationWebhook.status == status)
        if parse_choice("simulated", simulated, _FLAGS):
            query = query.where(IntegrationWebhook.simulated.eq(simulated == "true"))
        if received_from:
            query = query.where(IntegrationWebhook.received_at >= received_from)
        if received_before:
            query = query.where(IntegrationWebhook.received_at < received_before)
        rows, next_cursor = await paginate(
            query, time_column="received_at", cursor=cursor, limit=clamp_limit(limit)
        )
        return EventPage([to_event(r) for r in rows], next_cursor)

    async def _event(
        self, tenancy: TenantScope, integration_id: str, event_id: str
    ) -> dict[str, Any]:
        row = await integrations.get(tenancy, integration_id)
        try:
            key = uuid.UUID(event_id)
        except ValueError:
            raise not_found("event") from None
        event = (
            await tenancy.select(IntegrationWebhook)
            .where((IntegrationWebhook.integration == row["id"]) & (IntegrationWebhook.id == key))
            .first()
        )
        if event is None:
            raise not_found("event")
        return event

    @get(
        "/{event_id:str}",
        operation_id="get_event",
        summary="One event: raw bytes as received and the normalized envelope",
    )
    async def get_event(
        self, tenancy: TenantScope, integration_id: str, event_id: str
    ) -> EventDetail:
        return to_detail(await self._event(tenancy, integration_id, event_id))

    @post(
        "/{event_id:str}/replay",
        operation_id="replay_event",
        summary="Re-run normalization from the stored raw bytes",
        status_code=202,
    )
    async def replay_event(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        event_id: str,
    ) -> EventReplayed:
        event = await self._event(tenancy, integration_id, event_id)
        if event["status"] in ("failed", "dead"):  # a fresh set of retries, like replay-failed
            await tenancy.update(IntegrationWebhook, {IntegrationWebhook.attempts: 0}).where(
                IntegrationWebhook.id == event["id"]
            )
        await request.app.state.redis.enqueue_job(
            NORMALIZE_JOB,
            str(event["id"]),
            True,
            _job_id=f"normalize:{event['id']}:replay:{uuid.uuid4().hex}",
        )
        meta = request_meta(request)
        await write_audit(
            tenancy.tenant_id,
            meta.actor,
            "event.replay",
            "event",
            str(event["id"]),
            ip=meta.ip,
            user_agent=meta.user_agent,
            details={"integration": integration_id},
        )
        return EventReplayed(to_event(event))

    @post(
        "/replay-failed",
        operation_id="replay_failed_events",
        summary="Replay failed or dead events, one bounded page per call",
        description="Newest first, at most `limit` events per call. While `next_cursor` is not "
        "null, call again with it to replay the next page.",
        status_code=202,
    )
    async def replay_failed(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        limit: int = limit_parameter(REPLAY_DEFAULT_LIMIT, REPLAY_MAX_LIMIT),
        cursor: str | None = cursor_parameter(),
    ) -> BulkReplayed:
        row = await integrations.get(tenancy, integration_id)
        query = tenancy.select(
            IntegrationWebhook, IntegrationWebhook.id, IntegrationWebhook.received_at
        ).where(
            (IntegrationWebhook.integration == row["id"])
            & IntegrationWebhook.status.is_in(["failed", "dead"])
        )
        page, next_cursor = await paginate(
            query,
            time_column="received_at",
            cursor=cursor,
            limit=clamp_limit(limit, REPLAY_DEFAULT_LIMIT, REPLAY_MAX_LIMIT),
        )
        ids = [event["id"] for event in page]
        if ids:
            # A fresh set of retries for each, then one enqueue round trip for the page.
            await tenancy.update(IntegrationWebhook, {IntegrationWebhook.attempts: 0}).where(
                IntegrationWebhook.id.is_in(ids)
            )
            enqueuer = FastEnqueuer(request.app.state.redis, request.app.state.settings.queue_name)
            await enqueuer.enqueue_many(
                NORMALIZE_JOB,
                [(str(i), f"normalize:{i}:replay:{uuid.uuid4().hex}") for i in ids],
            )
        meta = request_meta(request)
        await write_audit(
            tenancy.tenant_id,
            meta.actor,
            "event.replay_failed",
            "integration",
            integration_id,
            ip=meta.ip,
            user_agent=meta.user_agent,
            details={"count": len(ids), "more": next_cursor is not None},
        )
        return BulkReplayed(len(ids), next_cursor)
