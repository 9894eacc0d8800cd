"""Where a warm `briefbot ingest` spends its time: cProfile, summed into stages (issue 20).

Usage: python bench/ingest_profile.py [--passages 600]

The model (the cached export, BRIEFBOT_CACHE_DIR or the user cache; made first if missing) is loaded
before profiling and timed on its own. Ingest parses in a producer thread that cProfile does not see,
so parse/clean/chunk is profiled on its own first (same files, main thread); in the whole-ingest
profile the main thread's wait for the parser shows as "waiting for the parser". Data: the first
Wikinews articles (../shared/corpora/wikinews, CC BY 2.5); skips when absent.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# A warm ingest is profiled: a missing export is made and gated before it, not left to a background job.
os.environ.setdefault("BRIEFBOT_BACKGROUND_EXPORT", "false")

from bench.corpora import WIKINEWS  # noqa: E402
from bench.ingest_speed import sample_corpus  # noqa: E402
from bot.config import EngineConfig  # noqa: E402
from index.chunk import chunk_article  # noqa: E402
from index.parse import parse_file  # noqa: E402

Key = tuple[str, int, str]
# Stage → does this profiled function belong to it (file, line, name). Cumulative times: a stage's
# functions never call each other's, so their times add up.
STAGES: list[tuple[str, Callable[[Key], bool]]] = [
    ("parse + clean (parse_file)", lambda k: k[2] == "parse_file" and k[0].endswith("parse.py")),
    ("chunk (chunk_article)", lambda k: k[2] == "chunk_article"),
    ("embed (model)", lambda k: k[2] == "embed" and k[0].endswith(("onnx_embed.py", "embed.py"))),
    ("waiting for the parser", lambda k: k[2] == "get" and k[0].endswith("queue.py")),
    ("BM25 build + save", lambda k: k[2] in ("build", "save") and k[0].endswith("lexical.py")),
    ("FAISS add + save", lambda k: k[2] in ("add", "save") and k[0].endswith("vectors.py")),
    ("SQLite (copy, insert, close)", lambda k: k[2] in ("_copy_meta", "_drop", "_insert")
     or "sqlite3.Connection' objects>" in k[2] and "close" in k[2]),
    ("fsync + publish", lambda k: k[2] in ("_fsync_tree", "_point_current", "_remove_old_generations")),
]


def stage_seconds(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    return {name: sum(row[3] for key, row in stats.items() if belongs(key)) for name, belongs in STAGES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=600)
    args = parser.parse_args()
    if not WIKINEWS.is_file():
        print(f"skipped: the Wikinews corpus is not at {WIKINEWS} (set BRIEFBOT_SHARED_DIR)")
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        source = Path(tmp_name) / "articles.jsonl"
        texts = sample_corpus(args.passages, source)
        engine = EngineConfig.load().engine(Path(tmp_name) / "data")
        started = time.perf_counter()
        embedder = engine.embedder
        load = time.perf_counter() - started
        alone = cProfile.Profile()
        alone.runcall(lambda: [chunk_article(a) for a in parse_file(source).articles])
        parsing = stage_seconds(alone)
        whole = cProfile.Profile()
        started = time.perf_counter()
        whole.runcall(engine.ingest, [source])
        wall = time.perf_counter() - started
    stages = stage_seconds(whole)
    stages.update({k: parsing[k] for k in ("parse + clean (parse_file)", "chunk (chunk_article)")})
    print(f"{len(texts)} passages; ingest precision {getattr(embedder, 'precision', '?')}; "
          f"model load (cached export, compiled) {load:.2f} s, not in the table")
    print(f"{'stage':32} {'seconds':>8}")
    for name, seconds in stages.items():
        print(f"{name:32} {seconds:8.2f}")
    print(f"{'whole ingest (wall, profiled)':32} {wall:8.2f}   parse + chunk run beside embedding in a thread")


if __name__ == "__main__":
    main()
