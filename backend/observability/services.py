"""Writing integration log entries and audit rows. Callers pass no secrets; contexts are
filtered once more here as a last line of defence."""

from __future__ import annotations

import uuid
from typing import Any

from backend.lib.clock import utc_now
from backend.lib.telemetry import current_trace_id
from backend.observability.tables import Alert, AuditLog, IntegrationLog

_SECRET_WORDS = ("secret", "token", "password", "key", "authorization", "credential", "signature")


def scrub(context: dict[str, Any]) -> dict[str, Any]:
    """Drop values whose names suggest a secret."""
    clean: dict[str, Any] = {}
    for name, value in context.items():
        if any(word in name.lower() for word in _SECRET_WORDS):
            clean[name] = "[redacted]"
        elif isinstance(value, dict):
            clean[name] = scrub(value)
        else:
            clean[name] = value
    return clean


async def write_log(
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    event: str,
    message: str,
    *,
    level: str = "info",
    context: dict[str, Any] | None = None,
) -> None:
    await IntegrationLog.insert(
        IntegrationLog(
            tenant=tenant_id,
            integration=integration_id,
            level=level,
            event=event,
            message=message,
            context=scrub(context or {}),
            trace_id=current_trace_id(),
            created_at=utc_now(),
        )
    )


async def write_audit(
    tenant_id: uuid.UUID,
    actor: str,
    action: str,
    target_type: str,
    target_id: str = "",
    *,
    ip: str = "",
    user_agent: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    await AuditLog.insert(
        AuditLog(
            tenant=tenant_id,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            ip=ip,
            user_agent=user_agent[:500],
            details=scrub(details or {}),
            trace_id=current_trace_id(),
            created_at=utc_now(),
        )
    )


async def open_alert(
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    kind: str,
    message: str,
    severity: str = "warning",
) -> None:
    """Open an alert unless one of the same kind is already open for the integration."""
    existing = await Alert.exists().where(
        (Alert.integration == integration_id) & (Alert.kind == kind) & (Alert.status == "open")
    )
    if not existing:
        await Alert.insert(
            Alert(
                tenant=tenant_id,
                integration=integration_id,
                kind=kind,
                severity=severity,
                message=message,
                opened_at=utc_now(),
            )
        )


async def resolve_alerts(integration_id: uuid.UUID, kind: str) -> None:
    await Alert.update({Alert.status: "resolved", Alert.resolved_at: utc_now()}).where(
        (Alert.integration == integration_id) & (Alert.kind == kind) & (Alert.status == "open")
    )
