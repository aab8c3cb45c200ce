"""Direct checks of what the fuzzer found, so each stays fixed whatever it draws next time."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def assert_refused(response, statuses=(400, 422)) -> None:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_text_holding_nul_is_refused_not_a_server_error(client, tenant) -> None:
    """PostgreSQL cannot store U+0000; it used to reach the database and answer 500."""
    headers = tenant.headers
    body = {"connector_id": "webhook", "name": "a\u0000b"}
    assert_refused(await client.post("/api/integrations", json=body, headers=headers))
    body = {"connector_id": "webhook", "name": "ok", "config": {"k\u0000": ["\u0000"]}}
    assert_refused(await client.post("/api/integrations", json=body, headers=headers))
    query = {"connector_id": "a\u0000"}
    assert_refused(await client.get("/api/integrations", params=query, headers=headers))


async def test_mistyped_body_values_are_refused(client, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "webhook")
    url = f"/api/integrations/{integration.id}"
    for body in ({"test_mode": 0}, {"test_mode": "true"}, {"name": 5}, {"nickname": "x"}):
        assert_refused(await client.patch(url, json=body, headers=tenant.headers))
    changed = await client.patch(url, json={"test_mode": True}, headers=tenant.headers)
    assert changed.status_code == 200 and changed.json()["test_mode"] is True


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("2026-01-01T00:00:00Z", True),
        ("2026-01-01t00:00:00.123456789+05:30", True),
        ("0001-01-01T00:00:00+23:59", True),
        ("0.5", False),
        ("2026-01-01", False),
        ("2026-01-01T12:99:00Z", False),
        ("2026-01-01T00:00:00", False),
    ],
)
async def test_event_times_are_rfc3339(client, tenant, make_integration, value, accepted) -> None:
    integration = await make_integration(tenant, "webhook")
    url = f"/api/integrations/{integration.id}/events"
    answer = await client.get(url, params={"until": value}, headers=tenant.headers)
    if accepted:
        assert answer.status_code == 200, answer.text
    else:
        assert_refused(answer, (400,))


async def test_options_lists_every_method_of_the_path(client, tenant) -> None:
    expected = {
        "/api/integrations": "GET, OPTIONS, POST",
        "/api/integrations/x": "DELETE, GET, OPTIONS, PATCH",
        "/api/webhooks/webhook/token": "GET, OPTIONS, POST",
    }
    for path, allow in expected.items():
        answer = await client.options(path, headers=tenant.headers)
        assert answer.status_code == 204, (path, answer.text)
        assert answer.headers["allow"] == allow, path


async def test_public_operations_are_documented_public(client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    for path in ("/health", "/ready"):
        assert document["paths"][path]["get"]["security"] == []
        assert (await client.get(path)).status_code == 200
    assert document["security"] == [{"apiKey": []}]
    assert "security" not in document["paths"]["/api/integrations"]["get"]
