"""The api and a worker as real processes, and a tenant that owns data, for contract tests.

Schemathesis and generated clients speak HTTP to a served document, so they get the api as
an operator runs it (uvicorn, the CLI's tenant) and a tenant whose integrations and events
exist: test-mode API-key connections and signed generic webhooks the worker has normalized.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from standardwebhooks.webhooks import Webhook

from backend.connectors.registry import get_provider

API_KEY_CONNECTORS = ("stripe", "twilio", "telegram")


@dataclass
class LiveApi:
    base_url: str
    api_key: str
    env: dict[str, str]
    integration_ids: list[str] = field(default_factory=list)
    webhook_integration_id: str = ""
    event_ids: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "backend", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_ready(base_url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base_url + "/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "api did not start"
        time.sleep(0.2)


@contextmanager
def serve() -> Iterator[LiveApi]:
    """The api (uvicorn) and a worker against the test database, and a populated tenant."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The fuzzer sends bad keys on purpose, all from one address: budgets must not end it.
    env = {
        **os.environ,
        "PUBLIC_BASE_URL": base,
        "SWITCHBOARD_API_URL": base,  # where simulate reaches the api's own webhook URLs
        "SWITCHBOARD_API_RATE_LIMIT": "1000000",
        "SWITCHBOARD_FAILED_AUTH_LIMIT": "1000000",
    }
    api = _cli(env, "api", "--server", "uvicorn", "--port", str(port))
    worker = _cli(env, "worker")
    try:
        _wait_ready(base, api)
        # Through the CLI: the tenant is created exactly as an operator would.
        out = subprocess.run(
            [sys.executable, "-m", "backend", "tenants", "create", "contract"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        live = LiveApi(base, json.loads(out.stdout)["api_key"], env)
        with httpx.Client(base_url=base, headers=live.headers, timeout=10) as client:
            populate(client, live)
        yield live
    finally:
        for proc in (api, worker):
            proc.terminate()
        for proc in (api, worker):
            proc.wait(10)


def populate(client: httpx.Client, live: LiveApi) -> None:
    """Test-mode API-key integrations, and a generic webhook integration with delivered,
    normalized events — all through the public API, as a tenant would."""
    for key in API_KEY_CONNECTORS:
        created = client.post(
            "/api/integrations",
            json={
                "connector_id": key,
                "name": f"{key} (test mode)",
                "credentials": dict(get_provider(key).simulator.sample_credentials),
                "test_mode": True,
            },
        )
        assert created.status_code == 201, created.text
        live.integration_ids.append(created.json()["integration"]["id"])

    created = client.post("/api/integrations", json={"connector_id": "webhook", "name": "Orders"})
    assert created.status_code == 201, created.text
    integration = created.json()["integration"]
    live.webhook_integration_id = integration["id"]
    live.integration_ids.append(integration["id"])
    signer = Webhook(created.json()["webhook_signing_secret"])
    for n in range(3):
        body = json.dumps({"type": "order.created", "data": {"order": n}})
        msg_id = f"msg_{uuid.uuid4().hex}"
        at = dt.datetime.now(dt.UTC)
        delivered = client.post(
            integration["webhook_url"],
            content=body,
            headers={
                "Content-Type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": signer.sign(msg_id, at, body),
            },
        )
        assert delivered.status_code < 300, delivered.text

    events_url = f"/api/integrations/{integration['id']}/events"
    deadline = time.monotonic() + 30
    while True:
        items = client.get(events_url, params={"status": "processed"}).json()["items"]
        if len(items) == 3:
            live.event_ids = [item["id"] for item in items]
            return
        assert time.monotonic() < deadline, "the worker did not normalize the deliveries"
        time.sleep(0.2)
