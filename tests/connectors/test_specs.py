"""The catalog's facts, asserted literally against the providers' documentation, and the
operator configuration scheme."""

from __future__ import annotations

import re

import msgspec
import pytest

from backend.connectors.config import connector_config
from backend.connectors.registry import get_provider, providers
from backend.connectors.spec import SpecError, validate_spec

G = "https://www.googleapis.com/auth/"


def test_an_unknown_key_is_not_a_connector() -> None:
    with pytest.raises(KeyError):
        get_provider("myspace")


@pytest.mark.parametrize(
    ("key", "auth_type"),
    [
        ("gmail", "oauth2"),
        ("google_calendar", "oauth2"),
        ("google_drive", "oauth2"),
        ("slack", "oauth2"),
        ("github", "oauth2"),
        ("jira", "oauth2"),
        ("paypal", "oauth2"),
        ("telegram", "api_key"),
        ("whatsapp", "api_key"),
        ("twilio", "api_key"),
        ("stripe", "api_key"),
        ("webhook", "none"),
    ],
)
def test_auth_types(key: str, auth_type: str) -> None:
    assert get_provider(key).spec.auth_type == auth_type


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("gmail", "https://gmail.googleapis.com"),
        ("google_calendar", "https://www.googleapis.com/calendar/v3"),
        ("google_drive", "https://www.googleapis.com/drive/v3"),
        ("slack", "https://slack.com/api"),
        ("telegram", "https://api.telegram.org"),
        ("whatsapp", "https://graph.facebook.com/v21.0"),
        ("twilio", "https://api.twilio.com"),
        ("github", "https://api.github.com"),
        ("jira", "https://api.atlassian.com"),
        ("stripe", "https://api.stripe.com"),
        ("paypal", "https://api-m.paypal.com"),
    ],
)
def test_api_base_urls(key: str, url: str) -> None:
    assert get_provider(key).spec.api_base_url == url


def test_only_self_hosted_editions_may_override_the_api_base() -> None:
    overridable = {k for k, p in providers().items() if p.spec.api_base_overridable}
    assert overridable == {"github", "jira"}


@pytest.mark.parametrize(
    ("key", "scopes"),
    [
        ("gmail", (G + "gmail.readonly",)),
        ("google_calendar", (G + "calendar.calendarlist.readonly", G + "calendar.events.readonly")),
        ("google_drive", (G + "drive.readonly",)),
    ],
)
def test_google_oauth(key: str, scopes: tuple[str, ...]) -> None:
    oauth = get_provider(key).spec.oauth
    assert oauth is not None
    assert oauth.authorize_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert oauth.token_url == "https://oauth2.googleapis.com/token"
    assert oauth.revoke_url == "https://oauth2.googleapis.com/revoke"
    assert oauth.default_scopes == scopes
    assert oauth.extra_authorize_params == {
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
    }
    assert (oauth.pkce, oauth.refresh_tokens, oauth.rotating_refresh_tokens) == (True, True, False)


def test_slack_oauth() -> None:
    oauth = get_provider("slack").spec.oauth
    assert oauth is not None
    assert oauth.authorize_url == "https://slack.com/oauth/v2/authorize"
    assert oauth.token_url == "https://slack.com/api/oauth.v2.access"
    assert oauth.revoke_url == "https://slack.com/api/auth.revoke"
    assert oauth.default_scopes == ("channels:read", "channels:history")
    assert oauth.scope_separator == ","
    assert oauth.token_endpoint_auth_method == "client_secret_basic"
    assert oauth.pkce is False


def test_github_oauth() -> None:
    oauth = get_provider("github").spec.oauth
    assert oauth is not None
    assert oauth.authorize_url == "https://github.com/login/oauth/authorize"
    assert oauth.token_url == "https://github.com/login/oauth/access_token"
    assert oauth.default_scopes == ("admin:repo_hook",)
    assert "repo" in oauth.optional_scopes
    assert oauth.pkce is True


def test_jira_oauth() -> None:
    oauth = get_provider("jira").spec.oauth
    assert oauth is not None
    assert oauth.authorize_url == "https://auth.atlassian.com/authorize"
    assert oauth.token_url == "https://auth.atlassian.com/oauth/token"
    assert oauth.default_scopes == (
        "read:jira-work",
        "read:jira-user",
        "manage:jira-webhook",
        "offline_access",
    )
    assert oauth.extra_authorize_params == {"audience": "api.atlassian.com", "prompt": "consent"}
    assert (oauth.pkce, oauth.rotating_refresh_tokens) == (False, True)


