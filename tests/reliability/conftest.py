"""Reliability suite (issue 6): quick by default, full scale with BRIEFBOT_RELIABILITY=full (`make reliability`).

Every test records its figures with the `figures` fixture; they are printed in pytest's summary and, when
BRIEFBOT_RELIABILITY_REPORT names a file, written there as JSON (tests/reliability/RESULTS.md is made from it).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

FULL = os.environ.get("BRIEFBOT_RELIABILITY", "").lower() == "full"
MODE = "full" if FULL else "quick"
_FIGURES: list[dict[str, Any]] = []


def scale(quick: int | float, full: int | float) -> Any:
    """The quick size under `make test`, the full one under `make reliability`."""
    return full if FULL else quick


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.reliability)


class Figures:
    """Collects (figure, target, measured, command) rows for the report."""

    def __init__(self, test: str) -> None:
        self.test = test

    def add(self, figure: str, target: str, measured: Any, command: str = "", **extra: Any) -> None:
        _FIGURES.append({"test": self.test, "figure": figure, "target": target, "measured": measured,
                         "mode": MODE, "command": command, **extra})


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    return Figures(request.node.nodeid)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    terminalreporter.section(f"reliability figures ({MODE})")
    for row in _FIGURES:
        terminalreporter.write_line(f"{row['figure']}: {row['measured']}  (target {row['target']})")
    out = os.environ.get("BRIEFBOT_RELIABILITY_REPORT")
    if out:
        path = Path(out)
        old = json.loads(path.read_text()) if path.exists() else {}
        old[MODE] = {"at": time.strftime("%Y-%m-%d %H:%M:%S"), "figures": _FIGURES}
        path.write_text(json.dumps(old, indent=2, ensure_ascii=False, default=str))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]
