"""Every received webhook, stored raw before it is acknowledged."""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from backend.integrations.tables import Integration
from backend.lib.vocab import EventStatus
from backend.tenants.tables import Tenant


class IntegrationWebhook(Table):
    """Partitioned by day on `received_at` (the primary key is `(id, received_at)`); its
    dedupe keys live in `integration_webhook_key` (backend/webhooks/store.py), and old days
    are dropped whole by backend/lib/partitions.py. A query that knows `received_at` names
    it, so PostgreSQL reads one partition instead of probing each day's index."""

    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    provider_event_id = Varchar(length=255)
    # SHA-256 of what the signature covers, where the provider's id is an unsigned header:
    # a second dedupe key (unique per integration), so replays with a fresh id are caught.
    signed_digest = Bytea(null=True, default=None)
    event_type = Varchar(length=255, default="")
    raw_body = Bytea()
    headers = JSONB(default="{}")
    verified = Boolean(default=True)
    status = Varchar(length=16, default=EventStatus.RECEIVED, choices=EventStatus)
    normalized = JSONB(null=True, default=None)
    attempts = Integer(default=0)
    duplicates = Integer(default=0)
    error = Text(default="")
    trace_id = Varchar(length=32, default="")
    received_at = Timestamptz()
    processed_at = Timestamptz(null=True, default=None)
    # Sent by test mode's simulate (live integrations too): filterable, and purged.
    simulated = Boolean(default=False)
