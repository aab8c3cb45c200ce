"""Issue 14's first "must show": every connector whose folder has event generators connects
in test mode with no real credentials, simulates every event type it knows through its real
webhook URL, and each event reads back normalized (and mapped, where the connector ships a
default mapping) through the events API, flagged `simulated`. New folders are covered by
the registry, without being listed here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from backend.connectors.generators import generators_of
from backend.connectors.registry import providers
from backend.mappings.defaults import default_rules
from tests.testmode.conftest import connect_test_mode

SIMULATED = tuple(key for key, p in providers().items() if generators_of(p) is not None)


def test_the_registry_has_connectors_to_simulate() -> None:
    assert len(SIMULATED) >= 8, SIMULATED


@pytest.mark.usefixtures("loopback")
@pytest.mark.parametrize("key", SIMULATED)
async def test_every_event_type_is_simulated_normalized_and_mapped(
    key: str,
    client: httpx.AsyncClient,
    make_tenant: Callable[[str], Awaitable[Any]],
    run_worker: Callable[[], Awaitable[int]],
) -> None:
    provider = providers()[key]
    generators = generators_of(provider)
    assert generators is not None
    names = [e.name for e in generators.event_types]
    tenant = await make_tenant(f"sim-{key}")
    integration_id = await connect_test_mode(client, tenant.headers, key)

    answer = await client.post(
        f"/api/integrations/{integration_id}/simulate",
        json={"count": len(names)},  # no event_type: one of each, in turn
        headers=tenant.headers,
    )

    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert result["sent"] == len(names)
    assert [d["event_type"] for d in result["deliveries"]] == names
    assert {d["status"] for d in result["deliveries"]} == {200}, result
    await run_worker()
    listed = await client.get(
        f"/api/integrations/{integration_id}/events",
        params={"simulated": "true", "limit": 200},
        headers=tenant.headers,
    )
    events = listed.json()["items"]
    assert sorted(e["type"] for e in events) == sorted(names)
    sent_ids = {d["provider_event_id"] for d in result["deliveries"]}
    rules = default_rules(key)
    for event in events:
        assert event["simulated"] is True and event["status"] == "processed", event
        assert event["provider_event_id"] in sent_ids
        detail = (
            await client.get(
                f"/api/integrations/{integration_id}/events/{event['id']}", headers=tenant.headers
            )
        ).json()
        assert detail["simulated"] is True
        # The CloudEvents-shaped envelope names its source connector in the type.
        assert detail["normalized"]["type"] == f"{key}.{event['type']}"
        if event["type"] in rules:
            assert detail["mapping_version"] == 0, detail
            assert detail["mapped"], detail
            assert detail["mapping_errors"] == [], detail["mapping_errors"]
