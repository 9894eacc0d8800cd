"""What removing (or replacing) one brief costs: a new generation without it, per vector structure.

Usage: .venv/bin/python bench/remove.py [--passages 100000] [--dimension 384]

The corpus is synthetic (seeded): one-passage briefs of distinct filler words with random unit vectors of
the real model's dimension, written straight into a generation (no model is loaded). It is timed as
`Engine.remove` runs it: copy the metadata without the brief, renumber the chunks, rebuild the vectors
from the stored ones (flat: its own rows; hnsw-sq8: the float16 copy, so the graph is built again),
rebuild BM25, fsync and swap. Prints one JSON line per structure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.ingest import remove_articles, restructure  # noqa: E402
from index.records import Article, Chunk  # noqa: E402
from index.store import NewArticle, write_generation, writer_lock  # noqa: E402
from index.vectors import FLAT, HNSW  # noqa: E402

MODEL = "bench-random"


def build(data_dir: Path, passages: int, dimension: int) -> None:
    """A flat generation of `passages` one-chunk briefs with random unit vectors."""
    rng = np.random.default_rng(passages)
    vectors = rng.normal(size=(passages, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    new = []
    for i in range(passages):
        text = f"Brief number {i} about lot{i % 997} and batch{i // 997} in market{i % 31}."
        article = Article(id=f"b{i}", title=f"Brief {i}", body=text)
        new.append(NewArticle(article, f"brief {i}", (Chunk(article.id, 0, text),)))
    with writer_lock(data_dir):
        write_generation(data_dir, None, new, vectors, {}, MODEL, dimension, structure=FLAT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=384)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        build(data_dir, args.passages, args.dimension)
        for structure, victim in ((FLAT, "b1"), (HNSW, "b2")):
            if structure == HNSW:
                started = time.perf_counter()
                restructure(data_dir, HNSW)
                built = time.perf_counter() - started
            started = time.perf_counter()
            removed = remove_articles(data_dir, [victim], MODEL)
            seconds = time.perf_counter() - started
            assert [a.id for a in removed] == [victim]
            row = {"structure": structure, "passages": args.passages, "remove_seconds": round(seconds, 1)}
            if structure == HNSW:
                row["first_build_seconds"] = round(built, 1)
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
