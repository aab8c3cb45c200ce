"""The server-side half of `state`: stored as a SHA-256, single use, ten minutes, bound to a
tenant and an integration, holding the sealed PKCE verifier.

The callback is public, so the state is looked up by its hash before any tenant is known —
the same way an API key is — and consumed with one conditional UPDATE so two browsers
replaying one state cannot both win.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from backend.lib import tokens
from backend.lib.clock import utc_now
from backend.lib.errors import Problem
from backend.lib.tenancy import TenantScope
from backend.oauth.tables import OAuthState
from backend.tenants.vault import get_vault

STATE_TTL = dt.timedelta(minutes=10)
# How long used and expired states are kept for explaining a late or repeated callback.
STATE_RETENTION = dt.timedelta(days=1)


def _verifier_record(state_id: uuid.UUID) -> str:
    return f"oauth_state:{state_id}:code_verifier"


class StateError(Problem):
    """The callback's state is missing, unknown, used or expired: nothing happens."""

    def __init__(self, detail: str) -> None:
        super().__init__(400, detail, kind="oauth-state", title="Invalid OAuth state")


async def create_state(
    scope: TenantScope,
    integration_id: uuid.UUID,
    scopes: list[str],
    return_url: str,
    code_verifier: str | None,
) -> str:
    """Store a new state and return it (the only copy of the plain value)."""
    state = tokens.random_token(32)
    state_id = uuid.uuid4()
    sealed = None
    if code_verifier:
        sealed = await get_vault().seal(
            str(scope.tenant_id), code_verifier.encode(), _verifier_record(state_id)
        )
    stamp = utc_now()
    await OAuthState.insert(
        scope.new(
            OAuthState,
            id=state_id,
            integration=integration_id,
            state_hash=tokens.hash_token(state),
            code_verifier=sealed,
            scopes=scopes,
            return_url=return_url,
            created_at=stamp,
            expires_at=stamp + STATE_TTL,
        )
    )
    return state


async def consume_state(state: str) -> dict[str, Any]:
    """Mark the state used and return its row, or raise StateError saying why not."""
    if not state or len(state) > 256:
        raise StateError("The authorization response carries no valid state.")
    digest = tokens.hash_token(state)
    stamp = utc_now()
    rows = await (
        OAuthState.update({OAuthState.used_at: stamp})
        .where(
            (OAuthState.state_hash == digest)
            & OAuthState.used_at.is_null()
            & (OAuthState.expires_at > stamp)
        )
        .returning(*OAuthState.all_columns())
    )
    if rows:
        return dict(rows[0])
    known = await (
        OAuthState.select(OAuthState.used_at, OAuthState.expires_at)
        .where(OAuthState.state_hash == digest)
        .first()
    )
    if known is None:
        raise StateError(
            "This authorization is unknown: it was not started here, or its integration was "
            "deleted. Start the connection again."
        )
    if known["used_at"] is not None:
        raise StateError("This authorization was already used. Start the connection again.")
    raise StateError("This authorization expired (after 10 minutes). Start the connection again.")


async def open_verifier(row: dict[str, Any]) -> str | None:
    if not row.get("code_verifier"):
        return None
    raw = await get_vault().open(
        str(row["tenant"]), bytes(row["code_verifier"]), _verifier_record(row["id"])
    )
    return raw.decode()


async def purge_old_states() -> None:
    """Drop states past their retention; they can no longer be explained usefully."""
    await OAuthState.delete().where(OAuthState.expires_at < utc_now() - STATE_RETENTION)
