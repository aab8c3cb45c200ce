"""Live updates: one polling loop per (browser tab, page), run as a Reflex background task.

A page starts its loop from `on_mount` and stops it from `on_unmount`:

    @rx.event(background=True)
    async def start_live(self):
        await live.run_poll_loop(self, "integration-events", self._poll_once)

    @rx.event(background=True)
    async def stop_live(self):
        live.stop(self.router.session.client_token, "integration-events")

Both are background events on purpose: Reflex runs those in the order they arrive, while
ordinary events wait per tab behind a slow one; an ordinary stop queued behind a slow on_load
could run after the next page's start and stop that page's new loop.

After a click (client-side navigation) a page mounts before its on_load handler runs, so the
loop may start before the page knows what to poll: `tick` then returns True (wait) rather than
False (end), or the page never updates until a reload.

`run_poll_loop` calls `tick()` every `interval` seconds (1 s: a new webhook delivery shows
within 2 s) until the page unmounts, the tab disconnects, or `tick` returns False. A second
start for the same tab and page while a loop runs is refused (React StrictMode mounts twice in
dev), so a tab never polls twice. `tick` writes state itself, inside `async with state:`.

Reflex does not cancel a background task when its tab closes, so the loop also ends as soon as
the tab's client token no longer has a socket (checked each tick).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

POLL_INTERVAL_SECONDS = 1.0
# A tab whose socket dropped may come back (a reconnect after a network blip); only a tab
# gone for this long ends its loop.
DISCONNECT_GRACE_SECONDS = 5.0


@dataclass
class Lease:
    """The right to run one loop; `stop()` ends it at its next wait."""

    key: tuple[str, str]
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def active(self) -> bool:
        return not self.stopped.is_set()

    def stop(self) -> None:
        self.stopped.set()


_leases: dict[tuple[str, str], Lease] = {}


def acquire(token: str, name: str) -> Lease | None:
    """Take the loop slot for this tab and page; None when a loop already holds it."""
    key = (token, name)
    current = _leases.get(key)
    if current is not None and current.active:
        return None
    lease = Lease(key)
    _leases[key] = lease
    return lease


def release(lease: Lease) -> None:
    lease.stop()
    if _leases.get(lease.key) is lease:
        del _leases[lease.key]


def stop(token: str, name: str) -> bool:
    """Stop the tab's loop for this page; True when one was running."""
    lease = _leases.pop((token, name), None)
    if lease is None:
        return False
    lease.stop()
    return True


def is_running(token: str, name: str) -> bool:
    lease = _leases.get((token, name))
    return lease is not None and lease.active


def running_count() -> int:
    return sum(1 for lease in _leases.values() if lease.active)


def _socket_connected(token: str) -> bool:
    """Whether the tab behind `token` still has a socket on this process."""
    try:
        from reflex.utils.prerequisites import get_app

        namespace = get_app().app.event_namespace
    except Exception:  # no app (unit tests) or not mounted yet: assume connected
        return True
    if namespace is None:
        return True
    return token in namespace.token_to_sid


# Replaceable in tests.
client_connected: Callable[[str], bool] = _socket_connected


async def run_poll_loop(
    state: Any,
    name: str,
    tick: Callable[[], Awaitable[bool | None]],
    *,
    interval: float = POLL_INTERVAL_SECONDS,
    grace: float = DISCONNECT_GRACE_SECONDS,
) -> bool:
    """Run `tick` every `interval` s for the state's tab; False when a loop already ran."""
    token = state.router.session.client_token
    lease = acquire(token, name)
    if lease is None:
        return False
    gone_since: float | None = None
    loop = asyncio.get_running_loop()
    try:
        while lease.active:
            if client_connected(token):
                gone_since = None
            else:
                gone_since = gone_since if gone_since is not None else loop.time()
                if loop.time() - gone_since >= grace:
                    log.debug("live loop %s: tab disconnected, stopping", name)
                    break
            try:
                if await tick() is False:
                    break
            except Exception:
                # One failed poll must not kill the loop; tick reports api errors itself.
                log.exception("live loop %s: tick failed", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lease.stopped.wait(), timeout=interval)
    finally:
        release(lease)
    return True
