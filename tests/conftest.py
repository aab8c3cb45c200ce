"""Test infrastructure: a fresh PostgreSQL database per run, real Redis, the real app.

The environment is set before anything from `backend` is imported, because Piccolo reads
DATABASE_URL when its engine module loads.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest

ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_DB = f"sbtest_{os.getpid()}_{secrets.token_hex(3)}"
_base = ADMIN_URL.rsplit("/", 1)[0]
os.environ["DATABASE_URL"] = f"{_base}/{TEST_DB}"
os.environ.setdefault("TEST_REDIS_BASE", "redis://127.0.0.1:6379")
os.environ["REDIS_URL"] = f"{os.environ['TEST_REDIS_BASE']}/0"
# Runs share the Redis server: each has its own queue (and never flushes anything).
os.environ["SWITCHBOARD_QUEUE_NAME"] = f"arq:queue:{TEST_DB}"
os.environ["SWITCHBOARD_MASTER_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
os.environ["SWITCHBOARD_ALLOWED_PRIVATE_HOSTS"] = "127.0.0.1,localhost"
os.environ["SWITCHBOARD_API_RATE_LIMIT"] = "100000"
# Many tests send bad keys from 127.0.0.1, and runs share the Redis: budgets get own tests.
os.environ["SWITCHBOARD_FAILED_AUTH_LIMIT"] = "100000"
os.environ["PUBLIC_BASE_URL"] = "https://hooks.example.test"
os.environ["SWITCHBOARD_DASHBOARD_URL"] = "http://localhost:3000"
os.environ.setdefault("SWITCHBOARD_VAR_DIR", f"/tmp/{TEST_DB}-var")


async def _create_database() -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{TEST_DB}"')
    finally:
        await conn.close()


async def _drop_database() -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
    finally:
        await conn.close()


# Created now, before Piccolo's engine module is imported (it asks the server its version).
asyncio.run(_create_database())


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from backend.catalog.services import sync_catalog
    from backend.lib import db
    from backend.settings import get_settings

    result = await run_forwards(app_name="switchboard")
    assert result.success, result.message
    await db.open_pool(4)
    await sync_catalog(get_settings())
    await db.close_pool()
    yield os.environ["DATABASE_URL"]
    await _drop_database()


@pytest.fixture(scope="session")
async def app(database: str) -> AsyncIterator[Any]:
    from backend.asgi import create_app

    application = create_app()
    yield application


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Drive the ASGI lifespan protocol on this event loop (Litestar's test client would run
    the app on another thread's loop, and the database pool cannot be shared across loops)."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.ensure_future(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, to_app.get, from_app.put)
    )
    await to_app.put({"type": "lifespan.startup"})
    started = await from_app.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        await from_app.get()
        await task


@asynccontextmanager
async def asgi_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://hooks.example.test"
        ) as c:
            yield c


@pytest.fixture(scope="session")
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client speaking ASGI to the app, inside the app's lifespan, on this loop."""
    async with asgi_client(app) as c:
        yield c


@pytest.fixture(scope="session")
def make_client() -> Callable[[Any], Any]:
    """For tests that need a second app (other settings) beside the session's."""
    return asgi_client


class Tenant:
    def __init__(self, tenant_id: uuid.UUID, api_key: str) -> None:
        self.id = tenant_id
        self.api_key = api_key

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@pytest.fixture(scope="session")
async def make_tenant(client: Any) -> Callable[[str], Awaitable[Tenant]]:
    from backend.tenants.services import create_tenant

    async def make(name: str = "acme") -> Tenant:
        tenant_id, key = await create_tenant(name)
        return Tenant(tenant_id, key)

    return make


@pytest.fixture
async def tenant(make_tenant: Callable[[str], Awaitable[Tenant]]) -> Tenant:
    return await make_tenant("acme")


@pytest.fixture
async def run_worker(client: Any) -> Callable[[], Awaitable[int]]:
    """Run a burst arq worker until the queue is empty; returns jobs completed."""
    from arq.worker import Worker

    from backend.worker import WorkerSettings

    async def run() -> int:
        worker = Worker(
            functions=WorkerSettings.functions,
            redis_settings=WorkerSettings.redis_settings,
            on_startup=WorkerSettings.on_startup,
            on_shutdown=WorkerSettings.on_shutdown,
            queue_name=WorkerSettings.queue_name,
            burst=True,
            poll_delay=0.05,
            handle_signals=False,
            max_jobs=10,
        )
        try:
            await worker.main()
        finally:
            await worker.close()
        return worker.jobs_complete

    return run


async def _raw_rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    from backend.lib.db import pool

    return [dict(r) for r in await pool().fetch(sql, *args)]


@pytest.fixture
def raw_rows(client: Any) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    """Run SQL straight against the test database (to inspect what is really stored)."""
    return _raw_rows


async def _wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
def wait_for() -> Callable[..., Awaitable[None]]:
    return _wait_for


class MadeIntegration:
    def __init__(self, integration_id: uuid.UUID, token: str, connector: str) -> None:
        self.id = integration_id
        self.token = token
        self.connector = connector

    @property
    def path(self) -> str:
        return f"/api/webhooks/{self.connector}/{self.token}"

    @property
    def url(self) -> str:
        return f"{os.environ['PUBLIC_BASE_URL']}{self.path}"


@pytest.fixture
def make_integration(client: Any) -> Callable[..., Awaitable[MadeIntegration]]:
    """Insert a connected integration directly (any connector, OAuth ones included), with its
    secrets sealed exactly as the services seal them. For tests of what comes after
    connecting (webhooks, events); connecting itself is tested through the API."""
    import datetime as dt

    from backend.connectors.registry import get_provider
    from backend.integrations import secrets as sealed
    from backend.integrations.tables import Integration
    from backend.lib import tokens

    async def make(
        tenant: Tenant,
        connector: str,
        *,
        signing_secrets: tuple[str, ...] = (),
        credentials: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        status: str = "connected",
    ) -> MadeIntegration:
        integration_id = uuid.uuid4()
        token = tokens.random_token(32)
        now = dt.datetime.now(dt.UTC)
        await Integration.insert(
            Integration(
                id=integration_id,
                tenant=tenant.id,
                connector=connector,
                name=f"{connector} test",
                status=status,
                credentials=await sealed.seal_credentials(tenant.id, integration_id, credentials)
                if credentials
                else None,
                config=await sealed.seal_config(
                    tenant.id, integration_id, get_provider(connector).spec, config or {}
                ),
                webhook_token_hash=tokens.hash_token(token),
                webhook_token_sealed=await sealed.seal_token(tenant.id, integration_id, token),
                webhook_secrets=await sealed.seal_signing_secrets(
                    tenant.id, integration_id, [sealed.SigningSecret(s) for s in signing_secrets]
                ),
                created_at=now,
                updated_at=now,
            )
        )
        return MadeIntegration(integration_id, token, connector)

    return make
