"""Wire types of the connector catalog: what `GET /api/connectors` shows, public facts only."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from backend.connectors.spec import AuthType, Category, SigningSecretSource
from backend.connectors.streams import SyncMode


class CredentialFieldInfo(msgspec.Struct):
    """One credential a tenant supplies to connect (`pattern` is a regular expression, or
    empty when any value goes)."""

    name: str
    label: str
    secret: bool
    required: bool
    pattern: str
    help: str
    example: str


class OAuthInfo(msgspec.Struct):
    default_scopes: list[str]
    optional_scopes: dict[str, str]
    pkce: bool
    refresh_tokens: bool
    grant_type: Literal["authorization_code", "client_credentials"]


class WebhookInfo(msgspec.Struct):
    scheme: str
    signing_secret_source: SigningSecretSource
    handshake: str
    auto_register: bool
    content_types: list[str]


class StreamInfo(msgspec.Struct):
    """A stream a sync can read; `modes` is empty (and `unavailable` says why) when the
    provider keeps no history to read back."""

    name: str
    description: str
    required_scopes: list[str]
    incremental: bool
    modes: list[SyncMode]
    unavailable: str


class Connector(msgspec.Struct):
    """A connector of the catalog; `configured` says whether the operator set it up."""

    id: str
    name: str
    category: Category
    description: str
    icon: str
    docs_url: str
    auth_type: AuthType
    configured: bool
    configured_reason: str
    enabled: bool
    capabilities: list[str]
    credential_fields: list[CredentialFieldInfo]
    oauth: OAuthInfo | None
    webhook: WebhookInfo | None
    streams: list[StreamInfo]
    api_base_url: str
    api_base_overridable: bool


class ConnectorList(msgspec.Struct):
    items: list[Connector]


class EventTypeInfo(msgspec.Struct):
    """An event type test mode can simulate (`POST /api/integrations/{id}/simulate`), with a
    sample delivery as the provider sends it: the payload (JSON decoded, a form as its
    fields, empty where the event is all headers, as Google's channel notifications) and
    its headers, signature headers aside."""

    name: str
    description: str
    content_type: str
    sample_payload: Any
    sample_headers: dict[str, str]


class ActionInfo(msgspec.Struct):
    """An outbound action (`POST /api/integrations/{id}/actions/{name}`): its input JSON
    Schema (draft 2020-12) and the OAuth scopes it needs (any one of each inner list)."""

    name: str
    description: str
    input_schema: dict[str, Any]
    required_scopes: list[list[str]]
    idempotent_at_provider: bool


class ConnectorDetail(Connector):
    """One connector with the webhook event types its simulator generates (empty when it
    receives no webhooks)."""

    event_types: list[EventTypeInfo]
    actions: list[ActionInfo]
