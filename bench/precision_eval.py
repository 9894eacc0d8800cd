"""`briefbot eval` for fp32 and bf16 ingest side by side (issue 5: the loss in Recall@10 must be <= 0.01).

Usage: python bench/precision_eval.py [--backend auto|torch]   (or `make eval-precision`)

For each precision, the two sample briefs and the Wikinews corpus (../shared/corpora/wikinews, CC BY 2.5)
are ingested into fresh data dirs with the real `briefbot ingest` (BRIEFBOT_PRECISION=fp32|bf16), then
`briefbot eval --compare` runs the 18 labelled sample questions and the Wikinews title set. Queries are
embedded the same way in both (float32), so the difference is the stored vectors only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpora import WIKINEWS  # noqa: E402

BRIEFBOT = str(ROOT / ".venv" / "bin" / "briefbot")
QUESTIONS = ROOT / "tests" / "data" / "sample_questions.jsonl"


def briefbot(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([BRIEFBOT, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout


def evaluate(precision: str, backend: str, workdir: Path) -> tuple[str, float]:
    """The eval tables for one precision, and the seconds its ingests took."""
    # The gate runs inside the first ingest, so each ingest runs in the precision it asks for (not float32
    # while a background gate is still running).
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "BRIEFBOT_PRECISION": precision, "BRIEFBOT_EMBED_BACKEND": backend,
           "BRIEFBOT_BACKGROUND_EXPORT": "false"}
    samples, wikinews = workdir / f"samples-{precision}", workdir / f"wikinews-{precision}"
    started = time.perf_counter()
    briefbot(env, "ingest", "--data-dir", str(samples), str(ROOT / "data" / "articles"))
    briefbot(env, "ingest", "--data-dir", str(wikinews), str(WIKINEWS))
    took = time.perf_counter() - started
    tables = [f"labelled sample questions ({precision}):",
              briefbot(env, "eval", "--data-dir", str(samples), str(QUESTIONS), "--compare"),
              f"Wikinews titles ({precision}):",
              briefbot(env, "eval", "--data-dir", str(wikinews), "--titles", "--compare")]
    return "\n".join(tables), took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="auto", choices=["auto", "openvino", "torch"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for precision in ("fp32", "bf16"):
            tables, took = evaluate(precision, args.backend, Path(tmp))
            print(f"{tables}(ingest of both corpora: {took:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
