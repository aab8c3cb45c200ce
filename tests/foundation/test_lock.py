"""Builds are locked: .venv holds exactly constraints/backend.txt, the Makefile installs with it,
and the locked authlib imports without its httpx deprecation warning (issue 10, item 14)."""

from __future__ import annotations

import subprocess
import sys

from tests.locked_versions import ROOT, installed_versions, locked_versions

BACKEND_LOCK = ROOT / "constraints" / "backend.txt"
DASHBOARD_LOCK = ROOT / "constraints" / "dashboard.txt"


def test_backend_venv_holds_exactly_the_locked_versions() -> None:
    assert installed_versions() == locked_versions(BACKEND_LOCK)


def test_dashboard_lock_pins_reflex_and_its_redis() -> None:
    pins = locked_versions(DASHBOARD_LOCK)
    assert pins["reflex"] == "0.10.1"
    assert int(pins["redis"].split(".")[0]) >= 6  # why two environments exist


def _dry_run(target: str, changed: str) -> str:
    """What make would run for `target` if `changed` were newer than everything (-W)."""
    result = subprocess.run(
        ["make", "-n", "-W", changed, target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_backend_install_reruns_with_the_lock_when_the_lock_changes() -> None:
    plan = _dry_run(".venv/.installed", "constraints/backend.txt")
    assert "-c constraints/backend.txt --build-constraint constraints/backend.txt -e" in plan
    assert "pip check" in plan


def test_dashboard_install_reruns_with_the_lock_when_the_lock_changes() -> None:
    plan = _dry_run(".venv-dashboard/.installed", "constraints/dashboard.txt")
    assert "-c constraints/dashboard.txt --build-constraint constraints/dashboard.txt -e" in plan


def test_importing_the_oauth_clients_prints_no_warning() -> None:
    # authlib >= 1.8 forces its own warning filter to "always", so `-W error` would not catch
    # it: the only reliable check is that nothing at all reaches stderr.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import backend.oauth.client, backend.connectors.providers.paypal.adapter",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
