"""The PostgreSQL pool: Piccolo's engine owns it; hot paths borrow its asyncpg pool directly."""

from __future__ import annotations

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from backend.lib.telemetry import trace_queries
from backend.piccolo_conf import DB


def engine() -> PostgresEngine:
    return DB


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset query (a round trip per release: unlock
    advisory locks, CLOSE ALL, UNLISTEN, RESET ALL). We never leave session state behind —
    no SET, LISTEN, advisory locks or cursors outside transactions — and asyncpg still rolls
    back any open transaction before calling this."""


# Seconds a new connection may take: when PostgreSQL is unreachable, requests answer 503
# after this rather than after asyncpg's default of a minute.
CONNECT_TIMEOUT_SECONDS = 5


async def open_pool(max_size: int = 10, *, min_size: int = 1) -> None:
    """`min_size=0` opens without connecting: a process that must start while PostgreSQL is
    down (the api, which then answers 503) connects on first use."""
    await DB.start_connection_pool(
        min_size=min_size,
        max_size=max_size,
        reset=_keep_session,
        init=trace_queries,  # statement spans, child of whoever runs them
        timeout=CONNECT_TIMEOUT_SECONDS,
    )


async def close_pool() -> None:
    await DB.close_connection_pool()


def pool() -> asyncpg.Pool:
    """The asyncpg pool, for the few statements where Piccolo's query builder costs too much."""
    if DB.pool is None:
        raise RuntimeError("the database pool is not open")
    return DB.pool
