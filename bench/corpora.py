"""Where the benchmarks find the shared corpora: `../shared` beside the checkout, or BRIEFBOT_SHARED_DIR."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SHARED", "WIKINEWS"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BRIEFBOT_SHARED_DIR") or ROOT.parent / "shared")
WIKINEWS = SHARED / "corpora" / "wikinews" / "articles.jsonl"
