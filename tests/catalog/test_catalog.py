"""The public JSON of a connector: its shape, and that no operator secret can reach it."""

from __future__ import annotations

import msgspec
import pytest

from backend.catalog.services import catalog_entry
from backend.connectors.config import connector_config
from backend.connectors.registry import get_provider, providers

KEYS = {
    "id",
    "name",
    "category",
    "description",
    "icon",
    "docs_url",
    "auth_type",
    "configured",
    "configured_reason",
    "enabled",
    "capabilities",
    "credential_fields",
    "oauth",
    "webhook",
    "streams",
    "api_base_url",
    "api_base_overridable",
}
SECRET = "operator-client-secret-9f8e7d"


def _env(key: str) -> dict[str, str]:
    prefix = f"SWITCHBOARD_{key.upper()}_"
    return {prefix + "CLIENT_ID": "client-id-123", prefix + "CLIENT_SECRET": SECRET}


@pytest.mark.parametrize("key", list(providers()))
def test_entry_shape_and_no_secret(key: str) -> None:
    provider = get_provider(key)
    config = connector_config(provider.spec, env=_env(key))
    entry = catalog_entry(provider, config, enabled=True)
    assert set(entry) == KEYS
    assert entry["id"] == key
    assert entry["enabled"] is True
    assert entry["configured"] is True
    encoded = msgspec.json.encode(entry).decode()
    assert SECRET not in encoded
    assert 'client_secret": "' not in encoded.replace(" ", "")
    for field in entry["credential_fields"]:
        assert set(field) == {"name", "label", "secret", "required", "pattern", "help", "example"}
    if entry["oauth"] is not None:
        assert set(entry["oauth"]) == {
            "default_scopes",
            "optional_scopes",
            "pkce",
            "refresh_tokens",
            "grant_type",
        }
    if entry["webhook"] is not None:
        assert set(entry["webhook"]) == {
            "scheme",
            "signing_secret_source",
            "handshake",
            "auto_register",
            "content_types",
        }
    for stream in entry["streams"]:
        assert {"name", "description", "required_scopes"} <= set(stream)


def test_api_key_connector_has_fields_and_no_oauth() -> None:
    provider = get_provider("stripe")
    entry = catalog_entry(provider, connector_config(provider.spec, env={}), enabled=False)
    assert entry["oauth"] is None
    assert entry["enabled"] is False
    assert entry["credential_fields"][0]["name"] == "secret_key"
    assert entry["credential_fields"][0]["secret"] is True
    assert entry["webhook"]["scheme"] == "stripe-v1"


def test_unconfigured_oauth_connector_says_why() -> None:
    provider = get_provider("slack")
    entry = catalog_entry(provider, connector_config(provider.spec, env={}), enabled=True)
    assert entry["configured"] is False
    assert "SWITCHBOARD_SLACK_CLIENT_ID" in entry["configured_reason"]
    assert entry["oauth"]["default_scopes"] == ["channels:read", "channels:history"]


def test_entry_reports_the_operator_api_base() -> None:
    provider = get_provider("github")
    env = {"SWITCHBOARD_GITHUB_API_BASE_URL": "https://ghe.example.com/api/v3"}
    entry = catalog_entry(provider, connector_config(provider.spec, env=env), enabled=True)
    assert entry["api_base_url"] == "https://ghe.example.com/api/v3"
    assert entry["api_base_overridable"] is True


def test_generic_webhook_entry() -> None:
    provider = get_provider("webhook")
    entry = catalog_entry(provider, connector_config(provider.spec, env={}), enabled=True)
    assert (entry["auth_type"], entry["oauth"], entry["credential_fields"]) == ("none", None, [])
    assert entry["webhook"]["scheme"] == "standard-webhooks"
