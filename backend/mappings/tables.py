"""Versioned field-mapping rules per integration and source type.

Each save of a source inserts a new version; `active` marks the one in force (a partial
unique index keeps one per integration and source). Versions are never edited, so a
compiled mapping can be cached by row id.
"""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from backend.integrations.tables import Integration
from backend.tenants.tables import Tenant


class IntegrationMapping(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    source_type = Varchar(length=255)
    version = Integer(default=1)
    rules = JSONB(default="[]")
    active = Boolean(default=True)
    # The version whose rules a restore copied (null for an ordinary save or import).
    restored_from = Integer(null=True, default=None)
    created_at = Timestamptz()
