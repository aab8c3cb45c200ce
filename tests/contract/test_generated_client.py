"""A client generated from the served document with openapi-python-client works, and is
the client a person would want: one short function per operation, a named model for every
answer (connectors included), enums for enumerated values."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from backend.connectors.registry import get_provider
from tests.contract.live import LiveApi

PACKAGE = "switchboard_client"
OPERATIONS = {
    "system": {"get_health", "get_readiness"},
    "tenants": {"get_me"},
    "connectors": {"list_connectors", "get_connector"},
    "integrations": {
        "list_integrations",
        "create_integration",
        "get_integration",
        "update_integration",
        "delete_integration",
        "test_integration",
        "refresh_integration",
        "reconnect_integration",
        "revoke_integration",
        "rotate_webhook_secret",
        "register_webhook",
        "list_integration_logs",
    },
    "audit": {"list_audit_entries"},
    "events": {"list_events", "get_event", "replay_event", "replay_failed_events"},
    "mappings": {
        "list_mappings",
        "save_mapping",
        "list_mapping_versions",
        "restore_mapping_version",
        "preview_mapping",
        "export_mappings",
        "import_mappings",
    },
    "webhooks": {
        "receive_webhook",
        "answer_webhook_handshake",
        "receive_app_webhook",
        "answer_app_webhook_handshake",
    },
    "actions": {"run_action", "list_action_runs", "get_action_run"},
    "syncs": {
        "trigger_sync",
        "list_sync_jobs",
        "get_sync_job",
        "cancel_sync_job",
        "list_synced_records",
        "get_sync_schedule",
        "update_sync_schedule",
    },
    "oauth": {"complete_oauth_authorization"},
    "metrics": {"get_integration_metrics", "get_metrics_summary"},
    "alerts": {"get_integration_health", "list_alerts", "ack_alert"},
    "test mode": {
        "simulate_webhooks",
        "purge_test_data",
        "set_faults",
        "list_faults",
        "clear_faults",
    },
}


@pytest.fixture(scope="module")
def document(live_api: LiveApi) -> dict[str, Any]:
    return httpx.get(live_api.base_url + "/schema/openapi.json", timeout=10).json()


@pytest.fixture(scope="module")
def client_package(
    live_api: LiveApi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    """Generate the client offline from the served bytes, then import it."""
    root = tmp_path_factory.mktemp("generated")
    (root / "openapi.json").write_bytes(
        httpx.get(live_api.base_url + "/schema/openapi.json", timeout=10).content
    )
    (root / "config.yaml").write_text(
        f"package_name_override: {PACKAGE}\nproject_name_override: switchboard-client\n"
        "post_hooks: []\n"
    )
    command = [str(Path(sys.executable).parent / "openapi-python-client"), "generate"]
    command += ["--path", "openapi.json", "--config", "config.yaml", "--meta", "none"]
    run = subprocess.run(
        [*command, "--output-path", PACKAGE],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The generator warns about every construct it had to guess at; the document has none.
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_every_operation_has_a_short_stable_id_and_named_answers(document) -> None:
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert sorted(ids) == sorted(set().union(*OPERATIONS.values()))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+){1,3}", i) for i in ids), ids
    schemas = document["components"]["schemas"]
    # One name per schema: no module-prefixed twins such as `system_controllers_Health`.
    assert all(re.fullmatch(r"[A-Z][A-Za-z]+", name) for name in schemas), sorted(schemas)
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, response in operation["responses"].items():
                json_body = (response.get("content") or {}).get("application/json")
                if json_body is not None:
                    assert "$ref" in json_body["schema"], (operation["operationId"], code)


def test_the_generated_client_calls_the_api_with_typed_results(
    live_api: LiveApi, client_package: ModuleType
) -> None:
    api = importlib.import_module(f"{PACKAGE}.api")
    models = importlib.import_module(f"{PACKAGE}.models")
    importlib.import_module(f"{PACKAGE}.api.connectors.list_connectors")
    client = client_package.AuthenticatedClient(base_url=live_api.base_url, token=live_api.api_key)

    catalog = api.connectors.list_connectors.sync(client=client)
    assert isinstance(catalog, models.ConnectorList)
    stripe = next(c for c in catalog.items if c.id == "stripe")
    assert isinstance(stripe, models.Connector)
    assert stripe.auth_type == models.ConnectorAuthType.API_KEY
    assert all(isinstance(f, models.CredentialFieldInfo) for f in stripe.credential_fields)

    importlib.import_module(f"{PACKAGE}.api.integrations.create_integration")
    credentials = dict(get_provider("stripe").simulator.sample_credentials)
    created = api.integrations.create_integration.sync(
        client=client,
        body=models.IntegrationCreate(
            connector_id="stripe",
            name="Generated client",
            credentials=models.IntegrationCreateCredentialsType0.from_dict(credentials),
            test_mode=True,
        ),
    )
    assert isinstance(created, models.IntegrationCreated), created
    integration = created.integration
    assert isinstance(integration, models.Integration)
    assert integration.status == models.IntegrationStatus.CONNECTED
    assert integration.test_mode is True

    importlib.import_module(f"{PACKAGE}.api.integrations.list_integrations")
    page = api.integrations.list_integrations.sync(
        client=client, status=models.ListIntegrationsStatus.CONNECTED, limit=200
    )
    assert isinstance(page, models.IntegrationPage)
    assert integration.id in [i.id for i in page.items]

    importlib.import_module(f"{PACKAGE}.api.integrations.get_integration")
    fetched = api.integrations.get_integration.sync(client=client, integration_id=integration.id)
    assert isinstance(fetched, models.Integration)
    assert fetched.id == integration.id and fetched.name == "Generated client"
    assert isinstance(fetched.health, models.Health)

    importlib.import_module(f"{PACKAGE}.api.events.list_events")
    events = api.events.list_events.sync(
        client=client, integration_id=live_api.webhook_integration_id
    )
    assert isinstance(events, models.EventPage)
    assert {e.id for e in events.items} >= set(live_api.event_ids)
    assert all(e.status == models.EventStatus.PROCESSED for e in events.items)

    missing = api.integrations.get_integration.sync(
        client=client, integration_id="00000000-0000-0000-0000-000000000000"
    )
    assert isinstance(missing, models.Problem) and missing.status == 404
