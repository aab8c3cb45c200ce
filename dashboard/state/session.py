"""Sign-in: the tenant API key lives only in this process, behind an opaque session id.

The browser keeps `sb_session` in localStorage: 32 random bytes that mean nothing outside this
process. The key itself sits in `SESSIONS`, a dict in server memory keyed by the SHA-256 of that
id, so it is never rendered, never in a URL or a cookie, never in Reflex state (which the disk
state manager would pickle), and a page reload stays signed in. Sessions end on sign-out, after
12 h idle, when the api answers 401, or when the dashboard process restarts (sign in again).
One dashboard process holds its own sessions; several behind a balancer need sticky sessions.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import reflex as rx

from dashboard.client import ApiError, SwitchboardClient

SESSION_IDLE_SECONDS = 12 * 3600
LOGIN_ROUTE = "/login"


@dataclass
class TenantSession:
    api_key: str
    tenant_id: str
    tenant_name: str
    key_prefix: str
    last_seen: float

    def __repr__(self) -> str:  # never print the key
        return f"TenantSession(tenant_id={self.tenant_id!r}, key_prefix={self.key_prefix!r})"


class SessionStore:
    """Session id → tenant session, in memory. Only digests of the ids are kept."""

    def __init__(self, idle_seconds: float = SESSION_IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, TenantSession] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _digest(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()

    def create(self, api_key: str, me: dict[str, str]) -> str:
        session_id = secrets.token_urlsafe(32)
        record = TenantSession(
            api_key=api_key,
            tenant_id=str(me.get("tenant_id", "")),
            tenant_name=str(me.get("tenant_name", "")),
            key_prefix=str(me.get("key_prefix", "")),
            last_seen=time.monotonic(),
        )
        with self._lock:
            self._sessions[self._digest(session_id)] = record
        return session_id

    def get(self, session_id: str) -> TenantSession | None:
        if not session_id:
            return None
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            record = self._sessions.get(self._digest(session_id))
            if record is not None:
                record.last_seen = now
            return record

    def drop(self, session_id: str) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(self._digest(session_id), None)

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()

    def __len__(self) -> int:
        return len(self._sessions)

    def _expire(self, now: float) -> None:
        stale = [d for d, r in self._sessions.items() if now - r.last_seen > self.idle_seconds]
        for digest in stale:
            del self._sessions[digest]


SESSIONS = SessionStore()

ClientFactory = Callable[[str | None], SwitchboardClient]
_client_factory: ClientFactory = SwitchboardClient


def set_client_factory(factory: ClientFactory) -> ClientFactory:
    """Swap how api clients are made (tests: an httpx.MockTransport); returns the old one."""
    global _client_factory
    previous, _client_factory = _client_factory, factory
    return previous


def make_client(api_key: str | None) -> SwitchboardClient:
    return _client_factory(api_key)


def _safe_next(path: str) -> str:
    """Only a local path may follow sign-in: never another site (open redirect)."""
    path = unquote(path or "")
    if not path.startswith("/") or path.startswith("//") or path.startswith(LOGIN_ROUTE):
        return "/"
    return path


class AuthState(rx.State):
    """The signed-in tenant; every page's state is a substate and inherits its helpers."""

    session_id: str = rx.LocalStorage("", name="sb_session")
    tenant_name: str = ""
    key_prefix: str = ""
    login_error: str = ""
    signing_in: bool = False

    @rx.var
    def signed_in(self) -> bool:
        return bool(self.tenant_name)

    # -- helpers for substates (underscore: not event handlers) ----------------------------

    def _session(self) -> TenantSession | None:
        record = SESSIONS.get(self.session_id)
        if record is None:
            self.tenant_name = ""
            self.key_prefix = ""
        else:
            self.tenant_name = record.tenant_name
            self.key_prefix = record.key_prefix
        return record

    def _api(self) -> SwitchboardClient | None:
        """A client for the signed-in tenant, or None (the caller sends the tab to /login)."""
        record = self._session()
        return None if record is None else make_client(record.api_key)

    def _to_login(self) -> rx.event.EventSpec:
        here = self.router.url.path if self.router.url else ""
        target = LOGIN_ROUTE
        if here and here != "/" and not here.startswith(LOGIN_ROUTE):
            target = f"{LOGIN_ROUTE}?next={here}"
        return rx.redirect(target, replace=True)

    def _forget_session(self) -> None:
        SESSIONS.drop(self.session_id)
        self.session_id = ""
        self.tenant_name = ""
        self.key_prefix = ""

    def _route_param(self, name: str) -> str:
        value = self.router._page.params.get(name, "")
        return value if isinstance(value, str) else ""

    def _query_param(self, name: str) -> str:
        return self.router.url.query_parameters.get(name, "") if self.router.url else ""

    # -- events ----------------------------------------------------------------------------

    @rx.event
    def check_signed_in(self):
        """on_load of /login: a tab that is already signed in goes on to the catalog."""
        self.login_error = ""
        if self._session() is not None:
            return rx.redirect(_safe_next(self._query_param("next")), replace=True)
        return None

    @rx.event
    async def sign_in(self, form_data: dict):
        """Validate the key with GET /api/me; keep it server-side only."""
        api_key = str(form_data.get("api_key", "")).strip()
        if not api_key:
            self.login_error = "Enter your tenant API key."
            return
        self.signing_in = True
        self.login_error = ""
        yield
        try:
            async with make_client(api_key) as api:
                me = await api.me()
        except ApiError as exc:
            self.signing_in = False
            if exc.unauthorized:
                self.login_error = "That API key was not accepted. Check it and try again."
            else:
                self.login_error = f"{exc.title}. {exc.detail}".strip()
            return
        SESSIONS.drop(self.session_id)
        self.session_id = SESSIONS.create(api_key, dict(me))
        self.tenant_name = str(me.get("tenant_name", ""))
        self.key_prefix = str(me.get("key_prefix", ""))
        self.signing_in = False
        yield rx.redirect(_safe_next(self._query_param("next")), replace=True)

    @rx.event
    def sign_out(self):
        self._forget_session()
        return rx.redirect(LOGIN_ROUTE, replace=True)


