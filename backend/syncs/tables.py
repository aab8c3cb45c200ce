"""Sync jobs, per-stream cursors and the records they upsert (the sync engine fills these)."""

from piccolo.columns import (
    JSONB,
    UUID,
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
from backend.tenants.tables import Tenant


class IntegrationSyncJob(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    stream = Varchar(length=100)
    mode = Varchar(length=16)  # full | incremental | backfill
    trigger = Varchar(length=16)  # manual | schedule | webhook
    status = Varchar(length=16, default="queued")
    cursor_before = JSONB(null=True, default=None)
    cursor_after = JSONB(null=True, default=None)
    records_seen = Integer(default=0)
    records_upserted = Integer(default=0)
    attempts = Integer(default=0)
    error = Text(default="")
    trace_id = Varchar(length=32, default="")
    created_at = Timestamptz()
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class SyncCursor(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    stream = Varchar(length=100)
    cursor = JSONB(null=True, default=None)
    updated_at = Timestamptz()


class SyncedRecord(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    stream = Varchar(length=100)
    external_id = Varchar(length=255)
    data = JSONB(default="{}")
    mapped = JSONB(null=True, default=None)
    external_updated_at = Timestamptz(null=True, default=None)
    synced_at = Timestamptz()
