"""Reflex configuration for the Switchboard dashboard (a REST client of the api)."""

import os
import sys

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin


def _running_prod() -> bool:
    """Whether this process serves `reflex run --env prod` (one port for pages and backend).

    Reflex reads this file before it records the mode in REFLEX_ENV_MODE, so the command line
    is checked too; in prod both ports must be equal, in dev the backend needs its own port.
    """
    if os.environ.get("REFLEX_ENV_MODE", "").lower() == "prod":
        return True
    argv = sys.argv[1:]
    for index, arg in enumerate(argv):
        if arg == "--env=prod" or (arg == "--env" and argv[index + 1 : index + 2] == ["prod"]):
            return True
    return False


_frontend_port = int(os.environ.get("SWITCHBOARD_DASHBOARD_PORT", "3000"))
# The api owns 8000; the dev-mode Reflex backend must never take it.
_dev_backend_port = int(os.environ.get("SWITCHBOARD_DASHBOARD_BACKEND_PORT", "8001"))

config = rx.Config(
    app_name="dashboard",
    frontend_port=_frontend_port,
    backend_port=_frontend_port if _running_prod() else _dev_backend_port,
    telemetry_enabled=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    show_built_with_reflex=False,
    # State lives in process memory, never pickled under .states/: a one-time webhook signing
    # secret passes through it right after create/rotate.
    state_manager_mode="memory",
    # The sitemap is useless behind a sign-in; no plugin of ours reaches the network.
    disable_plugins=[SitemapPlugin],
)
