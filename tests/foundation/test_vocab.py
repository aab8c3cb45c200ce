"""The shared vocabularies reach every layer: the OpenAPI document names each as one enum, the
list filters accept exactly its values, and rows store plain text (an enum default never
lands in the database as `IntegrationStatus.PENDING`)."""

from __future__ import annotations

from enum import StrEnum

import pytest

from backend.lib.vocab import (
    EventStatus,
    FailureKind,
    HealthStatus,
    IntegrationStatus,
    WebhookRegistrationStatus,
)


def test_a_failed_health_check_can_report_every_failure_kind() -> None:
    assert {kind.value for kind in FailureKind} <= {status.value for status in HealthStatus}


@pytest.mark.parametrize(
    ("schema", "field", "vocabulary"),
    [
        ("Integration", "status", IntegrationStatus),
        ("Health", "status", HealthStatus),
        ("WebhookRegistration", "status", WebhookRegistrationStatus),
        ("Event", "status", EventStatus),
        ("EventDetail", "status", EventStatus),
    ],
)
async def test_the_document_names_each_vocabulary_once(
    client, schema: str, field: str, vocabulary: type[StrEnum]
) -> None:
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    name = vocabulary.__name__
    assert schemas[schema]["properties"][field] == {"$ref": f"#/components/schemas/{name}"}
    assert schemas[name]["enum"] == [member.value for member in vocabulary]


@pytest.mark.parametrize(
    ("path", "vocabulary"),
    [
        ("/api/integrations", IntegrationStatus),
        ("/api/integrations/{integration_id}/events", EventStatus),
    ],
)
async def test_status_filters_list_the_vocabulary(
    client, path: str, vocabulary: type[StrEnum]
) -> None:
    operation = (await client.get("/schema/openapi.json")).json()["paths"][path]["get"]
    status = next(p for p in operation["parameters"] if p["name"] == "status")
    assert status["schema"]["enum"] == [member.value for member in vocabulary]


async def test_filters_take_every_value_and_nothing_else(client, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "webhook")
    lists = ["/api/integrations", f"/api/integrations/{integration.id}/events"]
    for url, vocabulary in zip(lists, (IntegrationStatus, EventStatus), strict=True):
        for member in vocabulary:
            answer = await client.get(url, params={"status": member}, headers=tenant.headers)
            assert answer.status_code == 200, (url, member, answer.text)
        refused = await client.get(
            url, params={"status": "IntegrationStatus.PENDING"}, headers=tenant.headers
        )
        assert refused.status_code == 400, (url, refused.text)


async def test_defaults_are_stored_and_served_as_plain_text(
    client, tenant, make_integration, raw_rows
) -> None:
    integration = await make_integration(tenant, "webhook")
    [row] = await raw_rows(
        "SELECT status, health_status FROM integration WHERE id = $1", integration.id
    )
    assert (row["status"], row["health_status"]) == ("connected", "unknown")
    answer = await client.get(f"/api/integrations/{integration.id}", headers=tenant.headers)
    assert answer.json()["status"] == "connected"
    assert answer.json()["health"]["status"] == "unknown"
    connected = await client.get(
        "/api/integrations", params={"status": "connected"}, headers=tenant.headers
    )
    assert str(integration.id) in [item["id"] for item in connected.json()["items"]]
