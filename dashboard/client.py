"""Typed async client of the Switchboard REST API (docs/api.md), built on httpx.

One method per endpoint the dashboard uses. Every failure — a problem+json answer, a non-JSON
error, a timeout, a refused connection — becomes an `ApiError`, so a page can always say what
went wrong. The API key travels only in the Authorization header: it is never logged, and it
never appears in an exception's text or repr.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Generic, Literal, NotRequired, TypedDict, TypeVar
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)

DEFAULT_API_URL = "http://127.0.0.1:8000"
# Short: the dashboard polls every second, and a page must answer even when the api is down.
DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# The media type of a YAML body (the mapping import with ?format=yaml).
YAML_MEDIA_TYPE = "application/yaml"

# The api's vocabularies (backend/lib/vocab.py), mirrored because the dashboard imports nothing
# from backend/; tests/dashboard/test_vocab.py checks that the two agree.
IntegrationStatus = Literal["pending", "connected", "needs_reauth", "error", "revoked"]
FailureKind = Literal[
    "auth_failed", "rate_limited", "provider_down", "network", "bad_request", "misconfigured"
]
HealthStatus = Literal["unknown", "healthy", FailureKind, "revoked"]
EventStatus = Literal["received", "processed", "failed", "dead"]
WebhookRegistrationStatus = Literal["registered", "failed", "manual", "removed"]
LogLevel = Literal["debug", "info", "warning", "error"]


# -- wire shapes (docs/api.md "Shapes"); total=False where the api may omit a key ------------


class Me(TypedDict):
    tenant_id: str
    tenant_name: str
    key_prefix: str


class CredentialField(TypedDict, total=False):
    name: str
    label: str
    secret: bool
    required: bool
    pattern: str | None
    help: str | None
    example: str | None


class WebhookContract(TypedDict, total=False):
    scheme: str
    signing_secret_source: Literal["generated", "user", "credentials", "none"]
    handshake: Any
    auto_register: bool
    content_types: list[str]


class Connector(TypedDict, total=False):
    id: str
    name: str
    category: str
    description: str
    icon: str
    docs_url: str | None
    auth_type: Literal["oauth2", "api_key", "none"]
    configured: bool
    configured_reason: str | None
    enabled: bool
    capabilities: list[str]
    credential_fields: list[CredentialField]
    oauth: dict[str, Any] | None
    webhook: WebhookContract | None
    streams: list[Any]
    api_base_url: str | None
    api_base_overridable: bool


class Health(TypedDict, total=False):
    status: HealthStatus
    reason: str | None
    checked_at: str | None


class Account(TypedDict):
    """The provider account an integration is connected to, as the provider named it."""

    id: str
    name: str


class WebhookRegistration(TypedDict, total=False):
    status: WebhookRegistrationStatus
    reason: str
    provider_id: str | None
    at: str | None
    expires_at: str | None  # when a Google watch lapses unless renewed


class Integration(TypedDict, total=False):
    id: str
    connector_id: str
    name: str
    status: IntegrationStatus
    test_mode: bool
    health: Health | None
    account: Account | None
    webhook_url: str | None
    setup_instructions: str | None
    webhook_registration: WebhookRegistration | None
    scopes: list[str]
    config: dict[str, Any]
    token_expires_at: str | None
    created_at: str
    updated_at: str
    revoked_at: str | None


class IntegrationCreate(TypedDict):
    connector_id: str
    name: str
    credentials: NotRequired[dict[str, str]]
    config: NotRequired[dict[str, Any]]
    test_mode: NotRequired[bool]
    webhook_signing_secret: NotRequired[str]
    scopes: NotRequired[list[str]]
    return_url: NotRequired[str]


class IntegrationCreated(TypedDict, total=False):
    integration: Integration
    authorization_url: str | None
    webhook_signing_secret: str | None


class IntegrationTested(TypedDict):
    integration: Integration
    health: Health


class IntegrationAnswer(TypedDict, total=False):
    integration: Integration
    webhook_signing_secret: str | None


class Event(TypedDict, total=False):
    id: str
    provider_event_id: str | None
    type: str
    status: EventStatus
    received_at: str
    processed_at: str | None
    attempts: int
    duplicates: int
    error: str | None
    mapped: dict[str, Any] | None
    mapping_version: int | None
    mapping_errors: list[MappingFieldError]
    simulated: bool


class EventDetail(Event, total=False):
    headers: dict[str, str]
    raw_body: str
    raw_body_encoding: Literal["utf-8", "base64"]
    normalized: dict[str, Any] | None
    trace_id: str


class LogEntry(TypedDict, total=False):
    id: str
    level: LogLevel
    event: str
    message: str
    context: dict[str, Any]
    trace_id: str | None
    created_at: str


class AuditEntry(TypedDict, total=False):
    id: str
    actor: str
    action: str
    target_type: str
    target_id: str | None
    ip: str | None
    user_agent: str | None
    details: dict[str, Any]
    created_at: str


T = TypeVar("T")


class Page(TypedDict, Generic[T]):
    items: list[T]
    next_cursor: str | None


# -- errors --------------------------------------------------------------------------------


class ApiError(Exception):
    """An RFC 9457 problem from the api, or a transport failure dressed as one (status 0)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        field_errors: dict[str, str] | None = None,
        type: str = "about:blank",
        retry_after: str | None = None,
    ) -> None:
        super().__init__(status, title, detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.field_errors: dict[str, str] = dict(field_errors or {})
        self.type = type
        self.retry_after = retry_after

    @property
    def type_suffix(self) -> str:
        """The stable part of `type` ("validation", "not-found", ...)."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]

    @property
    def unauthorized(self) -> bool:
        return self.status == 401

    def __str__(self) -> str:
        prefix = f"{self.status} {self.title}" if self.status else self.title
        return f"{prefix}: {self.detail}" if self.detail else prefix

    def __repr__(self) -> str:
        return f"ApiError(status={self.status!r}, title={self.title!r}, detail={self.detail!r})"

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """Read a problem+json body; anything else still gives a readable error."""
        body: Any = None
        try:
            body = response.json()
        except ValueError:
            body = None
        retry_after = response.headers.get("retry-after")
        if not isinstance(body, dict):
            return cls(
                response.status_code,
                response.reason_phrase or "Request failed",
                f"The API answered {response.status_code} without problem details.",
                retry_after=retry_after,
            )
        field_errors: dict[str, str] = {}
        for item in body.get("errors") or []:
            if isinstance(item, dict) and item.get("field"):
                field = str(item["field"])
                message = str(item.get("message") or "is invalid")
                # Several messages for one field read as one sentence each.
                field_errors[field] = (
                    f"{field_errors[field]} {message}" if field in field_errors else message
                )
        status = body.get("status")
        return cls(
            status if isinstance(status, int) else response.status_code,
            str(body.get("title") or response.reason_phrase or "Request failed"),
            str(body.get("detail") or ""),
            field_errors,
            str(body.get("type") or "about:blank"),
            retry_after,
        )


def api_url_from_env() -> str:
    return os.environ.get("SWITCHBOARD_API_URL", DEFAULT_API_URL).rstrip("/")


def _seg(value: str) -> str:
    """One URL path segment: an id from a page URL can never climb to another route."""
    return quote(str(value), safe="")


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value not in (None, "")}


class SwitchboardClient:
    """One tenant's view of the api. Use as `async with SwitchboardClient(key) as api: ...`."""

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or api_url_from_env()).rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "switchboard-dashboard"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"SwitchboardClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> SwitchboardClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> Any:
        headers = {"Content-Type": content_type} if content_type else None
        try:
            response = await self._http.request(
                method,
                path,
                params=_clean(params or {}),
                json=json,
                content=content,
                headers=headers,
            )
        except httpx.TimeoutException:
            raise ApiError(
                0,
                "The API did not answer in time",
                f"No answer from {self.base_url} within the timeout. Try again in a moment.",
                type="timeout",
            ) from None
        except httpx.TransportError:
            raise ApiError(
                0,
                "The API is unreachable",
                f"Could not connect to the Switchboard API at {self.base_url}. "
                "Is it running? (SWITCHBOARD_API_URL)",
                type="unreachable",
            ) from None
        log.debug("%s %s -> %s", method, path, response.status_code)
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                response.status_code,
                "Unexpected answer from the API",
                "The API answered with a body that is not JSON.",
            ) from None

    # -- service ----------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return await self._request("GET", "/health")

    async def ready(self) -> dict[str, Any]:
        return await self._request("GET", "/ready")

    async def me(self) -> Me:
        return await self._request("GET", "/api/me")

    # -- catalog ----------------------------------------------------------------------------

    async def list_connectors(self) -> list[Connector]:
        return (await self._request("GET", "/api/connectors"))["items"]

    async def get_connector(self, connector_id: str) -> ConnectorDetail:
        return await self._request("GET", f"/api/connectors/{_seg(connector_id)}")

    # -- integrations -----------------------------------------------------------------------

    async def list_integrations(
        self,
        *,
        connector_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Integration]:
        params = {"connector_id": connector_id, "status": status, "limit": limit, "cursor": cursor}
        return await self._request("GET", "/api/integrations", params=params)

    async def create_integration(self, body: IntegrationCreate) -> IntegrationCreated:
        return await self._request("POST", "/api/integrations", json=dict(body))

    async def get_integration(self, integration_id: str) -> Integration:
        return await self._request("GET", f"/api/integrations/{_seg(integration_id)}")

    async def update_integration(self, integration_id: str, **changes: Any) -> Integration:
        return await self._request(
            "PATCH", f"/api/integrations/{_seg(integration_id)}", json=changes
        )

    async def test_integration(self, integration_id: str) -> IntegrationTested:
        return await self._request("POST", f"/api/integrations/{_seg(integration_id)}/test")

    async def refresh_integration(self, integration_id: str) -> IntegrationAnswer:
        return await self._request("POST", f"/api/integrations/{_seg(integration_id)}/refresh")

    async def revoke_integration(self, integration_id: str) -> IntegrationAnswer:
        return await self._request("POST", f"/api/integrations/{_seg(integration_id)}/revoke")

    async def delete_integration(self, integration_id: str) -> None:
        await self._request("DELETE", f"/api/integrations/{_seg(integration_id)}")

    async def rotate_webhook_secret(self, integration_id: str) -> IntegrationAnswer:
        return await self._request(
            "POST", f"/api/integrations/{_seg(integration_id)}/webhook/rotate"
        )

    async def register_webhook(self, integration_id: str) -> IntegrationAnswer:
        return await self._request(
            "POST", f"/api/integrations/{_seg(integration_id)}/webhook/register"
        )

    # -- events and logs --------------------------------------------------------------------

    async def list_events(
        self,
        integration_id: str,
        *,
        type: str | None = None,
        status: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Event]:
        params = {
            "type": type,
            "status": status,
            "since": since,
            "until": until,
            "limit": limit,
            "cursor": cursor,
        }
        return await self._request(
            "GET", f"/api/integrations/{_seg(integration_id)}/events", params=params
        )

    async def get_event(self, integration_id: str, event_id: str) -> EventDetail:
        return await self._request(
            "GET", f"/api/integrations/{_seg(integration_id)}/events/{_seg(event_id)}"
        )

    async def replay_event(self, integration_id: str, event_id: str) -> Event:
        answer = await self._request(
            "POST", f"/api/integrations/{_seg(integration_id)}/events/{_seg(event_id)}/replay"
        )
        return answer["event"]

    async def replay_failed_events(self, integration_id: str) -> int:
        answer = await self._request(
            "POST", f"/api/integrations/{_seg(integration_id)}/events/replay-failed"
        )
        return int(answer["replayed"])

    async def list_logs(
        self,
        integration_id: str,
        *,
        level: LogLevel | None = None,
        event: str | None = None,
        q: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[LogEntry]:
        params = {
            "level": level,
            "event": event,
            "q": q,
            "since": since,
            "until": until,
            "limit": limit,
            "cursor": cursor,
        }
        return await self._request(
            "GET", f"/api/integrations/{_seg(integration_id)}/logs", params=params
        )

    async def list_audit(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[AuditEntry]:
        return await self._request("GET", "/api/audit", params={"limit": limit, "cursor": cursor})

    # -- field mappings, alerts and the tenant overview (issue 18; types at the end) --------

    async def list_mappings(self, integration_id: str) -> list[Mapping]:
        return (await self._request("GET", _mapping_path(integration_id)))["items"]

    async def save_mapping(self, integration_id: str, source: str, rules: list[Rule]) -> Mapping:
        body = {"source": source, "rules": rules}
        return (await self._request("POST", _mapping_path(integration_id), json=body))["mapping"]

    async def list_mapping_versions(
        self,
        integration_id: str,
        source: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[MappingVersion]:
        params = {"source": source, "limit": limit, "cursor": cursor}
        return await self._request("GET", _mapping_path(integration_id, "/versions"), params=params)

    async def restore_mapping_version(
        self, integration_id: str, source: str, version: int
    ) -> Mapping:
        path = _mapping_path(integration_id, f"/versions/{int(version)}/restore")
        return (await self._request("POST", path, json={"source": source}))["mapping"]

    async def preview_mapping(
        self,
        integration_id: str,
        source: str,
        rules: list[Rule],
        sample: dict[str, Any] | None = None,
    ) -> PreviewResult:
        body: dict[str, Any] = {"source": source, "rules": rules}
        if sample is not None:
            body["sample"] = sample
        return await self._request("POST", _mapping_path(integration_id, "/preview"), json=body)

    async def export_mappings(self, integration_id: str) -> MappingExport:
        return await self._request("GET", _mapping_path(integration_id, "/export"))

    async def import_mappings(
        self, integration_id: str, document: Any, *, yaml: bytes | None = None
    ) -> list[Mapping]:
        """Import `document` (sent as JSON), or with `yaml` a YAML file's bytes as they are
        (`?format=yaml`: the api reads them, refusing anchors and aliases)."""
        path = _mapping_path(integration_id, "/import")
        if yaml is not None:
            answer = await self._request(
                "POST", path, params={"format": "yaml"}, content=yaml, content_type=YAML_MEDIA_TYPE
            )
        else:
            answer = await self._request("POST", path, json=document)
        return answer["items"]

    async def list_alerts(
        self,
        *,
        status: AlertStatus | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[AlertEntry]:
        params = {"status": status, "limit": limit, "cursor": cursor}
        return await self._request("GET", "/api/alerts", params=params)

    async def ack_alert(self, alert_id: str) -> AlertEntry:
        return await self._request("POST", f"/api/alerts/{_seg(alert_id)}/ack")

    async def get_metrics_summary(self, *, window: MetricWindow = "24h") -> MetricsSummary:
        return await self._request("GET", "/api/metrics/summary", params={"window": window})

    async def get_integration_health(self, integration_id: str) -> IntegrationHealth:
        return await self._request("GET", f"/api/integrations/{_seg(integration_id)}/health")

    # -- the integration page's panels (issue 18): metrics, syncs, test mode, actions ------

    async def get_integration_metrics(
        self, integration_id: str, *, window: MetricWindow = "24h"
    ) -> IntegrationMetrics:
        return await self._request(
            "GET",
            f"/api/integrations/{_seg(integration_id)}/metrics",
            params={"window": window},
        )

    async def trigger_sync(self, integration_id: str, body: SyncRequest) -> SyncJobAnswer:
        return await self._request(
            "POST", f"/api/integrations/{_seg(integration_id)}/sync", json=dict(body)
        )

    async def list_sync_jobs(
        self,
        integration_id: str,
        *,
        stream: str | None = None,
        status: SyncJobStatus | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[SyncJob]:
        params = {"stream": stream, "status": status, "limit": limit, "cursor": cursor}
        return await self._request(
            "GET", f"/api/integrations/{_seg(integration_id)}/sync-jobs", params=params
        )

    async def cancel_sync_job(self, integration_id: str, job_id: str) -> SyncJobAnswer:
        return await self._request(
            "POST",
            f"/api/integrations/{_seg(integration_id)}/sync-jobs/{_seg(job_id)}/cancel",
        )

    async def get_schedule(self, integration_id: str) -> SyncSchedule:
        return await self._request("GET", f"/api/integrations/{_seg(integration_id)}/schedule")

    async def put_schedule(self, integration_id: str, schedule: SyncScheduleUpdate) -> SyncSchedule:
        return await self._request(
            "PUT", f"/api/integrations/{_seg(integration_id)}/schedule", json=dict(schedule)
        )

    async def list_records(
        self,
        integration_id: str,
        *,
        stream: str | None = None,
        include_deleted: bool | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[SyncRecord]:
        params = {
            "stream": stream,
            "include_deleted": None if include_deleted is None else str(include_deleted).lower(),
            "limit": limit,
            "cursor": cursor,
        }
        return await self._request(
            "GET", f"/api/integrations/{_seg(integration_id)}/records", params=params
        )

    async def simulate_webhooks(
        self, integration_id: str, body: SimulateRequest
    ) -> SimulationResult:
        return await self._request(
            "POST", f"/api/integrations/{_seg(integration_id)}/simulate", json=dict(body)
        )

    async def list_faults(self, integration_id: str) -> Faults:
        return await self._request("GET", f"/api/integrations/{_seg(integration_id)}/faults")

    async def set_fault(self, integration_id: str, body: FaultSet) -> Faults:
        return await self._request(
            "PUT", f"/api/integrations/{_seg(integration_id)}/faults", json=dict(body)
        )

    async def clear_faults(self, integration_id: str) -> Faults:
        return await self._request("DELETE", f"/api/integrations/{_seg(integration_id)}/faults")

    async def run_action(
        self,
        integration_id: str,
        action: str,
        input: dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> ActionOutcome:
        body: dict[str, Any] = {"input": input}
        if idempotency_key:
            body["idempotency_key"] = idempotency_key
        return await self._request(
            "POST",
            f"/api/integrations/{_seg(integration_id)}/actions/{_seg(action)}",
            json=body,
        )

    async def list_action_runs(
        self,
        integration_id: str,
        *,
        action: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[ActionRun]:
        params = {"action": action, "limit": limit, "cursor": cursor}
        return await self._request(
            "GET", f"/api/integrations/{_seg(integration_id)}/actions/runs", params=params
        )


def _mapping_path(integration_id: str, tail: str = "") -> str:
    return f"/api/integrations/{_seg(integration_id)}/mapping{tail}"


# -- field mappings, alerts and the tenant overview (issue 18: the mapping editor, alerts and
# overview pages). Names follow the OpenAPI document's schemas. ---------------------------------

AlertStatus = Literal["open", "resolved"]
HealthState = Literal["healthy", "degraded", "failing", "needs_reauth"]
MetricWindow = Literal["1h", "24h", "7d"]


class Rule(TypedDict, total=False):
    target: str
    source: str
    transforms: list[dict[str, Any]]  # each {"op": ..., its own fields}
    default: Any
    required: bool


class Mapping(TypedDict):
    source: str
    rules: list[Rule]
    version: int  # 0: the connector's default
    updated_at: str | None


class MappingVersion(TypedDict):
    version: int
    rules: list[Rule]
    created_at: str
    current: bool
    restored_from: int | None


class MappingFieldError(TypedDict):
    rule: int
    target: str
    message: str


class PreviewResult(TypedDict):
    result: dict[str, Any]
    errors: list[MappingFieldError]


class MappingEntry(TypedDict):
    source: str
    rules: list[Rule]


class MappingExport(TypedDict, total=False):
    mappings: list[MappingEntry]
    connector: str | None
    exported_at: str | None


class AlertEntry(TypedDict):
    id: str
    integration_id: str
    kind: str
    severity: str
    status: AlertStatus
    message: str
    opened_at: str
    resolved_at: str | None
    acknowledged_at: str | None


class MetricCounters(TypedDict, total=False):
    webhooks_received: int
    webhooks_accepted: int
    webhooks_rejected: int
    webhooks_duplicate: int
    events_processed: int
    events_failed: int
    api_calls: int
    api_errors: int
    rate_limited: int
    sync_jobs: int
    records_synced: int
    actions: int


class MetricPoint(MetricCounters, total=False):
    at: str


class LatencyPercentiles(TypedDict, total=False):
    ingest_p50: float | None
    ingest_p99: float | None
    provider_p50: float | None
    provider_p99: float | None


class IntegrationTotals(TypedDict):
    integration_id: str
    totals: MetricCounters


class MetricsSummary(TypedDict):
    window: MetricWindow
    totals: MetricCounters
    latency_ms: LatencyPercentiles
    series: list[MetricPoint]
    breakdown: dict[str, dict[str, int]]
    integrations: list[IntegrationTotals]


class HealthReason(TypedDict):
    code: str
    message: str


class IntegrationHealth(TypedDict):
    state: HealthState
    reasons: list[HealthReason]
    assessed_at: str


# -- the integration page's panels (issue 18): metrics, syncs (issue 12), test mode, actions.
# Names follow the OpenAPI document's schemas. ----------------------------------------------

SyncMode = Literal["full", "incremental", "backfill"]
ScheduledMode = Literal["incremental", "full"]
SyncTrigger = Literal["manual", "schedule", "webhook"]
SyncJobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
SimulationVariant = Literal["valid", "duplicate", "bad_signature", "stale", "out_of_order"]
FaultKind = Literal[
    "rate_limit", "auth_expired", "auth_revoked", "server_error", "timeout", "malformed"
]
ActionRunStatus = Literal["queued", "running", "succeeded", "failed", "needs_reauth"]


class StreamInfo(TypedDict, total=False):
    name: str
    description: str
    required_scopes: list[str]
    incremental: bool
    modes: list[SyncMode]
    unavailable: str  # why `modes` is empty (no pull history)


class EventTypeInfo(TypedDict, total=False):
    name: str
    description: str
    content_type: str
    sample_payload: Any
    sample_headers: dict[str, str]


class ActionInfo(TypedDict, total=False):
    name: str
    description: str
    input_schema: dict[str, Any]  # JSON Schema draft 2020-12
    required_scopes: list[list[str]]
    idempotent_at_provider: bool


class ConnectorDetail(Connector, total=False):
    event_types: list[EventTypeInfo]
    actions: list[ActionInfo]


class IntegrationMetrics(TypedDict):
    window: MetricWindow
    totals: MetricCounters
    latency_ms: LatencyPercentiles
    series: list[MetricPoint]
    breakdown: dict[str, dict[str, int]]


class SyncRequest(TypedDict):
    stream: str
    mode: NotRequired[SyncMode]  # the api's default: incremental
    since: NotRequired[str]
    until: NotRequired[str]


class SyncJob(TypedDict, total=False):
    id: str
    integration_id: str
    stream: str
    mode: SyncMode
    trigger: SyncTrigger
    status: SyncJobStatus
    pages: int
    records_upserted: int
    records_deleted: int
    attempts: int
    cursor_before: Any
    cursor_after: Any
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None


class SyncJobAnswer(TypedDict):
    job: SyncJob


class StreamSchedule(TypedDict):
    every_minutes: int  # 1..43200
    mode: ScheduledMode


class SyncSchedule(TypedDict):
    streams: dict[str, StreamSchedule]
    paused: bool


class SyncScheduleUpdate(TypedDict, total=False):
    """Given keys replace the schedule's; absent ones stay."""

    streams: dict[str, StreamSchedule]
    paused: bool


class SyncRecord(TypedDict, total=False):
    id: str
    stream: str
    external_id: str
    data: dict[str, Any]
    mapped: dict[str, Any] | None
    mapping_version: int | None
    deleted: bool
    first_seen_at: str
    updated_at: str


class SimulateRequest(TypedDict, total=False):
    event_type: str | None
    count: int
    variant: SimulationVariant
    overrides: dict[str, Any] | None


class SimulatedDelivery(TypedDict):
    event_type: str
    provider_event_id: str
    status: int


class SimulationResult(TypedDict):
    sent: int
    deliveries: list[SimulatedDelivery]


class FaultSet(TypedDict):
    kind: FaultKind
    probability: NotRequired[float]
    count: NotRequired[int | None]
    retry_after: NotRequired[int | None]


class Fault(TypedDict):
    kind: FaultKind
    probability: float
    count: int | None
    remaining: int | None
    retry_after: int | None


class Faults(TypedDict):
    faults: list[Fault]


class ActionOutcome(TypedDict):
    action: str
    status: ActionRunStatus
    result: dict[str, Any]
    provider_response: dict[str, Any]
    run_id: str


class ActionRun(TypedDict, total=False):
    id: str
    action: str
    status: ActionRunStatus
    idempotency_key: str | None
    input: dict[str, Any]  # message and secret fields redacted by the api
    result: dict[str, Any]
    provider_response: dict[str, Any]
    error: str
    error_kind: str
    attempts: int
    duration_ms: int
    created_at: str
    finished_at: str | None
