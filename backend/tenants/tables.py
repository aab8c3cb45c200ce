"""Tenants, their API keys (hash + visible prefix only) and their wrapped data keys."""

from piccolo.columns import (
    UUID,
    Bytea,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table


class Tenant(Table):
    id = UUID(primary_key=True, default=UUID4())
    name = Varchar(length=200)
    created_at = Timestamptz()


class ApiKey(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=200, default="default")
    prefix = Varchar(length=32, unique=True)
    key_hash = Varchar(length=64)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class TenantKey(Table):
    """A tenant's AES-256-GCM data key, wrapped by the master key named by `master_key_id`."""

    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False, index=True)
    version = Integer()
    wrapped_key = Bytea()
    master_key_id = Varchar(length=32)
    created_at = Timestamptz()
