"""Counts of what the description-based contract tests checked, printed after the run.

A plugin registered on first use rather than a conftest hook, so the counts need nothing
from the directory's conftest.py (which serves the live-api contract tests).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

_NAME = "switchboard-description-counts"


class _DescriptionCounts:
    def __init__(self) -> None:
        self.counts: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.section("checked against the providers' API descriptions")
        for what, per_connector in self.counts.items():
            listed = ", ".join(f"{key} {n}" for key, n in sorted(per_connector.items()))
            terminalreporter.write_line(f"{what}: {sum(per_connector.values())} ({listed})")


def description_counts(config: pytest.Config) -> defaultdict[str, Counter[str]]:
    """What -> connector -> how many, for this run's terminal summary."""
    plugin = config.pluginmanager.get_plugin(_NAME)
    if plugin is None:
        plugin = _DescriptionCounts()
        config.pluginmanager.register(plugin, _NAME)
    assert isinstance(plugin, _DescriptionCounts)
    return plugin.counts
