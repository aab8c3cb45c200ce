"""OAuth fixtures: a local authorization server per test, and a connector pointed at it
through the operator's SWITCHBOARD_<KEY>_* variables (read at call time)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from oauth_server import AuthServer

CALLBACK = "https://hooks.example.test/api/connectors/oauth/callback"
SCOPES = {
    "github": "admin:repo_hook repo read:user read:org",
    "gmail": "https://www.googleapis.com/auth/gmail.readonly https://www.googleapis.com/auth/gmail.send",
    "jira": "read:jira-work read:jira-user manage:jira-webhook offline_access write:jira-work",
}


@pytest.fixture
def auth_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AuthServer]]:
    """Start an authorization server and point connector `key` at it."""
    stack = ExitStack()

    def start(key: str = "github", **options: Any) -> AuthServer:
        options.setdefault("scope", SCOPES.get(key, ""))
        server = stack.enter_context(
            AuthServer(
                client_id=f"{key}-client",
                client_secret=f"{key}-secret",
                redirect_uri=CALLBACK,
                **options,
            )
        )
        prefix = f"SWITCHBOARD_{key.upper()}_"
        monkeypatch.setenv(prefix + "CLIENT_ID", f"{key}-client")
        monkeypatch.setenv(prefix + "CLIENT_SECRET", f"{key}-secret")
        monkeypatch.setenv(prefix + "AUTHORIZE_URL", server.url + "/authorize")
        monkeypatch.setenv(prefix + "TOKEN_URL", server.url + "/token")
        monkeypatch.setenv(prefix + "REVOKE_URL", server.url + "/revoke")
        monkeypatch.setenv(prefix + "API_BASE_URL", server.url)
        return server

    with stack:
        yield start
