"""One row per outbound action call (an "action run"), kept for the runs list, idempotency and
async polling.

`input` is stored redacted (the action's `redact_fields`); an async run also keeps the full
input sealed under the tenant's key until the worker has run it. A unique index on
(integration, idempotency_key) makes "the same key answers the first call" race-free.
"""

from piccolo.columns import (
    JSONB,
    UUID,
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

from backend.actions.vocab import ActionRunStatus
from backend.integrations.tables import Integration
from backend.tenants.tables import Tenant


class ActionRun(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    connector = Varchar(length=64)
    action = Varchar(length=64)
    status = Varchar(length=16, default=ActionRunStatus.QUEUED, choices=ActionRunStatus)
    idempotency_key = Varchar(length=255, null=True, default=None)
    # sha256 of the action name and canonical input: a key reused for another call is refused.
    request_hash = Varchar(length=64, default="")
    input = JSONB(default="{}")
    input_sealed = Bytea(null=True, default=None)
    result = JSONB(default="{}")
    provider_response = JSONB(default="{}")
    error = Text(default="")
    error_kind = Varchar(length=32, default="")
    attempts = Integer(default=0)
    duration_ms = Integer(default=0)
    actor = Varchar(length=255, default="")
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