def test_paypal_uses_the_tenants_own_app() -> None:
    spec = get_provider("paypal").spec
    assert spec.oauth is not None
    assert spec.oauth.grant_type == "client_credentials"
    assert spec.oauth.token_url == "https://api-m.paypal.com/v1/oauth2/token"
    assert spec.oauth.token_endpoint_auth_method == "client_secret_basic"
    assert spec.oauth.refresh_tokens is False
    assert [f.name for f in spec.credential_fields] == ["client_id", "client_secret"]


def test_validate_spec_ties_credential_fields_to_the_grant() -> None:
    paypal = get_provider("paypal").spec
    with pytest.raises(SpecError, match="client_credentials connectors need credential_fields"):
        validate_spec(msgspec.structs.replace(paypal, credential_fields=()))
    github = get_provider("github").spec
    with pytest.raises(SpecError, match="must not have credential_fields"):
        validate_spec(msgspec.structs.replace(github, credential_fields=paypal.credential_fields))


@pytest.mark.parametrize(
    ("key", "fields"),
    [
        ("telegram", ["bot_token"]),
        ("whatsapp", ["access_token", "phone_number_id"]),
        ("twilio", ["account_sid", "auth_token"]),
        ("stripe", ["secret_key"]),
    ],
)
def test_api_key_credential_fields(key: str, fields: list[str]) -> None:
    assert [f.name for f in get_provider(key).spec.credential_fields] == fields


def _pattern(key: str, name: str) -> str:
    return next(f.pattern for f in get_provider(key).spec.credential_fields if f.name == name)


GARBAGE = ["", "hello world", "x" * 3000, "<script>", "null"]


@pytest.mark.parametrize("key", [k for k, p in providers().items() if p.spec.credential_fields])
def test_credential_examples_match_and_garbage_does_not(key: str) -> None:
    for field in get_provider(key).spec.credential_fields:
        assert field.pattern and field.example
        assert re.fullmatch(field.pattern, field.example), field.name
        assert not re.fullmatch(field.pattern, f" {field.example}")
        assert not re.fullmatch(field.pattern, f"{field.example}\n")
        for junk in GARBAGE:
            assert not re.fullmatch(field.pattern, junk), (field.name, junk)


@pytest.mark.parametrize(
    ("key", "name", "good", "bad"),
    [
        (
            "telegram",
            "bot_token",
            ["123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"],
            ["123456789", "123456789:short", "bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"],
        ),
        (
            "stripe",
            "secret_key",
            [
                "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
                "sk_live_51H0abcdefghijklmnop",
                "rk_live_51H0abcdefghij",
            ],
            [
                "pk_test_4eC39HqLyjWDarjtT1zdp7dc",
                "whsec_abcdefghijklmnop",
                "sk_prod_4eC39HqLyjWDarjt",
            ],
        ),
        (
            "twilio",
            "account_sid",
            ["AC" + "0123456789abcdef" * 2],
            ["SK" + "0123456789abcdef" * 2, "AC" + "0123456789ABCDEF" * 2, "AC0123"],
        ),
        ("twilio", "auth_token", ["0123456789abcdef" * 2], ["0123456789abcdef", "g" * 32]),
        ("whatsapp", "phone_number_id", ["106540352242922"], ["+1 555 0100", "abc"]),
    ],
)
def test_documented_credential_shapes(key: str, name: str, good: list[str], bad: list[str]) -> None:
    pattern = _pattern(key, name)
    for value in good:
        assert re.fullmatch(pattern, value), value
    for value in bad:
        assert not re.fullmatch(pattern, value), value


@pytest.mark.parametrize(
    ("key", "source"),
    [
        ("gmail", "user"),
        ("google_calendar", "generated"),
        ("google_drive", "generated"),
        ("slack", "user"),
        ("telegram", "generated"),
        ("whatsapp", "user"),
        ("twilio", "credentials"),
        ("github", "generated"),
        ("jira", "generated"),
        ("stripe", "user"),
        ("paypal", "user"),
        ("webhook", "generated"),
    ],
)
def test_signing_secret_sources(key: str, source: str) -> None:
    webhook = get_provider(key).spec.webhook
    assert webhook is not None and webhook.signing_secret_source == source


