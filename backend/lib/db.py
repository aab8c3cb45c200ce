"""The PostgreSQL pool: Piccolo's engine owns it; hot paths borrow its asyncpg pool directly."""

from __future__ import annotations

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from backend.piccolo_conf import DB


def engine() -> PostgresEngine:
    return DB


async def open_pool(max_size: int = 10) -> None:
    await DB.start_connection_pool(min_size=1, max_size=max_size)


async def close_pool() -> None:
    await DB.close_connection_pool()


def pool() -> asyncpg.Pool:
    """The asyncpg pool, for the few statements where Piccolo's query builder costs too much."""
    if DB.pool is None:
        raise RuntimeError("the database pool is not open")
    return DB.pool
