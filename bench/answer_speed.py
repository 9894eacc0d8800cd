"""The answer path's speed: warm `Engine.ask` (search, brief, story check) at 10k and 100k passages, and a
one-shot `briefbot ask` from a cold process, each beside baselines measured in the same run.

    .venv/bin/python bench/answer_speed.py                      # 10k and 100k (HNSW-SQ8), 5 runs
    .venv/bin/python bench/answer_speed.py --sizes 10000 --runs 3
    .venv/bin/python bench/answer_speed.py --data-dir /path/to/data   # also a real index (e.g. the news-QA corpus)

Corpora: bench/run.py's scale corpora (real Wikinews passage texts, replicated; synthetic-from-real vectors;
cached under bench/.cache/). Questions: 60 of the corpus's own titles (fixed seed), asked as "What happened:
<title>?", so every one is answered and the brief is built (the table says how many were).
Baselines, same questions, same run:
- search only: `Retriever.search`, what an answer cost before the brief existed;
- the brief as it was: ask plus embedding the question, every candidate sentence and the three passages
  (what index/brief.py did per question until it read only stored and lexical signals).
Every figure is the median over --runs runs of the per-run p50. Each question is embedded every time it is asked
(the engine's remembered question vectors are forgotten before each), as a reader's new question is.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.ann import sentence_vectors, split_queries  # noqa: E402
from bench.run import ANN_QUERIES, CACHE, build_scale_index, ensure_query_model, samples_index, wikinews_items  # noqa: E402
from index.answer import BRIEF_PASSAGES  # noqa: E402
from index.brief import candidate_sentences  # noqa: E402
from index.embed import RememberingEmbedder  # noqa: E402
from index.engine import Engine  # noqa: E402

QUESTIONS_PER_CORPUS = 60


def questions_for(engine: Engine) -> list[str]:
    """Questions the corpus answers: its own titles, a fixed sample."""
    titles = sorted({a.title for a in engine.latest(5000)})
    return [f"What happened: {t.rstrip('?!. ')}?" for t in random.Random(7).sample(titles, QUESTIONS_PER_CORPUS)]


def p50_ms(runs: int, questions: list[str], once: Callable[[str], object]) -> float:
    """Median over runs of the per-run p50, in ms, one call per question."""
    per_run = []
    for _ in range(runs):
        times = []
        for question in questions:
            started = time.perf_counter()
            once(question)
            times.append((time.perf_counter() - started) * 1000)
        per_run.append(float(np.percentile(times, 50)))
    return statistics.median(per_run)


def old_brief(engine: Engine) -> Callable[[str], object]:
    """Ask, then embed what the brief used to embed for every question."""

    def once(question: str) -> object:
        answer, _ = engine.ask(question)
        passages = [p.hit.chunk.text for p in answer.passages[:BRIEF_PASSAGES]]
        sentences = [s.text for s in candidate_sentences([p.hit.chunk for p in answer.passages])]
        return engine.query_embedder.embed([question, *sentences, *passages])  # several texts: never remembered

    return once


def bench_engine(data_dir: Path, runs: int) -> list[tuple[str, str]]:
    engine = Engine(data_dir)
    stats = engine.stats()
    questions = questions_for(engine)
    answered = sum(bool(engine.ask(q)[0].brief) for q in questions)  # also the warm-up
    embedder = engine.retriever.embedder
    assert isinstance(embedder, RememberingEmbedder)

    def fresh(call: Callable[[str], object]) -> Callable[[str], object]:
        return lambda question: (embedder.forget(), call(question))

    search = p50_ms(runs, questions, fresh(lambda q: engine.retriever.search(q, 3)))
    ask = p50_ms(runs, questions, fresh(engine.ask))
    before = p50_ms(runs, questions, fresh(old_brief(engine)))
    structure = engine.snapshot.manifest.vector_index
    label = f"{stats.passages:,} passages [{structure}]"
    return [(f"{label}: questions answered with a brief", f"{answered} / {len(questions)}"),
            (f"{label}: search only (before the brief)", f"{search:.1f} ms"),
            (f"{label}: Engine.ask with brief and story check", f"{ask:.1f} ms  ({ask / search:.2f}x search)"),
            (f"{label}: the brief as it was (ask + embedding its sentences)", f"{before:.1f} ms  ({before / ask:.1f}x today)")]


def cold_start(data_dir: Path, runs: int) -> list[tuple[str, str]]:
    """One-shot `briefbot ask` wall time, beside a bare interpreter start."""
    briefbot = [str(ROOT / ".venv" / "bin" / "briefbot"), "ask", "--data-dir", str(data_dir), "What happened with Geneva?"]
    bare = [sys.executable, "-c", "pass"]

    def wall(command: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
        return time.perf_counter() - started

    # Page cache warm and bytecode written, as for any command run twice (a sandbox that sets
    # PYTHONDONTWRITEBYTECODE would otherwise compile index/ and bot/ on every run: ~80 ms here).
    subprocess.run(briefbot, check=True, cwd=ROOT, capture_output=True,
                   env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
    ask = statistics.median(wall(briefbot) for _ in range(runs))
    python = statistics.median(wall(bare) for _ in range(runs))
    return [("one-shot `briefbot ask` (sample briefs), cold process", f"{ask:.2f} s  (bare python start {python:.2f} s)")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, action="append", default=[], help="also measure this index")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    samples = samples_index()
    rows = cold_start(samples, args.runs)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if sizes:
        items = wikinews_items()
        pool = split_queries(sentence_vectors()[1], ANN_QUERIES)[1]
        for size in sizes:
            data_dir = build_scale_index(size, items, pool)
            ensure_query_model(data_dir)
            rows += bench_engine(data_dir, args.runs)
    for data_dir in args.data_dir:
        rows += bench_engine(data_dir, args.runs)
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':{width}}  value   (median of {args.runs} runs, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f} at the end)")
    for name, value in rows:
        print(f"{name:{width}}  {value}")


if __name__ == "__main__":
    main()