def test_webhook_contracts() -> None:
    assert get_provider("slack").spec.webhook.handshake == "url_verification"  # type: ignore[union-attr]
    assert get_provider("github").spec.webhook.event_id_source == "header:X-GitHub-Delivery"  # type: ignore[union-attr]


@pytest.mark.parametrize("key", list(providers()))
def test_every_webhook_contract_documents_its_setup(key: str) -> None:
    webhook = get_provider(key).spec.webhook
    assert webhook is not None and webhook.docs_url.startswith("https://")
    assert "{webhook_url}" in webhook.setup_instructions


@pytest.mark.parametrize("key", list(providers()))
def test_auto_registration_is_announced_as_a_capability(key: str) -> None:
    spec = get_provider(key).spec
    auto = spec.webhook is not None and spec.webhook.auto_register
    assert auto == ("auto_register_webhook" in spec.capabilities)


def test_streams_name_their_scopes_from_the_spec() -> None:
    for key, provider in providers().items():
        oauth = provider.spec.oauth
        known = set(oauth.default_scopes) | set(oauth.optional_scopes) if oauth else set()
        for stream in provider.spec.streams:
            assert set(stream.required_scopes) <= known, (key, stream.name)


# -- operator configuration -------------------------------------------------------------


def test_oauth_connector_without_app_credentials_is_not_configured() -> None:
    config = connector_config(get_provider("github").spec, env={})
    assert config.configured is False
    assert config.configured_reason == (
        "SWITCHBOARD_GITHUB_CLIENT_ID and SWITCHBOARD_GITHUB_CLIENT_SECRET are not set"
    )
    assert config.authorize_url == "https://github.com/login/oauth/authorize"
    assert config.api_base_url == "https://api.github.com"


def test_half_configured_names_the_missing_variable() -> None:
    env = {"SWITCHBOARD_GOOGLE_CALENDAR_CLIENT_ID": "123.apps.googleusercontent.com"}
    config = connector_config(get_provider("google_calendar").spec, env=env)
    assert config.configured is False
    assert config.configured_reason == "SWITCHBOARD_GOOGLE_CALENDAR_CLIENT_SECRET is not set"


def test_configured_with_overrides_and_secret_kept_out_of_repr() -> None:
    env = {
        "SWITCHBOARD_GITHUB_CLIENT_ID": "Iv1.8a61f9b3a7aba766",
        "SWITCHBOARD_GITHUB_CLIENT_SECRET": "super-secret-value-123",
        "SWITCHBOARD_GITHUB_AUTHORIZE_URL": "https://ghe.example.com/login/oauth/authorize",
        "SWITCHBOARD_GITHUB_TOKEN_URL": "https://ghe.example.com/login/oauth/access_token",
        "SWITCHBOARD_GITHUB_REVOKE_URL": "https://ghe.example.com/revoke",
        "SWITCHBOARD_GITHUB_API_BASE_URL": "https://ghe.example.com/api/v3",
    }
    config = connector_config(get_provider("github").spec, env=env)
    assert config.configured is True
    assert config.client_id == "Iv1.8a61f9b3a7aba766"
    assert config.client_secret == "super-secret-value-123"
    assert config.authorize_url == "https://ghe.example.com/login/oauth/authorize"
    assert config.token_url == "https://ghe.example.com/login/oauth/access_token"
    assert config.revoke_url == "https://ghe.example.com/revoke"
    assert config.api_base_url == "https://ghe.example.com/api/v3"
    assert "super-secret-value-123" not in repr(config)
    assert "super-secret-value-123" not in config.configured_reason


@pytest.mark.parametrize("key", list(providers()))
def test_only_consent_connectors_need_the_operators_app(key: str) -> None:
    """A connector is ready with no operator settings unless a person consents through the
    operator's OAuth app (authorization code); then the reason names what is missing."""
    spec = get_provider(key).spec
    consent = spec.oauth is not None and spec.oauth.grant_type == "authorization_code"
    config = connector_config(spec, env={})
    assert config.configured is not consent
    assert config.configured_reason
    if consent:
        assert f"SWITCHBOARD_{key.upper()}_CLIENT_ID" in config.configured_reason


def test_api_base_override_applies_to_api_key_connectors_too() -> None:
    env = {"SWITCHBOARD_STRIPE_API_BASE_URL": "http://127.0.0.1:12111"}
    assert connector_config(get_provider("stripe").spec, env=env).api_base_url == (
        "http://127.0.0.1:12111"
    )
