"""Per-integration logs, the tenant's audit trail and alerts."""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    ForeignKey,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from backend.integrations.tables import Integration
from backend.tenants.tables import Tenant


class IntegrationLog(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    level = Varchar(length=8, default="info")
    event = Varchar(length=64)
    message = Text()
    context = JSONB(default="{}")
    trace_id = Varchar(length=32, default="")
    created_at = Timestamptz()
    # Written by test mode's simulate: purged with the simulated events.
    simulated = Boolean(default=False)


class AuditLog(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    actor = Varchar(length=100)  # api key prefix, "cli", "system"
    action = Varchar(length=64)
    target_type = Varchar(length=32)
    target_id = Varchar(length=64, default="")
    ip = Varchar(length=64, default="")
    user_agent = Text(default="")
    details = JSONB(default="{}")
    trace_id = Varchar(length=32, default="")
    created_at = Timestamptz()


class Alert(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    kind = Varchar(length=64)
    severity = Varchar(length=16, default="warning")
    status = Varchar(length=16, default="open")  # open | resolved
    message = Text()
    opened_at = Timestamptz()
    resolved_at = Timestamptz(null=True, default=None)
    # Someone saw it (the alert stays open until its rule resolves it).
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by = Varchar(length=100, default="")
