"""Strict typing is checked, not hoped for: mypy over index/ and bot/ with pyproject.toml's settings
(strict; it found a None t.me link that would have crashed the operator's report of a rejected post)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_index_and_bot_pass_mypy_strict() -> None:
    pytest.importorskip("mypy", reason="mypy comes with the [test] extra")
    checked = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT, capture_output=True,
                             text=True, timeout=900)
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-2000:]