class ProblemMixin(rx.State, mixin=True):
    """What went wrong with the last api call on a page, and what is running now."""

    problem_title: str = ""
    problem_detail: str = ""
    busy: str = ""

    def _clear_problem(self) -> None:
        self.problem_title = ""
        self.problem_detail = ""

    def _show_problem(self, exc: ApiError) -> rx.event.EventSpec | None:
        """Show the problem; on 401 the key no longer works: sign out and go to /login."""
        if exc.unauthorized and isinstance(self, AuthState):
            self._forget_session()
            return self._to_login()
        self.problem_title = exc.title
        detail = exc.detail
        if exc.status == 429 and exc.retry_after:
            detail = f"{detail} Retry after {exc.retry_after} s.".strip()
        self.problem_detail = detail
        return None

    def _action_message(self, text: str) -> None:
        """Where a page says what its last action did; a page with such words names its field."""

    async def _api_action(
        self,
        name: str,
        call: Callable[[SwitchboardClient], Awaitable[Any]],
        *,
        failed: str = "",
        then: Callable[[], AsyncIterator[Any]] | None = None,
    ) -> AsyncIterator[Any]:
        """A person's action against the api: refused while another runs, `busy` is `name`
        while it runs (the page shows it), its failure in the api's words (after `failed`, when
        given); a 401 signs out and goes to /login.

        Yields state updates; `call` returns None, a message (`_action_message`), or an
        EventSpec (yielded); after a success, `then` (a reload with updates of its own) runs.
        """
        if self.busy:
            return
        api = self._api() if isinstance(self, AuthState) else None
        if api is None:
            if isinstance(self, AuthState):
                yield self._to_login()
            return
        self.busy = name
        self._clear_problem()
        self._action_message("")
        yield
        try:
            async with api:
                outcome = await call(api)
        except ApiError as exc:
            self.busy = ""
            yield self._show_problem(exc)
            if failed and self.problem_title:
                self.problem_title = f"{failed}: {self.problem_title}"
            return
        self.busy = ""
        if isinstance(outcome, str):
            self._action_message(outcome)
        elif outcome is not None:
            yield outcome
        if then is not None:
            async for update in then():
                yield update

    async def _api_load(
        self,
        call: Callable[[SwitchboardClient], Awaitable[None]],
        *,
        prepare: Callable[[], None] | None = None,
        note_missing: bool = False,
        then: Callable[[], AsyncIterator[Any]] | None = None,
    ) -> AsyncIterator[Any]:
        """A page's read of what it shows: `loading` (which the state declares) while it
        runs, the api's words on failure, /login on 401 or when signed out.

        `prepare` resets what the page shows once it is known to be signed in; `call` reads
        and applies the answers; with `note_missing`, a 404 sets the state's `missing`; after
        a success, `then` (further reads with updates of their own) runs.
        """
        api = self._api() if isinstance(self, AuthState) else None
        if api is None:
            if isinstance(self, AuthState):
                yield self._to_login()
            return
        if prepare is not None:
            prepare()
        self.loading = True
        self._clear_problem()
        yield
        try:
            async with api:
                await call(api)
        except ApiError as exc:
            self.loading = False
            if note_missing:
                self.missing = exc.status == 404
            yield self._show_problem(exc)
            return
        self.loading = False
        if then is not None:
            async for update in then():
                yield update

    @rx.event
    def dismiss_problem(self):
        self._clear_problem()
