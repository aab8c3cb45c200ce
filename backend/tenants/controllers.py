"""Who am I: the tenant behind the presented key."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get

from backend.tenants.services import TenantContext


class Me(msgspec.Struct):
    tenant_id: str
    tenant_name: str
    key_prefix: str


@get(
    "/api/me",
    operation_id="get_me",
    tags=["tenants"],
    summary="The tenant of the presented API key",
)
async def me(request: Request[TenantContext, Any, Any]) -> Me:
    user = request.user
    return Me(
        tenant_id=str(user.tenant_id), tenant_name=user.tenant_name, key_prefix=user.key_prefix
    )
