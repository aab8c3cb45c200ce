"""Wire types of the integrations API (msgspec structs; OpenAPI is generated from them)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from backend.lib.vocab import HealthStatus, IntegrationStatus, WebhookRegistrationStatus

LogLevel = Literal["debug", "info", "warning", "error"]
# PostgreSQL text cannot hold U+0000, so no string the API stores may contain it.
Text = Annotated[str, msgspec.Meta(pattern=r"^[^\x00]*$")]


class IntegrationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What each connector accepts (credential fields, scopes, config) is in its catalog
    entry; a body the connector refuses answers 422 naming the field."""

    connector_id: Text = msgspec.field()
    name: Text = msgspec.field()
    credentials: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    test_mode: bool = False
    webhook_signing_secret: Text | None = None
    scopes: list[Text] | None = None
    return_url: Text | None = None


class IntegrationUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Text | None = None
    config: dict[str, Any] | None = None
    test_mode: bool | None = None
    webhook_signing_secret: Text | None = None


class Reconnect(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    scopes: list[Text] | None = None
    return_url: Text | None = None


class Health(msgspec.Struct):
    status: HealthStatus
    reason: str
    checked_at: dt.datetime | None


class Account(msgspec.Struct):
    """The provider account an integration is connected to (Slack team, HubSpot portal, Jira
    site, GitHub login, Gmail address, Stripe account, WhatsApp phone number id, Telegram
    bot), as the provider named it at connect; app-level deliveries are routed by `id`."""

    id: str
    name: str


class WebhookRegistration(msgspec.Struct):
    """Where Switchboard registers the webhook itself (Telegram, GitHub, Stripe): the last
    outcome. registered | failed | manual (set up by hand; `reason` says why) | removed."""

    status: WebhookRegistrationStatus
    reason: str
    provider_id: str | None
    at: dt.datetime | None
    # When the provider drops the subscription unless renewed (Google watches); the worker
    # renews it a day ahead. None where it does not lapse.
    expires_at: dt.datetime | None = None


class Integration(msgspec.Struct):
    id: str
    connector_id: str
    name: str
    status: IntegrationStatus
    test_mode: bool
    health: Health
    # Null until the provider has named it (an OAuth consent not yet completed).
    account: Account | None
    webhook_url: str | None
    setup_instructions: str
    webhook_registration: WebhookRegistration | None
    scopes: list[str]
    config: dict[str, Any]
    token_expires_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    revoked_at: dt.datetime | None


class Reconnected(msgspec.Struct):
    integration: Integration
    authorization_url: str


class IntegrationCreated(msgspec.Struct, omit_defaults=True):
    integration: Integration
    authorization_url: str | None = None
    webhook_signing_secret: str | None = None


class IntegrationEnvelope(msgspec.Struct, omit_defaults=True):
    integration: Integration
    webhook_signing_secret: str | None = None


class HealthCheck(msgspec.Struct):
    integration: Integration
    health: Health


class IntegrationPage(msgspec.Struct):
    items: list[Integration]
    next_cursor: str | None


class AuditEntry(msgspec.Struct):
    id: str
    actor: str
    action: str
    target_type: str
    target_id: str
    ip: str
    user_agent: str
    details: dict[str, Any]
    created_at: dt.datetime


class AuditPage(msgspec.Struct):
    items: list[AuditEntry]
    next_cursor: str | None


class LogEntry(msgspec.Struct):
    id: str
    level: LogLevel
    event: str
    message: str
    context: dict[str, Any]
    trace_id: str
    created_at: dt.datetime


class LogPage(msgspec.Struct):
    items: list[LogEntry]
    next_cursor: str | None
