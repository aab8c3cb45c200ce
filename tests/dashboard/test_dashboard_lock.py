"""The dashboard's venv holds exactly constraints/dashboard.txt (issue 10, item 14)."""

from __future__ import annotations

from tests.locked_versions import ROOT, installed_versions, locked_versions


def test_dashboard_venv_holds_exactly_the_locked_versions() -> None:
    assert installed_versions() == locked_versions(ROOT / "constraints" / "dashboard.txt")
