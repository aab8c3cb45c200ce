"""The connector catalog: the registry's specs as rows in `connector` and as public JSON.

`sync_catalog` runs at migrate time so the database always describes the code that runs;
`catalog_entry` is what `GET /api/connectors` shows — public facts only, never a secret.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import msgspec

from backend.catalog import schemas
from backend.catalog.tables import Connector
from backend.connectors.config import ConnectorConfig, connector_config
from backend.connectors.generators import generators_of, payload_of, sample_delivery
from backend.connectors.registry import Provider, providers

if TYPE_CHECKING:
    from backend.settings import Settings


def catalog_entry(provider: Provider, config: ConnectorConfig, enabled: bool) -> dict[str, Any]:
    """Public JSON of one connector for the REST API."""
    spec = provider.spec
    oauth = spec.oauth
    webhook = spec.webhook
    return {
        "id": spec.key,
        "name": spec.name,
        "category": spec.category,
        "description": spec.description,
        "icon": spec.icon,
        "docs_url": spec.docs_url,
        "auth_type": spec.auth_type,
        "configured": config.configured,
        "configured_reason": config.configured_reason,
        "enabled": enabled,
        "capabilities": list(spec.capabilities),
        "credential_fields": [
            {
                "name": f.name,
                "label": f.label,
                "secret": f.secret,
                "required": f.required,
                "pattern": f.pattern,
                "help": f.help,
                "example": f.example,
            }
            for f in spec.credential_fields
        ],
        "oauth": None
        if oauth is None
        else {
            "default_scopes": list(oauth.default_scopes),
            "optional_scopes": dict(oauth.optional_scopes),
            "pkce": oauth.pkce,
            "refresh_tokens": oauth.refresh_tokens,
            "grant_type": oauth.grant_type,
        },
        "webhook": None
        if webhook is None
        else {
            "scheme": webhook.scheme,
            "signing_secret_source": webhook.signing_secret_source,
            "handshake": webhook.handshake,
            "auto_register": webhook.auto_register,
            "content_types": list(webhook.content_types),
        },
        "streams": [
            {
                "name": s.name,
                "description": s.description,
                "required_scopes": list(s.required_scopes),
                "incremental": s.incremental is not None,
                "modes": list(s.modes),
                "unavailable": s.unavailable,
            }
            for s in spec.streams
        ],
        "api_base_url": config.api_base_url,
        "api_base_overridable": spec.api_base_overridable,
    }


def to_connector(provider: Provider, enabled: bool) -> schemas.Connector:
    """The wire type of one connector, with the operator's configuration as it is now."""
    return msgspec.convert(
        catalog_entry(provider, connector_config(provider.spec), enabled), schemas.Connector
    )


def to_connector_detail(provider: Provider, enabled: bool) -> schemas.ConnectorDetail:
    """The connector with a sample of each event type its folder's generators build."""
    generators = generators_of(provider)
    event_types = []
    for event_type in generators.event_types if generators is not None else ():
        delivery = sample_delivery(provider, event_type)
        event_types.append(
            schemas.EventTypeInfo(
                name=event_type.name,
                description=event_type.description,
                content_type=delivery.headers.get("content-type", ""),
                sample_payload=payload_of(delivery),
                sample_headers=dict(delivery.headers),
            )
        )
    entry = catalog_entry(provider, connector_config(provider.spec), enabled)
    return msgspec.convert(
        {**entry, "event_types": event_types, "actions": action_infos(provider)},
        schemas.ConnectorDetail,
    )


def action_infos(provider: Provider) -> list[schemas.ActionInfo]:
    """The connector's outbound actions with their input schemas, in declaration order."""
    return [
        schemas.ActionInfo(
            name=action.name,
            description=action.description,
            input_schema=action.input_schema,
            required_scopes=[list(group) for group in action.required_scopes],
            idempotent_at_provider=action.idempotent_at_provider,
        )
        for action in provider.actions.values()
    ]


async def sync_catalog(settings: Settings) -> int:
    """Upsert every registered connector; disable rows whose code is gone. Returns the count."""
    now = dt.datetime.now(dt.UTC)
    disabled = set(settings.disabled_connectors)
    rows = []
    for key, provider in providers().items():
        config = connector_config(provider.spec)
        rows.append(
            Connector(
                key=key,
                name=provider.spec.name,
                category=provider.spec.category,
                auth_type=provider.spec.auth_type,
                enabled=key not in disabled,
                configured=config.configured,
                configured_reason=config.configured_reason,
                spec=msgspec.to_builtins(provider.spec),
                updated_at=now,
            )
        )
    async with Connector._meta.db.transaction():
        await Connector.insert(*rows).on_conflict(
            target=Connector.key,
            action="DO UPDATE",
            values=[
                Connector.name,
                Connector.category,
                Connector.auth_type,
                Connector.enabled,
                Connector.configured,
                Connector.configured_reason,
                Connector.spec,
                Connector.updated_at,
            ],
        )
        await Connector.update({Connector.enabled: False, Connector.updated_at: now}).where(
            Connector.key.not_in([row.key for row in rows])
        )
    return len(rows)
