"""One tenant's connection to one connector."""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    Bytea,
    ForeignKey,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from backend.catalog.tables import Connector
from backend.lib.vocab import HealthStatus, IntegrationStatus
from backend.tenants.tables import Tenant


class Integration(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False, index=True)
    connector = ForeignKey(Connector, on_delete=OnDelete.restrict, null=False)
    name = Varchar(length=200)
    status = Varchar(length=16, default=IntegrationStatus.PENDING, choices=IntegrationStatus)
    test_mode = Boolean(default=False)
    # Sealed JSON of the credential fields or OAuth token set (see lib/crypto.py).
    credentials = Bytea(null=True, default=None)
    token_expires_at = Timestamptz(null=True, default=None)
    scopes = JSONB(default="[]")
    config = JSONB(default="{}")
    # The webhook path token is stored only as a hash; signing secrets sealed.
    webhook_token_hash = Varchar(length=64, null=True, default=None, unique=True)
    # The path token itself, sealed, so the URL can be shown again; lookups use the hash.
    webhook_token_sealed = Bytea(null=True, default=None)
    webhook_secrets = Bytea(null=True, default=None)
    # The provider account it is connected to (Slack team, HubSpot portal, Gmail address),
    # learned from the provider at connect; app-level deliveries are routed by it.
    account_id = Varchar(length=255, default="")
    account_name = Varchar(length=255, default="")
    health_status = Varchar(length=16, default=HealthStatus.UNKNOWN, choices=HealthStatus)
    health_reason = Text(default="")
    health_checked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
