"""Which published API description each connector is checked against, and the test copy of it.

The documents in provider_apis/ are the providers' own (see its README). A test copy is
`prism_compat.py`'s Prism-ready copy (same meaning, loadable) plus the few documented
corrections below, each stating a fact of the real API that the document misses (with the
provider's page for it); none lets through a request the real API would refuse.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from backend.connectors.registry import providers

DOCUMENTS = Path(__file__).resolve().parent / "provider_apis"
_COMPAT = DOCUMENTS / "prism_compat.py"
_METHODS = ("get", "put", "post", "delete", "patch")

Document = dict[str, Any]
Patch = Callable[[Document], None]


def _operations(doc: Document) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in _METHODS
    ]


def _alias(operation: dict[str, Any], method: str) -> dict[str, Any]:
    """A copy of `operation` served by another method (operation ids stay unique)."""
    alias = copy.deepcopy(operation)
    if "operationId" in alias:
        alias["operationId"] += f"_{method}"
    return alias


def slack_token_by_bearer(doc: Document) -> None:
    """Slack's description requires a `token` header or query parameter on every method, but
    Slack takes the token as `Authorization: Bearer` as well (https://api.slack.com/web#authentication),
    which the description's `slackAuth` security requirement already asks for."""
    for _, _, op in _operations(doc):
        for parameter in op.get("parameters", []):
            if parameter.get("name") == "token":
                parameter["required"] = False


def slack_post_alias(doc: Document) -> None:
    """Slack's Web API takes every method by GET or POST (https://api.slack.com/web#basics);
    the description lists only one: serve each GET method by POST too."""
    for item in doc["paths"].values():
        if "get" in item and "post" not in item:
            item["post"] = _alias(item["get"], "post")


def slack_errors_at_200(doc: Document) -> None:
    """Slack reports errors as HTTP 200 with `{"ok": false, "error": ...}`
    (https://api.slack.com/web#evaluating_responses); the description puts that body under
    `default` only, so a 200 may carry either the success or the `default` error body."""
    for _, _, op in _operations(doc):
        responses = op.get("responses", {})
        ok = responses.get("200", {}).get("content", {}).get("application/json")
        error = responses.get("default", {}).get("content", {}).get("application/json")
        if ok and error and "schema" in ok and "schema" in error:
            ok["schema"] = {"anyOf": [ok["schema"], error["schema"]]}


def slack_common_errors(doc: Document) -> None:
    """The 2020 description lists each method's own errors; Slack documents more that any
    method may return: `ratelimited` with HTTP 429 (https://api.slack.com/apis/rate-limits),
    `internal_error` and `fatal_error` when Slack itself fails (the errors table of every
    method, e.g. https://api.slack.com/methods/api.test). They join each error enum."""
    for _, _, op in _operations(doc):
        error = op.get("responses", {}).get("default", {}).get("content", {})
        schema = error.get("application/json", {}).get("schema", {})
        enum = schema.get("properties", {}).get("error", {}).get("enum")
        if isinstance(enum, list):
            enum += [e for e in _SLACK_COMMON_ERRORS if e not in enum]


_SLACK_COMMON_ERRORS = ("ratelimited", "internal_error", "fatal_error")


def telegram_get_alias(doc: Document) -> None:
    """The Bot API takes GET and POST for every method (https://core.telegram.org/bots/api#making-requests);
    the community description lists POST only. Methods without parameters (getMe) are served
    by GET too; methods with a body stay POST-only (their GET form would use a query string)."""
    for item in doc["paths"].values():
        post = item.get("post")
        if post is not None and "requestBody" not in post and "get" not in item:
            item["get"] = _alias(post, "get")


def github_vendor_media_type(doc: Document) -> None:
    """GitHub asks clients to send `Accept: application/vnd.github+json`
    (https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api#media-types)
    and answers it with application/json; the description lists only application/json, so
    Prism would refuse to negotiate (406). Each JSON response is offered under both names."""
    responses = [r for _, _, op in _operations(doc) for r in op.get("responses", {}).values()]
    responses += doc.get("components", {}).get("responses", {}).values()
    for response in responses:
        content = response.get("content", {})
        if "application/json" in content:
            content.setdefault("application/vnd.github+json", content["application/json"])


@dataclass(frozen=True, slots=True)
class Description:
    """One connector's published API description and how requests map onto it."""

    document: str
    # prism_compat.py --server-path: the server URL's path (Telegram's /bot{token}) belongs
    # in every request path, which Prism only matches when it is part of the paths.
    server_path: bool = False
    patches: tuple[Patch, ...] = ()
    # A path prefix the real client sends that the description's server stands for.
    gateway: re.Pattern[str] | None = None
    gateway_reason: str = ""
    # Request paths no operation of any published document describes, with the reason;
    # Prism cannot answer them, so the adapter tests send them to the simulator instead.
    undescribed_paths: dict[str, str] = field(default_factory=dict)
    # Adapter calls whose requests go to an API no published document describes.
    undescribed_calls: dict[str, str] = field(default_factory=dict)


_GOOGLE_REVOKE = {
    "revoke": "goes to Google's OAuth server (https://oauth2.googleapis.com/revoke), which no "
    "Discovery document describes"
}

#: Connector key -> its description. Keys are checked against the registry by the tests.
DESCRIBED: dict[str, Description] = {
    "gmail": Description("google-gmail.json", undescribed_calls=_GOOGLE_REVOKE),
    "google_calendar": Description("google-calendar.json", undescribed_calls=_GOOGLE_REVOKE),
    "google_drive": Description("google-drive.json", undescribed_calls=_GOOGLE_REVOKE),
    "slack": Description(
        "slack.json",
        patches=(
            slack_token_by_bearer,
            slack_post_alias,
            slack_common_errors,
            slack_errors_at_200,
        ),
    ),
    "telegram": Description("telegram.json", server_path=True, patches=(telegram_get_alias,)),
    "whatsapp": Description("whatsapp.json"),
    "twilio": Description("twilio.json"),
    "github": Description("github.json", patches=(github_vendor_media_type,)),
    "jira": Description(
        "jira.json",
        gateway=re.compile(r"^/ex/jira/[^/]+(?=/)"),
        gateway_reason="OAuth 2.0 (3LO) apps call https://api.atlassian.com/ex/jira/{cloudid}"
        "/{api}, which Atlassian's gateway forwards to the site's https://{site}.atlassian.net"
        "/{api}; the description describes the site "
        "(https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/)",
    ),
    "stripe": Description("stripe.json"),
    "paypal": Description(
        "paypal.json",
        undescribed_paths={
            "/v1/oauth2/token": "PayPal's token endpoint is only a tokenUrl in its documents, "
            "never an operation (see provider_apis/README.md)"
        },
    ),
}


def _stated_reasons() -> dict[str, str]:
    """Connectors whose folder says why no description checks them (`NO_API_DESCRIPTION` in
    the folder's __init__.py), so a new folder states it there instead of in this file."""
    reasons = {}
    for key in providers():
        package = importlib.import_module(f"backend.connectors.providers.{key}")
        reason = getattr(package, "NO_API_DESCRIPTION", "")
        if reason:
            reasons[key] = reason
    return reasons


#: Connectors with no provider description to check them against, each with the reason.
WITHOUT_DESCRIPTION: dict[str, str] = _stated_reasons()


def write_test_copy(key: str, directory: Path) -> Path:
    """Write `key`'s test copy into `directory`: prism_compat.py's output plus the patches."""
    description = DESCRIBED[key]
    target = directory / f"{key}.json"
    flags = ["--server-path"] if description.server_path else []
    # The vendored script runs as the README says (its own process, no bytecode left behind).
    source = DOCUMENTS / description.document
    subprocess.run(
        [sys.executable, "-B", str(_COMPAT), *flags, str(source), str(target)],
        check=True,
        capture_output=True,
    )
    doc = json.loads(target.read_text(encoding="utf-8"))
    for patch in description.patches:
        patch(doc)
    target.write_text(json.dumps(doc), encoding="utf-8")
    return target


def through_gateway(key: str, url: httpx.URL) -> httpx.URL:
    """`url` with the gateway prefix the description's server stands for removed."""
    gateway = DESCRIBED[key].gateway
    if gateway is None:
        return url
    return url.copy_with(path=gateway.sub("", url.path, count=1))


def server_origin(doc: Document) -> str:
    """scheme://host of the document's first server (where a gateway request really lands)."""
    parts = urlsplit(doc["servers"][0]["url"])
    return f"{parts.scheme}://{parts.netloc}"


def undescribed_reason(key: str, url: httpx.URL) -> str | None:
    return DESCRIBED[key].undescribed_paths.get(url.path)
