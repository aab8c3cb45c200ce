"""Sync fixtures: a provider's list API on a loopback port (checked by Prism against the
provider's published description), connected integrations, sync jobs inserted as the API
inserts them, and a real arq burst worker running them on the real Redis and PostgreSQL.

Fixture names are stable (the API tests import them): `prism_for`, `stripe_prism`,
`stripe_api`, `provider_api`, `stripe_integration`, `make_sync_job`, `run_syncs`,
`sync_job`, `synced_records`, `arq_redis`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.contract.descriptions import write_test_copy
from tests.contract.prism import PrismServer
from tests.syncs.fake_provider import FakeProvider, StripeCustomers

STRIPE_KEY = "sk_test_51SyncEngineTests000000000000"


@pytest.fixture(autouse=True)
async def _sync_queue_left_clean() -> AsyncIterator[None]:
    """Every sync test leaves this run's queue without sync jobs (the crash test's killed
    worker leaves its job behind, held by an in-progress key for the job timeout)."""
    from backend.lib.redis import connect
    from backend.settings import get_settings
    from tests.syncs.api_helpers import drop_queued_syncs

    yield
    queue = get_settings().queue_name
    redis = connect(get_settings().redis_url, queue)
    try:
        await drop_queued_syncs(redis, queue)
    finally:
        await redis.aclose()


@pytest.fixture(scope="session")
def prism_for(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], PrismServer]]:
    """Prism serving a connector's published description, started once per session on
    first use and stopped by PID at its end."""
    started: dict[str, PrismServer] = {}

    def get(key: str) -> PrismServer:
        if key not in started:
            document = write_test_copy(key, tmp_path_factory.mktemp(f"{key}-description"))
            started[key] = PrismServer(document).start()
        return started[key]

    try:
        yield get
    finally:
        for prism in started.values():
            prism.stop()


@pytest.fixture(scope="session")
def stripe_prism(prism_for: Callable[[str], PrismServer]) -> PrismServer:
    return prism_for("stripe")


@pytest.fixture
def provider_api(
    prism_for: Callable[[str], PrismServer], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., FakeProvider]]:
    """`provider_api(key, make_api, base_path="")`: a local server answering with the API
    `make_api(server_url)` builds, connector `key` pointed at it (its API base is the
    server plus `base_path`), every request also checked by Prism against `key`'s
    description; the test asserts the fake's `violations` is empty."""
    made: list[tuple[FakeProvider, HTTPServer]] = []

    def start(key: str, make_api: Callable[[str], Any], base_path: str = "") -> FakeProvider:
        server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        server.start()
        url = server.url_for("/").rstrip("/")
        fake = FakeProvider(server, make_api(url), prism_for(key))
        made.append((fake, server))
        monkeypatch.setenv(f"SWITCHBOARD_{key.upper()}_API_BASE_URL", url + base_path)
        return fake

    try:
        yield start
    finally:
        for fake, server in made:
            fake.close()
            server.clear()
            server.stop()


@pytest.fixture
def stripe_api(provider_api: Callable[..., FakeProvider]) -> FakeProvider:
    """Stripe's customers list at a local server the Stripe connector is pointed at."""
    return provider_api("stripe", lambda url: StripeCustomers())


@pytest.fixture
def stripe_integration(make_integration: Any, tenant: Any) -> Callable[..., Awaitable[Any]]:
    """A connected (or test-mode) Stripe integration of the test's tenant."""

    async def make(*, test_mode: bool = False) -> Any:
        from backend.integrations.tables import Integration

        made = await make_integration(tenant, "stripe", credentials={"secret_key": STRIPE_KEY})
        if test_mode:
            await Integration.update({Integration.test_mode: True}).where(Integration.id == made.id)
        return made

    return make


@pytest.fixture
def make_sync_job(client: Any) -> Callable[..., Awaitable[uuid.UUID]]:
    """Insert a queued job as the API does (one live job per stream: the insert does
    nothing when one is queued or running, and that job's id is returned)."""
    from backend.lib.db import pool

    async def make(
        made: Any,
        stream: str,
        mode: str = "incremental",
        *,
        tenant_id: uuid.UUID | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        trigger: str = "manual",
    ) -> uuid.UUID:
        tenant = tenant_id or await pool().fetchval(
            "SELECT tenant FROM integration WHERE id = $1", made.id
        )
        inserted = await pool().fetchval(
            """
            INSERT INTO integration_sync_job
              (id, tenant, integration, stream, mode, trigger, status, since, "until", pages,
               records_upserted, records_deleted, attempts, error, trace_id, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, 0, 0, 0, 0, '', '', now())
            ON CONFLICT (integration, stream) WHERE status IN ('queued', 'running') DO NOTHING
            RETURNING id
            """,
            uuid.uuid4(),
            tenant,
            made.id,
            stream,
            mode,
            trigger,
            since,
            until,
        )
        if inserted is not None:
            return uuid.UUID(str(inserted))
        live = await pool().fetchval(
            "SELECT id FROM integration_sync_job WHERE integration = $1 AND stream = $2 "
            "AND status IN ('queued', 'running')",
            made.id,
            stream,
        )
        return uuid.UUID(str(live))

    return make


@pytest.fixture
async def arq_redis(client: Any) -> AsyncIterator[Any]:
    from arq.connections import create_pool

    from backend.worker import WorkerSettings

    redis = await create_pool(
        WorkerSettings.redis_settings, default_queue_name=WorkerSettings.queue_name
    )
    try:
        yield redis
    finally:
        await redis.aclose()


@pytest.fixture
def run_syncs(
    arq_redis: Any, run_worker: Callable[[], Awaitable[int]]
) -> Callable[..., Awaitable[int]]:
    """Enqueue these jobs with `enqueue_sync` and run a burst worker until the queue is
    empty (continuations included); returns the arq jobs it completed."""
    from backend.syncs.jobs import enqueue_sync

    async def run(*job_ids: uuid.UUID) -> int:
        for job_id in job_ids:
            await enqueue_sync(arq_redis, job_id)
        return await run_worker()

    return run


async def _job(job_id: uuid.UUID) -> dict[str, Any]:
    from backend.lib.db import pool

    row = await pool().fetchrow("SELECT * FROM integration_sync_job WHERE id = $1", job_id)
    assert row is not None
    return dict(row)


@pytest.fixture
def sync_job(client: Any) -> Callable[[uuid.UUID], Awaitable[dict[str, Any]]]:
    """The job's row as stored."""
    return _job


async def _records(integration_id: uuid.UUID, stream: str) -> list[dict[str, Any]]:
    from backend.lib.db import pool

    rows = await pool().fetch(
        "SELECT * FROM synced_record WHERE integration = $1 AND stream = $2 ORDER BY external_id",
        integration_id,
        stream,
    )
    return [dict(r) for r in rows]


@pytest.fixture
def synced_records(client: Any) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    """A stream's stored records (deleted ones included), by external id."""
    return _records
