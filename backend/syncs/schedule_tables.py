"""Per-integration sync schedules (see the sync_schedule migration and `schedules.py`)."""

from piccolo.columns import JSONB, UUID, Boolean, ForeignKey, OnDelete, Timestamptz
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from backend.integrations.tables import Integration
from backend.tenants.tables import Tenant


class SyncSchedule(Table):
    """One row per integration that changed its schedule; without one, the connector's
    defaults apply. `streams` null: the defaults, else {stream: {every_minutes, mode}}."""

    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False, unique=True)
    streams = JSONB(null=True, default=None)
    paused = Boolean(default=False)
    updated_at = Timestamptz()
