"""A real, standards-compliant OAuth 2.0 authorization server for the tests (authlib's Flask
server), served over HTTP on 127.0.0.1 from a background thread.

    with AuthServer(client_id="cid", client_secret="sec", redirect_uri=...) as auth:
        auth.url                      # http://127.0.0.1:PORT
        auth.rotate = False           # refresh responses without a new refresh token
        auth.revoke_grants()          # every token of every user dies (password change, ...)
        auth.store.counts["token:refresh_token"]

Endpoints: GET /authorize (auto-consent; `deny=1` or `auth.deny = True` answers
access_denied), POST /token (authorization_code with PKCE S256 required, refresh_token),
POST /revoke (RFC 7009), and bearer-protected resources shaped like the providers' health
calls: GET /user (GitHub), GET /gmail/v1/users/me/profile (Gmail),
GET /oauth/token/accessible-resources and GET /ex/jira/<cloud>/rest/api/3/myself (Jira).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from types import TracebackType
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, jsonify, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from oauth_server.models import AuthorizationCode, Client, Store, Token, User

# The server speaks plain HTTP on loopback; authlib refuses http elsewhere.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


CLOUD_ID = "1324a887-45db-1bf4-1e99-ef0ff456d421"
USER = User("u-1", "octocat")


class AuthServer:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scope: str = "",
        rotate: bool = True,
        pkce_required: bool = True,
        access_ttl: int = 3600,
        token_delay: float = 0.0,
    ) -> None:
        self.store = Store()
        self.store.clients[client_id] = Client(client_id, client_secret, [redirect_uri], scope)
        self.client_id = client_id
        #: Issue a new refresh token on refresh and revoke the old one (rotation).
        self.rotate = rotate
        self.deny = False
        self.access_ttl = access_ttl
        #: Seconds each token request takes: widens race windows for concurrency tests.
        self.token_delay = token_delay
        #: Answer the next N token requests with 503 (a provider outage).
        self.fail_next = 0
        self.app = self._build_app(pkce_required)
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> AuthServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- knobs --------------------------------------------------------------------------
    def revoke_grants(self) -> None:
        """Every token dies, as when the user removes the app or changes the password."""
        with self.store.lock:
            for token in self.store.tokens:
                token.access_revoked = token.refresh_revoked = True

    def expire_access_tokens(self) -> None:
        """Access tokens stop working; refresh tokens still do (an expired access token)."""
        with self.store.lock:
            for token in self.store.tokens:
                token.access_revoked = True

    def live_refresh_tokens(self) -> list[str]:
        with self.store.lock:
            return [
                t.refresh_token
                for t in self.store.tokens
                if t.refresh_token and not t.refresh_revoked
            ]

    def all_tokens(self) -> list[str]:
        with self.store.lock:
            found = [t.access_token for t in self.store.tokens]
            found += [t.refresh_token for t in self.store.tokens if t.refresh_token]
            return found

    # -- the Flask app ------------------------------------------------------------------
    def _build_app(self, pkce_required: bool) -> Flask:
        owner = self
        store = self.store
        app = Flask("oauth_server")

        def query_client(client_id: str) -> Client | None:
            return store.clients.get(client_id)

        def save_token(token: dict[str, Any], req: Any) -> None:
            with store.lock:
                store.tokens.append(
                    Token(
                        client_id=req.client.get_client_id(),
                        user=req.user,
                        access_token=token["access_token"],
                        refresh_token=token.get("refresh_token"),
                        scope=token.get("scope", ""),
                        expires_in=int(token.get("expires_in", 0)),
                    )
                )

        server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
        server.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **kw: "at_" + secrets.token_urlsafe(24),
                refresh_token_generator=lambda **kw: "rt_" + secrets.token_urlsafe(24),
                expires_generator=lambda client, grant_type: owner.access_ttl,
            ),
        )

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code: str, req: Any) -> AuthorizationCode:
                item = AuthorizationCode(
                    code=code,
                    client_id=req.client.get_client_id(),
                    redirect_uri=req.payload.redirect_uri,
                    scope=req.payload.scope or "",
                    user=req.user,
                    code_challenge=req.payload.data.get("code_challenge"),
                    code_challenge_method=req.payload.data.get("code_challenge_method"),
                )
                with store.lock:
                    store.codes[code] = item
                return item

            def query_authorization_code(
                self, code: str, client: Client
            ) -> AuthorizationCode | None:
                item = store.codes.get(code)
                if item and item.client_id == client.get_client_id() and not item.is_expired():
                    return item
                return None

            def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
                with store.lock:
                    store.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
                return authorization_code.user

        class RefreshGrant(grants.RefreshTokenGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
                token = store.by_refresh(refresh_token)
                return token if token and not token.refresh_revoked else None

            def authenticate_user(self, refresh_token: Token) -> User:
                return refresh_token.user

            def issue_token(self, user: User, refresh_token: Token) -> dict[str, Any]:
                self.INCLUDE_NEW_REFRESH_TOKEN = owner.rotate
                return super().issue_token(user, refresh_token)  # type: ignore[no-any-return]

            def revoke_old_credential(self, refresh_token: Token) -> None:
                # A rotating server spends the refresh token (and its access token) on use.
                if owner.rotate:
                    with store.lock:
                        refresh_token.refresh_revoked = True
                        refresh_token.access_revoked = True
                # Without rotation the old refresh token simply stays valid (Google).

        class Revocation(RevocationEndpoint):
            CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
                return store.by_access(token_string) or store.by_refresh(token_string)

            def revoke_token(self, token: Token, req: Any) -> None:
                with store.lock:
                    token.access_revoked = token.refresh_revoked = True

        server.register_grant(CodeGrant, [CodeChallenge(required=pkce_required)])
        server.register_grant(RefreshGrant)
        server.register_endpoint(Revocation)

        class Validator(BearerTokenValidator):
            def authenticate_token(self, token_string: str) -> Token | None:
                return store.by_access(token_string)

        require_oauth = ResourceProtector()
        require_oauth.register_token_validator(Validator())

        @app.get("/authorize")
        def authorize() -> Any:
            with store.lock:
                store.counts["authorize"] += 1
            try:
                grant = server.get_consent_grant(end_user=USER)
            except OAuth2Error as error:
                return server.handle_error_response(request, error)
            denied = owner.deny or request.args.get("deny") == "1"
            return server.create_authorization_response(
                grant_user=None if denied else USER, grant=grant
            )

        @app.post("/token")
        def issue_token() -> Any:
            with store.lock:
                store.counts["token:" + str(request.form.get("grant_type"))] += 1
                failing = owner.fail_next > 0
                if failing:
                    owner.fail_next -= 1
            if failing:
                return jsonify(error="temporarily_unavailable"), 503
            if owner.token_delay:
                time.sleep(owner.token_delay)
            return server.create_token_response()

        @app.post("/revoke")
        def revoke() -> Any:
            with store.lock:
                store.counts["revoke"] += 1
            return server.create_endpoint_response(Revocation.ENDPOINT_NAME)

        @app.get("/user")
        @require_oauth()
        def github_user() -> Any:
            return jsonify(login=current_token.user.login, id=583231, type="User")

        @app.get("/gmail/v1/users/me/profile")
        @require_oauth()
        def gmail_profile() -> Any:
            return jsonify(
                emailAddress="octocat@example.com", messagesTotal=1, threadsTotal=1, historyId="1"
            )

        @app.get("/oauth/token/accessible-resources")
        @require_oauth()
        def accessible_resources() -> Any:
            return jsonify(
                [
                    {
                        "id": CLOUD_ID,
                        "url": "https://example.atlassian.net",
                        "name": "example",
                        "scopes": scope_list(current_token.scope),
                        "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
                    }
                ]
            )

        @app.get("/ex/jira/<cloud_id>/rest/api/3/myself")
        @require_oauth()
        def jira_myself(cloud_id: str) -> Any:
            if cloud_id != CLOUD_ID:
                return jsonify(errorMessages=["Site not found"]), 404
            return jsonify(
                accountId="5b10a2844c20165700ede21g", displayName="Octo Cat", active=True
            )

        return app


def scope_list(scope: str) -> list[str]:
    return [s for s in scope.split() if s]
