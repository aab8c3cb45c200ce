"""Per-integration metric buckets (see the integration_metric migration)."""

from piccolo.columns import BigInt, BigSerial, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from backend.integrations.tables import Integration
from backend.tenants.tables import Tenant


class IntegrationMetric(Table):
    """One counter of one integration in one minute; `reason` splits a counter (a
    rejection's reason, an API call's status class, a latency bucket's bound)."""

    id = BigSerial(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    bucket_start = Timestamptz()
    name = Varchar(length=32)
    reason = Varchar(length=32, default="")
    value = BigInt(default=0)  # the count (`count` would shadow Table.count)
