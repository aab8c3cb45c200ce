"""Sync jobs, per-stream cursors and the records they upsert (the sync engine fills these).

A job is the unit the API shows and the worker runs; `position`, `lease` and
`heartbeat_at` are how a run survives its worker: each page commits its records together
with the position to read next, fenced on the lease, so a new worker resumes from there.
"""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
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
    status = Varchar(length=16, default="queued")  # queued|running|succeeded|failed|cancelled
    # The backfill window (null outside backfills).
    since = Timestamptz(null=True, default=None)
    until = Timestamptz(null=True, default=None)
    pages = Integer(default=0)
    records_upserted = Integer(default=0)
    records_deleted = Integer(default=0)
    attempts = Integer(default=0)
    cursor_before = JSONB(null=True, default=None)
    cursor_after = JSONB(null=True, default=None)
    # What the last committed page returned: where a resumed run reads next.
    position = JSONB(null=True, default=None)
    # Who runs it now, and when they last committed or said they are alive.
    lease = UUID(null=True, default=None)
    heartbeat_at = Timestamptz(null=True, default=None)
    error = Text(default="")
    trace_id = Varchar(length=32, default="")
    created_at = Timestamptz()
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class SyncCursor(Table):
    """Where the next incremental run of (integration, stream) starts."""

    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    stream = Varchar(length=100)
    cursor = JSONB(null=True, default=None)
    updated_at = Timestamptz()


class SyncedRecord(Table):
    """One provider object of a stream, unique by (integration, stream, external_id)."""

    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    stream = Varchar(length=100)
    external_id = Varchar(length=255)
    data = JSONB(default="{}")
    mapped = JSONB(null=True, default=None)
    mapping_version = Integer(null=True, default=None)
    external_updated_at = Timestamptz(null=True, default=None)
    deleted = Boolean(default=False)
    # Came from a test-mode integration's simulator.
    simulated = Boolean(default=False)
    first_seen_at = Timestamptz()
    # When its data (or deletion) last changed; synced_at: when a sync last read it.
    updated_at = Timestamptz()
    synced_at = Timestamptz()
    # The job that last read it: a full run marks the ones it did not read as deleted.
    last_seen_job = UUID(null=True, default=None)
