"""What a spec makes the generic code do: recorded provider error answers classified by each
connector's error table, rate-limit waits from real header shapes, spec validation, credential
formats and the operator configuration scheme."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from backend.connectors.classify import MAX_WAIT, MESSAGE_LIMIT, classify_response
from backend.connectors.config import connector_config
from backend.connectors.registry import Provider, get_provider, providers
from backend.connectors.spec import (
    ConnectorSpec,
    ErrorRule,
    HealthCheck,
    SpecError,
    validate_spec,
)
from connectors.helpers import adapter_for

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_an_unknown_key_is_not_a_connector() -> None:
    with pytest.raises(KeyError):
        get_provider("myspace")


def test_only_self_hosted_editions_may_override_the_api_base() -> None:
    overridable = {k for k, p in providers().items() if p.spec.api_base_overridable}
    assert overridable == {"github", "jira"}


def test_validate_spec_ties_credential_fields_to_the_grant() -> None:
    paypal = get_provider("paypal").spec
    with pytest.raises(SpecError, match="client_credentials connectors need credential_fields"):
        validate_spec(msgspec.structs.replace(paypal, credential_fields=()))
    github = get_provider("github").spec
    with pytest.raises(SpecError, match="must not have credential_fields"):
        validate_spec(msgspec.structs.replace(github, credential_fields=paypal.credential_fields))


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


# -- recorded error answers, classified by each connector's table ---------------------------

CALLING = [key for key, p in providers().items() if p.spec.auth_type != "none"]


def _recorded(key: str) -> list[Path]:
    folder = FIXTURES / key / "errors"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


RECORDED = [(key, path) for key in providers() for path in _recorded(key)]


def _response(recorded: dict[str, Any]) -> httpx.Response:
    content = (
        recorded["text"].encode() if "text" in recorded else json.dumps(recorded["body"]).encode()
    )
    return httpx.Response(recorded["status"], headers=recorded["headers"], content=content)


@pytest.mark.parametrize("key", CALLING)
def test_every_connector_calling_an_api_has_recorded_errors(key: str) -> None:
    """Each connector brings documented error answers (tests/fixtures/<key>/errors/), at
    least one refusal of the credentials and one rate limit, each naming its source."""
    kinds = set()
    for path in _recorded(key):
        recorded = json.loads(path.read_text(encoding="utf-8"))
        assert recorded["source"].startswith("https://"), path.name
        kinds.add(recorded["kind"])
    assert {"auth_failed", "rate_limited"} <= kinds, key


@pytest.mark.parametrize(("key", "path"), RECORDED, ids=[f"{k}/{p.stem}" for k, p in RECORDED])
async def test_recorded_error_answer_is_classified(key: str, path: Path) -> None:
    recorded = json.loads(path.read_text(encoding="utf-8"))
    provider = get_provider(key)
    async with adapter_for(provider, provider.spec.api_base_url) as adapter:
        error = adapter.classify(_response(recorded))
    assert error is not None, "a documented error answer was taken for a success"
    assert (error.kind, error.message) == (recorded["kind"], recorded["message"])
    assert error.status_code == recorded["status"]
    if recorded["retry_after"] is None:
        assert error.retry_after is None
    else:
        assert error.retry_after == pytest.approx(recorded["retry_after"], abs=1)


@pytest.mark.parametrize(
    ("key", "body"),
    [
        ("slack", {"ok": True, "team": "Subarachnoid Workspace", "team_id": "T12345678"}),
        ("telegram", {"ok": True, "result": {"id": 123456789, "is_bot": True}}),
        ("whatsapp", {"display_phone_number": "+1 555-0100", "id": "106540352242922"}),
        ("github", {"login": "octocat", "message": "a field named message is not an error"}),
    ],
)
async def test_success_answers_are_not_errors(key: str, body: dict[str, Any]) -> None:
    """Rules that look at any status (Slack's and Telegram's ok: false, Graph's error codes)
    leave a successful answer alone."""
    provider = get_provider(key)
    async with adapter_for(provider, provider.spec.api_base_url) as adapter:
        assert adapter.classify(httpx.Response(200, json=body)) is None


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "permanent"),
        (401, "auth"),
        (403, "auth"),
        (404, "permanent"),
        (409, "permanent"),
        (422, "permanent"),
        (429, "rate_limit"),
        (500, "transient"),
        (502, "transient"),
        (503, "transient"),
    ],
)
def test_the_default_table(status: int, kind: str) -> None:
    spec = msgspec.structs.replace(get_provider("stripe").spec, errors=())
    failure = classify_response(spec, httpx.Response(status, text="<html>error</html>"))
    assert failure is not None and failure.kind == kind
    assert classify_response(spec, httpx.Response(204)) is None


def test_the_first_matching_rule_wins_over_the_default_table() -> None:
    spec = msgspec.structs.replace(
        get_provider("stripe").spec,
        errors=(
            ErrorRule(
                kind="transient",
                status=(409,),
                body_path="error.code",
                body_equals=("lock_timeout",),
            ),
            ErrorRule(kind="auth", status=(409,)),
        ),
    )
    lock = httpx.Response(409, json={"error": {"code": "lock_timeout", "message": "busy"}})
    other = httpx.Response(409, json={"error": {"code": "idempotency_error"}})
    assert classify_response(spec, lock).kind == "transient"  # type: ignore[union-attr]
    assert classify_response(spec, other).kind == "auth"  # type: ignore[union-attr]


# -- the message a failure carries ------------------------------------------------------------


async def test_the_message_never_carries_a_credential_a_url_or_control_characters() -> None:
    provider = get_provider("stripe")
    key = provider.simulator.sample_credentials["secret_key"]
    echoed = (
        f"Invalid API Key provided: {key}\r\nretry at https://api.stripe.com/v1?access_token="
        f"abc123 or client_secret=s3cr3tvalue\u202e\x00 now"
    )
    answer = httpx.Response(401, json={"error": {"message": echoed}})
    async with adapter_for(provider, provider.spec.api_base_url) as adapter:
        error = adapter.classify(answer)
    assert error is not None
    for leaked in (key, "abc123", "s3cr3tvalue", "http", "\r", "\n", "\x00", "\u202e"):
        assert leaked not in error.message
    assert error.message.startswith("the provider rejected the credentials: Invalid API Key")


async def test_the_message_is_bounded() -> None:
    provider = get_provider("twilio")
    answer = httpx.Response(400, json={"code": 21211, "message": "x" * 100_000})
    async with adapter_for(provider, provider.spec.api_base_url) as adapter:
        error = adapter.classify(answer)
    assert error is not None
    detail = error.message.removeprefix("the provider answered 400: ")
    assert len(detail) == MESSAGE_LIMIT and detail.endswith("…")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b"{" * 100_000,
        b'{"message": {"nested": "object"}}',
        b"\xff\xfe",
    ],
)
async def test_an_unreadable_error_body_still_classifies(content: bytes) -> None:
    provider = get_provider("github")
    async with adapter_for(provider, provider.spec.api_base_url) as adapter:
        error = adapter.classify(httpx.Response(502, content=content))
    assert error is not None
    assert (error.kind, error.message) == ("provider_down", "the provider answered 502")


# -- rate-limit waits from real header shapes -------------------------------------------------


async def _wait(key: str, status: int, headers: dict[str, str], body: Any = None) -> float | None:
    provider = get_provider(key)
    content = json.dumps(body if body is not None else {"message": "limited"}).encode()
    async with adapter_for(provider, provider.spec.api_base_url) as adapter:
        error = adapter.classify(httpx.Response(status, headers=headers, content=content))
    assert error is not None and error.kind == "rate_limited", error
    return error.retry_after


async def test_github_primary_limit_waits_until_the_epoch_reset() -> None:
    headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-used": "5000",
        "x-ratelimit-reset": str(int(time.time()) + 120),
        "x-ratelimit-resource": "core",
    }
    assert await _wait("github", 403, headers) == pytest.approx(120, abs=2)
    assert await _wait("github", 429, headers) == pytest.approx(120, abs=2)


async def test_github_reset_already_passed_means_no_wait() -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1377013266"}
    assert await _wait("github", 403, headers) == 0.0


async def test_github_reset_of_an_unspent_quota_is_not_a_wait() -> None:
    """A secondary limit with quota left: the hourly reset says nothing about it, so the
    documented minute applies."""
    headers = {"x-ratelimit-remaining": "4321", "x-ratelimit-reset": str(int(time.time()) + 3000)}
    body = {"message": "You have exceeded a secondary rate limit."}
    assert await _wait("github", 403, headers, body) == 60.0
    assert await _wait("github", 429, {}) == 60.0


async def test_jira_waits_for_retry_after_then_the_iso_reset() -> None:
    assert await _wait("jira", 429, {"Retry-After": "7", "X-RateLimit-Remaining": "0"}) == 7.0
    reset = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ")}
    # The documented shape has minute precision.
    assert 240 - 2 <= (await _wait("jira", 429, headers) or 0) <= 300


async def test_retry_after_as_an_http_date() -> None:
    when = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90), True)
    assert await _wait("stripe", 429, {"Retry-After": when}) == pytest.approx(90, abs=2)


async def test_telegram_waits_for_the_body_parameter() -> None:
    body = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 12",
        "parameters": {"retry_after": 12},
    }
    assert await _wait("telegram", 429, {}, body) == 12.0
    # Telegram's error_code, not the HTTP status, is what the table reads.
    assert await _wait("telegram", 400, {}, body) == 12.0


@pytest.mark.parametrize(
    ("value", "wait"),
    [("soon", None), ("inf", None), ("nan", None), ("-5", 0.0), ("1e12", MAX_WAIT), ("3", 3.0)],
)
async def test_a_nonsense_retry_after_is_ignored_or_bounded(value: str, wait: float | None) -> None:
    assert await _wait("slack", 429, {"Retry-After": value}) == wait


# -- the error table and health check are validated ------------------------------------------


def _with(**changes: Any) -> ConnectorSpec:
    return msgspec.structs.replace(get_provider("stripe").spec, **changes)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (ErrorRule(kind="auth"), "matches every answer"),
        (ErrorRule(kind="permanent", status=(200,)), "turns a success status into a failure"),
        (ErrorRule(kind="auth", body_equals=("x",)), "body_equals needs body_path"),
        (ErrorRule(kind="auth", status=(400,), header_equals="0"), "header_equals needs header"),
    ],
)
def test_an_error_rule_must_look_at_the_answer(rule: ErrorRule, problem: str) -> None:
    with pytest.raises(SpecError, match=problem):
        validate_spec(_with(errors=(rule,)))


def test_a_connector_calling_an_api_needs_a_health_check() -> None:
    with pytest.raises(SpecError, match="need a health check"):
        validate_spec(_with(health=None))
    validate_spec(_with(health=HealthCheck(path="/v1/balance")))


def _providers_with_health() -> list[Provider]:
    return [p for p in providers().values() if p.spec.health is not None]


def test_every_health_check_is_a_read() -> None:
    """A health check runs often and unattended: it must not change anything at the provider
    (Slack's auth.test is a POST that only reads)."""
    for provider in _providers_with_health():
        check = provider.spec.health
        assert check is not None
        assert check.method == "GET" or (provider.key, check.path) == ("slack", "auth.test")
