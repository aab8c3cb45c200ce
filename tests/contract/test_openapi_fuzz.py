"""Schemathesis over the served document, every check and every phase, against a tenant
that owns integrations and events: the API answers exactly what `/schema/openapi.json` says.

Run through schemathesis's own CLI (its pytest loader does not support pytest 9 yet), with
a config written for this run: the tenant's real ids are offered beside generated ones, so
operations reach their data instead of answering 404.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backend.connectors.registry import providers
from tests.contract.live import LiveApi

ALL_PHASES = "examples,coverage,fuzzing,stateful"
# Per operation: the whole run takes about a minute on 2 shared cores. One worker: with
# two, CPython 3.11's parser sometimes fails in hypothesis's threads (not an API failure).
MAX_EXAMPLES = 60
# Rules the document states in words but JSON Schema cannot: which credential fields,
# scopes, config keys and return URLs the chosen connector (or the integration's connector)
# accepts, which OAuth states this server issued, and which connectors send a GET handshake.
# Schema-valid requests those rules refuse get 422 (400 for a state, 405 for a handshake),
# so positive data may meet them there, and only there.
SEMANTIC_REJECTIONS = {
    "create_integration": ["422"],
    "update_integration": ["422"],
    "reconnect_integration": ["422"],
    "complete_oauth_authorization": ["400"],
    "answer_webhook_handshake": ["405"],
    # Mapping rules: JMESPath, regexes, zones and target clashes are checked on save.
    "save_mapping": ["422"],
    "preview_mapping": ["422"],
    "import_mappings": ["422"],
    # An action's input is checked against that action's own JSON Schema (and U+0000).
    "run_action": ["422"],
    # The event types and the payload an override may change depend on the connector.
    "simulate_webhooks": ["422"],
    # A backfill window (since < until, since required) and the streams a schedule may name
    # (and their modes and scopes) depend on the request and the connector.
    "trigger_sync": ["422"],
    "update_sync_schedule": ["422"],
}
# DELETE .../faults clears the collection's items; the collection itself stays (GET answers
# `{"faults": []}`), which is not the "deleted resource still available" this check means.
COLLECTION_CLEARS = ["clear_faults", "list_faults"]
# Every declared action, so run_action reaches input, scope and provider handling.
ACTION_NAMES = sorted({name for p in providers().values() for name in p.actions})
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def _toml_list(values: list[str]) -> str:
    return json.dumps(values)


def write_config(live: LiveApi, path: Path) -> Path:
    lines = [
        "[dictionaries.integrations]",
        f"values = {_toml_list(live.integration_ids)}",
        "[dictionaries.events]",
        f"values = {_toml_list(live.event_ids)}",
        "[dictionaries.actions]",
        f"values = {_toml_list(ACTION_NAMES)}",
        "[parameters]",
        'integration_id = { dictionary = "integrations", probability = 0.7 }',
        'action_name = { dictionary = "actions", probability = 0.7 }',
        'event_id = { dictionary = "events", probability = 0.7 }',
    ]
    for operation_id, statuses in SEMANTIC_REJECTIONS.items():
        lines += [
            "[[operations]]",
            f'include-operation-id = "{operation_id}"',
            "[operations.checks.positive_data_acceptance]",
            f"expected-statuses = {_toml_list(ACCEPTED + statuses)}",
        ]
    for operation_id in COLLECTION_CLEARS:
        lines += [
            "[[operations]]",
            f'include-operation-id = "{operation_id}"',
            "[operations.checks.use_after_free]",
            "enabled = false",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.timeout(480)
def test_schemathesis_finds_no_failure(live_api: LiveApi, tmp_path: Path) -> None:
    config = write_config(live_api, tmp_path / "schemathesis.toml")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            live_api.base_url + "/schema/openapi.json",
            "--header",
            f"Authorization: Bearer {live_api.api_key}",
            "--checks",
            "all",
            "--phases",
            ALL_PHASES,
            "--max-examples",
            str(MAX_EXAMPLES),
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--no-color",
        ],
        cwd=tmp_path,
        env=live_api.env,
        capture_output=True,
        text=True,
        timeout=420,
    )
    (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)
    found = run.stdout.find("=== FAILURES")
    assert run.returncode == 0, run.stdout[found:] if found >= 0 else run.stdout[-3000:]
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in run.stdout, run.stdout[-3000:]
