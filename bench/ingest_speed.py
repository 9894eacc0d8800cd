"""Whole `briefbot ingest` vs a plain sentence-transformers fp32 encode of the same passages (issue 20).

Usage: python bench/ingest_speed.py [--passages 600] [--runs 3]

Each run, in this order: the baseline (SentenceTransformer.encode, fp32, batch 32, on the passages ingest
would embed: title + chunk, model already loaded, encode time only), then the whole `briefbot ingest`
command (a fresh process: imports, model, parse, clean, chunk, embed, BM25, FAISS, SQLite) into a fresh
data dir with a COLD machine cache (an empty BRIEFBOT_CACHE_DIR), then with the WARM cache the cold run left.

"cold" is the command the user waits for: the float32 export and its verification against PyTorch are
in it. Where the CPU offers bf16/int8 candidates, their int8 quantisation and retrieval gate run AFTER the
command returns, in a detached process (BRIEFBOT_BACKGROUND_EXPORT=true, the default): the benchmark
waits for that job before the warm run (which then sees the gated cache, as a later command would) and
reports how long it took after the cold command ended, so nobody mistakes it for free. Speeds are words
of passage text per second; the ratios are medians of per-run ratios, so both sides of a ratio saw the
same load on this shared machine. Data: the first articles of ../shared/corpora/wikinews (CC BY 2.5);
skips when absent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.corpora import WIKINEWS  # noqa: E402
from index import background  # noqa: E402
from index.chunk import chunk_article  # noqa: E402
from index.ingest import embedding_text  # noqa: E402
from index.parse import parse_file  # noqa: E402
from index.precision import REPORTED_FLAGS, cpu_flags  # noqa: E402
from index.store import Snapshot  # noqa: E402

BRIEFBOT = str(Path(sys.executable).parent / "briefbot")


def sample_corpus(passages: int, target: Path) -> list[str]:
    """The first Wikinews articles holding about `passages` passages, written to `target`; their passage texts."""
    lines = WIKINEWS.read_text(encoding="utf-8").splitlines()
    kept: list[str] = []
    for line in lines:
        kept.append(line)
        target.write_text("\n".join(kept) + "\n", encoding="utf-8")
        if sum(len(chunk_article(a)) for a in parse_file(target).articles) >= passages:
            break
    return [embedding_text(a.title, c.text) for a in parse_file(target).articles for c in chunk_article(a)]


def baseline_seconds(texts: list[str]) -> float:
    """Seconds a plain sentence-transformers fp32 encode takes (model loaded and warmed up beforehand)."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    from index.embed import default_model_path

    transformers_logging.disable_progress_bar()
    model = SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
    model.encode(texts[:32], batch_size=32)
    started = time.perf_counter()
    model.encode(texts, batch_size=32)
    return time.perf_counter() - started


def ingest_seconds(source: Path, data_dir: Path, cache_dir: Path) -> tuple[float, str]:
    """Wall seconds of the whole `briefbot ingest` command, and the precision its manifest records."""
    env = {**os.environ, "BRIEFBOT_CACHE_DIR": str(cache_dir), "BRIEFBOT_PRECISION": "auto",
           "BRIEFBOT_EMBED_BACKEND": "auto", "BRIEFBOT_BACKGROUND_EXPORT": "true", "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run([BRIEFBOT, "ingest", "--data-dir", str(data_dir), str(source)], check=True, env=env, cwd=ROOT,
                   capture_output=True)
    elapsed = time.perf_counter() - started
    return elapsed, Snapshot.open(data_dir).manifest.precision


def background_seconds(cache_dir: Path) -> float:
    """Seconds the detached gate job (if the cold command started one) runs on after the command returned."""
    started = time.perf_counter()
    while background.running(cache_dir / "exports"):
        time.sleep(0.2)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not WIKINEWS.is_file():
        print(f"skipped: the Wikinews corpus is not at {WIKINEWS} (set BRIEFBOT_SHARED_DIR)")
        return
    flags = cpu_flags()
    print("CPU flags: " + ", ".join(f"{f} {'yes' if f in flags else 'no'}" for f in REPORTED_FLAGS)
          + f"; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        texts = sample_corpus(args.passages, tmp / "articles.jsonl")
        words = sum(len(t.split()) for t in texts)
        print(f"{len(texts)} passages, {words} words (title + passage, as embedded)", flush=True)
        rows: dict[str, list[float]] = {"baseline": [], "cold": [], "background": [], "warm": []}
        precisions = set()
        for run in range(args.runs):
            rows["baseline"].append(baseline_seconds(texts))
            cache = tmp / f"cache-{run}"
            for kind in ("cold", "warm"):
                seconds, precision = ingest_seconds(tmp / "articles.jsonl", tmp / f"data-{kind}-{run}", cache)
                rows[kind].append(seconds)
                precisions.add(f"{kind} {precision}")
                if kind == "cold":
                    rows["background"].append(background_seconds(cache))
            print(json.dumps({k: round(v[-1], 2) for k, v in rows.items()}), flush=True)
    print(f"ingest precision (manifest): {', '.join(sorted(precisions))}")
    print(f"background gate after the cold command (not waited for by the user): median "
          f"{statistics.median(rows['background']):.1f} s (runs: {', '.join(f'{s:.1f}' for s in rows['background'])}; "
          f"0 = no bf16/int8 candidate on this CPU, nothing started)")
    print(f"{'measure':48} {'words/s':>8} {'× fp32 encode':>14}   (median of {args.runs} runs)")
    for kind, label in (("baseline", "sentence-transformers fp32 encode — BASELINE"),
                        ("cold", "whole `briefbot ingest`, cold machine cache"),
                        ("warm", "whole `briefbot ingest`, warm machine cache")):
        speed = statistics.median(words / s for s in rows[kind])
        ratio = statistics.median(b / s for b, s in zip(rows["baseline"], rows[kind]))
        print(f"{label:48} {speed:8.0f} {ratio:13.2f}×")


if __name__ == "__main__":
    main()
