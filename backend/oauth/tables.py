"""Server-side OAuth `state`: single use, short lived, bound to tenant and integration."""

from piccolo.columns import JSONB, UUID, Bytea, ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from backend.integrations.tables import Integration
from backend.tenants.tables import Tenant


class OAuthState(Table, tablename="oauth_state"):
    id = UUID(primary_key=True, default=UUID4())
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False, index=True)
    integration = ForeignKey(Integration, on_delete=OnDelete.cascade, null=False)
    state_hash = Varchar(length=64, unique=True)
    # The PKCE verifier, sealed with the tenant's data key.
    code_verifier = Bytea(null=True, default=None)
    scopes = JSONB(default="[]")
    return_url = Text(default="")
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
