"""The served OpenAPI document states the sync API's routes and shapes (issue 12's exact
fields and enums), so generated clients and schemathesis see what the API answers."""

from __future__ import annotations

from typing import Any

from tests.syncs.api_helpers import RECORD_KEYS, SYNC_KEYS

BASE = "/api/integrations/{integration_id}"
ROUTES = {
    ("post", f"{BASE}/sync"): "trigger_sync",
    ("get", f"{BASE}/sync-jobs"): "list_sync_jobs",
    ("get", f"{BASE}/sync-jobs/{{job_id}}"): "get_sync_job",
    ("post", f"{BASE}/sync-jobs/{{job_id}}/cancel"): "cancel_sync_job",
    ("get", f"{BASE}/records"): "list_synced_records",
    ("get", f"{BASE}/schedule"): "get_sync_schedule",
    ("put", f"{BASE}/schedule"): "update_sync_schedule",
}


def ref(schema: dict[str, Any]) -> str:
    return schema["$ref"].rsplit("/", 1)[-1]


def answer(operation: dict[str, Any], status: str) -> str:
    return ref(operation["responses"][status]["content"]["application/json"]["schema"])


async def test_the_routes_and_shapes_are_in_the_served_document(client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    paths, schemas = document["paths"], document["components"]["schemas"]

    for (method, path), operation_id in ROUTES.items():
        operation = paths[path][method]
        assert operation["operationId"] == operation_id
        assert operation["tags"] == ["syncs"]
        assert {"401", "404", "422"} <= set(operation["responses"])

    trigger = paths[f"{BASE}/sync"]["post"]
    assert answer(trigger, "202") == answer(trigger, "200") == "SyncJobResult"
    assert "409" in trigger["responses"]
    body = schemas[ref(trigger["requestBody"]["content"]["application/json"]["schema"])]
    assert body["required"] == ["stream"] and body["additionalProperties"] is False
    assert body["properties"]["mode"]["enum"] == ["full", "incremental", "backfill"]
    assert body["properties"]["since"]["format"] == "date-time"
    assert body["properties"]["until"]["format"] == "date-time"

    job = schemas["SyncJob"]
    assert set(job["properties"]) == set(job["required"]) == SYNC_KEYS
    assert job["properties"]["trigger"]["enum"] == ["manual", "schedule", "webhook"]
    assert job["properties"]["status"]["enum"] == [
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
    ]
    assert schemas["SyncJobResult"]["properties"]["job"] == {"$ref": "#/components/schemas/SyncJob"}
    assert answer(paths[f"{BASE}/sync-jobs"]["get"], "200") == "SyncJobPage"
    assert answer(paths[f"{BASE}/sync-jobs/{{job_id}}"]["get"], "200") == "SyncJob"
    assert answer(paths[f"{BASE}/sync-jobs/{{job_id}}/cancel"]["post"], "200") == "SyncJobResult"

    jobs_query = {p["name"]: p for p in paths[f"{BASE}/sync-jobs"]["get"]["parameters"]}
    assert {"stream", "status", "limit", "cursor"} <= set(jobs_query)
    assert jobs_query["status"]["schema"]["enum"] == job["properties"]["status"]["enum"]

    records = paths[f"{BASE}/records"]["get"]
    assert answer(records, "200") == "SyncedRecordPage"
    record = schemas["SyncedRecord"]
    assert set(record["properties"]) == set(record["required"]) == RECORD_KEYS
    query = {p["name"]: p for p in records["parameters"]}
    assert query["include_deleted"]["schema"] == {
        "type": "boolean",
        "default": False,
        "description": "Also list records marked deleted.",
    }

    schedule = schemas["SyncSchedule"]
    assert set(schedule["required"]) == {"streams", "paused"}
    assert schedule["properties"]["streams"]["additionalProperties"] == {
        "$ref": "#/components/schemas/StreamSchedule"
    }
    stream_schedule = schemas["StreamSchedule"]["properties"]
    assert stream_schedule["every_minutes"]["minimum"] == 1
    assert stream_schedule["mode"]["enum"] == ["incremental", "full"]
    update = paths[f"{BASE}/schedule"]["put"]
    assert answer(update, "200") == "SyncSchedule"
    update_body = update["requestBody"]["content"]["application/json"]["schema"]
    assert schemas[ref(update_body)]["additionalProperties"] is False
