"""Property-based run of schemathesis over the served OpenAPI schema: no input makes the API
answer 5xx, and what it answers matches the schema. Bounded examples; grows with the API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_api(database: str) -> Iterator[dict[str, Any]]:
    """The api as its own process (uvicorn) against the test database, and a tenant key."""
    port = _free_port()
    env = {**os.environ, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend", "api", "--server", "uvicorn", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "api did not start"
        time.sleep(0.2)

    # Through the CLI: the tenant is created exactly as an operator would.
    out = subprocess.run(
        [sys.executable, "-m", "backend", "tenants", "create", "fuzz"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = json.loads(out.stdout)["api_key"]
    try:
        yield {"base_url": base, "headers": {"Authorization": f"Bearer {key}"}}
    finally:
        proc.terminate()
        proc.wait(10)


def test_api_never_5xx_and_matches_schema(live_api: dict[str, Any]) -> None:
    """Every operation, up to 15 generated requests each (schemathesis's pytest loader does
    not support pytest 9 yet, so operations are driven through hypothesis directly)."""
    schema = schemathesis.openapi.from_url(live_api["base_url"] + "/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    for operation in operations:

        @settings(
            max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(
                base_url=live_api["base_url"],
                headers=live_api["headers"],
                checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
                timeout=10,
            )

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
