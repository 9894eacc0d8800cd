"""Engine benchmark: ingest throughput, hybrid query latency at 1k/10k/100k passages, memory, cold start.

Usage: python bench/run.py [--sizes 1000,10000,100000] [--runs 3]   (or `make bench`)

Scale corpora are built from the real Wikinews passages and their real all-MiniLM-L6-v2 vectors,
replicated with small noise (texts get a replica tag so BM25 sees distinct documents); this
keeps realistic score distributions without embedding 100k passages (≈1 h on 2 cores).
Every figure is the median of --runs runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
WIKINEWS = ROOT.parent / "shared" / "corpora" / "wikinews" / "articles.jsonl"
QUESTIONS = [json.loads(line)["query"] for line in (ROOT / "tests" / "data" / "sample_questions.jsonl").open()]

sys.path.insert(0, str(ROOT))
from index.embed import DEFAULT_MODEL_ID, load_embedder  # noqa: E402
from index.ingest import embed_chunks  # noqa: E402
from index.parse import parse_file  # noqa: E402
from index.chunk import chunk_article  # noqa: E402
from index.records import Article  # noqa: E402
from index.retrieve import Retriever  # noqa: E402
from index.store import NewArticle, Snapshot, write_generation  # noqa: E402


def median_of(runs: int, measure) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(measure() for _ in range(runs))


def wikinews_items() -> list[NewArticle]:
    articles = parse_file(WIKINEWS).articles
    return [NewArticle(a, a.id, tuple(chunk_article(a))) for a in articles]


def bench_ingest(embedder, items: list[NewArticle], runs: int) -> float:  # type: ignore[no-untyped-def]
    """Passages/s of embedding 256 real Wikinews passages (the cost of ingest; parsing is ~1%)."""
    sample: list[NewArticle] = []
    for item in items:
        sample.append(item)
        if sum(len(i.chunks) for i in sample) >= 256:
            break
    n = sum(len(i.chunks) for i in sample)

    def once() -> float:
        started = time.perf_counter()
        embed_chunks(sample, embedder, None)
        return n / (time.perf_counter() - started)

    return median_of(runs, once)


def base_vectors(embedder, items: list[NewArticle]) -> np.ndarray:  # type: ignore[no-untyped-def]
    path = CACHE / "wikinews-vectors.npy"
    if path.is_file():
        return np.load(path)
    vectors = embed_chunks(items, embedder, None)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def build_scale_index(size: int, items: list[NewArticle], vectors: np.ndarray) -> Path:
    """A data dir of `size` passages: real passages and vectors, replicated with noise."""
    target = CACHE / f"scale-{size}"
    if (target / "index" / "current").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    rng = np.random.default_rng(size)
    new, parts, total, replica = [], [], 0, 0
    while total < size:
        offset = 0
        for item in items:
            chunks = item.chunks[: size - total]
            if not chunks:
                break
            a = item.article
            copy = Article(f"{a.id}-r{replica}", f"{a.title} ({replica})", a.body, a.highlights, a.published_at,
                           a.source, a.author, a.url, a.path)
            new.append(NewArticle(copy, f"{a.id}-r{replica}", tuple(chunks)))
            block = vectors[offset: offset + len(chunks)] + rng.normal(0, 0.01, (len(chunks), vectors.shape[1]))
            parts.append(block / np.linalg.norm(block, axis=1, keepdims=True))
            offset += len(item.chunks)
            total += len(chunks)
        replica += 1
    write_generation(target, None, new, np.vstack(parts).astype(np.float32), {}, DEFAULT_MODEL_ID, vectors.shape[1])
    return target


def bench_queries(embedder, data_dir: Path, runs: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """p50/p95 ms of Retriever.search (query embedding + FAISS + BM25 + fusion + SQLite), and RSS MB."""
    retriever = Retriever(Snapshot.open(data_dir, DEFAULT_MODEL_ID), embedder)
    for q in QUESTIONS[:3]:
        retriever.search(q, 3)
    p50s, p95s = [], []
    for _ in range(runs):
        times = []
        for q in QUESTIONS * 6:
            started = time.perf_counter()
            retriever.search(q, 3)
            times.append((time.perf_counter() - started) * 1000)
        p50s.append(float(np.percentile(times, 50)))
        p95s.append(float(np.percentile(times, 95)))
    return statistics.median(p50s), statistics.median(p95s), current_rss_mb()


def current_rss_mb() -> float:
    """Resident memory now (not the peak, which the benchmark's own set-up dominates)."""
    status = Path("/proc/self/status").read_text()
    return int(next(l for l in status.splitlines() if l.startswith("VmRSS:")).split()[1]) / 1024


def bench_cold_start(runs: int) -> float:
    data_dir = CACHE / "samples"
    if not (data_dir / "index" / "current").exists():
        subprocess.run([sys.executable, "-m", "bot.cli", "ingest", "--data-dir", str(data_dir), str(ROOT / "data" / "articles")],
                       check=True, cwd=ROOT, capture_output=True)

    def once() -> float:
        started = time.perf_counter()
        subprocess.run([str(ROOT / ".venv" / "bin" / "briefbot"), "ask", "--data-dir", str(data_dir), "What happened with Geneva?"],
                       check=True, cwd=ROOT, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        return time.perf_counter() - started

    return median_of(runs, once)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    embedder = load_embedder(None)
    items = wikinews_items()
    rows = [("ingest: embedding throughput (256 Wikinews passages)", f"{bench_ingest(embedder, items, args.runs):.1f} passages/s")]
    vectors = base_vectors(embedder, items)
    for size in (int(s) for s in args.sizes.split(",")):
        p50, p95, rss = bench_queries(embedder, build_scale_index(size, items, vectors), args.runs)
        rows.append((f"query p50 / p95 at {size:,} passages (hybrid, incl. embedding)", f"{p50:.1f} / {p95:.1f} ms"))
        rows.append((f"process RSS while serving {size:,} passages (model + index)", f"{rss:.0f} MB"))
    rows.append(("cold start `briefbot ask` (2 sample briefs, wall)", f"{bench_cold_start(args.runs):.2f} s"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':{width}}  value   (median of {args.runs} runs, {os.cpu_count()} CPUs)")
    for name, value in rows:
        print(f"{name:{width}}  {value}")


if __name__ == "__main__":
    main()
