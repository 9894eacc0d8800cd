"""Engine benchmark: one table of ingest throughput, query latency, recall, memory and cold start.

Usage: python bench/run.py [--sizes 1000,10000,100000,1000000] [--runs 3] [--build-only]   (or `make bench`)

Every figure is the median of --runs runs, and the fp32 PyTorch path is measured in the same run as
the baseline the ratios refer to (the CPU is shared, so absolute numbers drift; ratios hold).

Data:
- ingest: real Wikinews passages (../shared/corpora/wikinews, CC BY 2.5).
- scale corpora (1k … 1M passages): the real Wikinews passage texts, replicated (so BM25 sees
  realistic vocabularies and long posting lists), with bench/ann.py's synthetic-from-real vectors:
  each the normalised mean of 3–6 real sentence embeddings (no near-copies), cached under
  bench/.cache/ (git-ignored; the 1M corpus takes ~15 min to build once, mostly the HNSW graph).
- approximate-index recall: (a) REAL embeddings only — every distinct 6–80-word Wikinews sentence
  plus the real passage vectors, queried with held-out real sentences; (b) the scale corpora,
  queried with 300 held-out real sentences that appear in no synthetic passage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
QUESTIONS = [json.loads(line)["query"] for line in (ROOT / "tests" / "data" / "sample_questions.jsonl").open()]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

sys.path.insert(0, str(ROOT))
from bench.corpora import WIKINEWS  # noqa: E402
from bot.config import EngineConfig  # noqa: E402
from index.chunk import chunk_article  # noqa: E402
from index.embed import DEFAULT_MODEL_ID, load_embedder  # noqa: E402
from index.onnx_embed import load_exported_embedder  # noqa: E402
from index.ingest import embed_chunks, ingest_paths, upgrade  # noqa: E402
from index.parse import parse_file  # noqa: E402
from index.precision import BFLOAT16, FLOAT32, native_bf16  # noqa: E402
from index.records import Article  # noqa: E402
from index.retrieve import Retriever  # noqa: E402
from index.store import NewArticle, Snapshot, current_folder, write_generation  # noqa: E402
from index.vectors import HNSW, FaissHNSWIndex, load_index  # noqa: E402
from bench.ann import exact_top, sentence_vectors, split_queries, synthetic_passages  # noqa: E402

ANN_QUERIES = 300
MODEL_CACHE = EngineConfig.load().cache_dir  # the machine's export cache, as `briefbot` uses it


def median_of(runs: int, measure) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(measure() for _ in range(runs))


def wikinews_items() -> list[NewArticle]:
    articles = parse_file(WIKINEWS).articles
    return [NewArticle(a, a.id, tuple(chunk_article(a))) for a in articles]


def ingest_sample(items: list[NewArticle], passages: int = 256) -> list[NewArticle]:
    sample: list[NewArticle] = []
    for item in items:
        sample.append(item)
        if sum(len(i.chunks) for i in sample) >= passages:
            break
    return sample


# ---------------------------------------------------------------------------------------- ingest

def bench_embedding(embedder, sample: list[NewArticle], runs: int) -> float:  # type: ignore[no-untyped-def]
    """Passages/s of embedding real Wikinews passages (embedding is ~99% of ingest)."""
    n = sum(len(i.chunks) for i in sample)
    embed_chunks(sample[:2], embedder, None)  # warm-up

    def once() -> float:
        started = time.perf_counter()
        embed_chunks(sample, embedder, None)
        return n / (time.perf_counter() - started)

    return median_of(runs, once)


def bench_pipeline(embedder, sample: list[NewArticle], runs: int) -> float:  # type: ignore[no-untyped-def]
    """Passages/s of a whole `ingest` (read JSONL, parse, clean, chunk, embed, write the generation)."""
    source = CACHE / f"ingest-sample-{len(sample)}.jsonl"
    if not source.is_file():
        lines = [json.loads(line) for line in WIKINEWS.open()]
        wanted = {i.article.id for i in sample}
        source.write_text("".join(json.dumps(r) + "\n" for r in lines if r["id"] in wanted))
    n = sum(len(i.chunks) for i in sample)

    def once() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            report = ingest_paths(Path(tmp), [source], lambda: embedder, embedder.model_id)
            elapsed = time.perf_counter() - started
            assert report.chunks == n, (report.chunks, n)
        return n / elapsed

    return median_of(runs, once)


def cosine_stats(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    cos = np.sum(a * b, axis=1)
    return float(cos.min()), float(cos.mean())


# ---------------------------------------------------------------------------------- scale corpora

def base_vectors(embedder, items: list[NewArticle]) -> np.ndarray:  # type: ignore[no-untyped-def]
    path = CACHE / "wikinews-vectors.npy"
    if path.is_file():
        return np.load(path)
    vectors = embed_chunks(items, embedder, None)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def build_scale_index(size: int, items: list[NewArticle], pool: np.ndarray) -> Path:
    """A data dir of `size` passages: real Wikinews passage texts, replicated (BM25 sees real vocabularies
    and long posting lists), with bench/ann.py's synthetic-from-real vectors (each the normalised mean
    of 3–6 real sentence embeddings; no near-copies). Texts and vectors do not correspond: the corpus
    measures speed, memory and ANN recall, not answer quality."""
    target = CACHE / f"scale-{size}"
    if (target / "index" / "current").exists():
        upgrade(target, DEFAULT_MODEL_ID)  # a cache of an older index format: BM25 rebuilt, nothing re-embedded
        return target
    shutil.rmtree(target, ignore_errors=True)
    new, total, replica = [], 0, 0
    while total < size:
        for item in items:
            chunks = item.chunks[: size - total]
            if not chunks:
                break
            a = item.article
            copy = Article(f"{a.id}-r{replica}", f"{a.title} ({replica})", a.body, a.highlights, a.published_at,
                           a.source, a.author, a.url, a.path)
            new.append(NewArticle(copy, f"{a.id}-r{replica}", tuple(chunks)))
            total += len(chunks)
        replica += 1
    vectors = synthetic_passages(pool, size, ANN_QUERIES)
    write_generation(target, None, new, vectors, {}, DEFAULT_MODEL_ID, vectors.shape[1], BFLOAT16)
    return target


def ensure_query_model(data_dir: Path) -> None:
    """The ONNX export in the machine cache (as `ingest` would have made it)."""
    load_exported_embedder(data_dir, None, lambda: load_embedder(None, FLOAT32), cache_dir=MODEL_CACHE)


def bench_queries(embedder, data_dir: Path, runs: int) -> tuple[float, float, str]:  # type: ignore[no-untyped-def]
    """p50/p95 ms of Retriever.search (query embedding + FAISS + BM25 + fusion + SQLite)."""
    snapshot = Snapshot.open(data_dir, DEFAULT_MODEL_ID)
    retriever = Retriever(snapshot, embedder)
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
    structure = snapshot.manifest.vector_index
    snapshot.close()
    return statistics.median(p50s), statistics.median(p95s), structure


def embed_latency(embedder, runs: int) -> float:  # type: ignore[no-untyped-def]
    """ms to embed one question."""
    embedder.embed([QUESTIONS[0]])

    def once() -> float:
        times = []
        for q in QUESTIONS:
            started = time.perf_counter()
            embedder.embed([q])
            times.append((time.perf_counter() - started) * 1000)
        return float(np.median(times))

    return median_of(runs, once)


# ----------------------------------------------------------------------------------------- recall

def recall_at(index, queries: np.ndarray, truth: np.ndarray, k: int = 10) -> float:  # type: ignore[no-untyped-def]
    found = 0
    for q, want in zip(queries, truth):
        found += len(set(index.search(q, k)[1].tolist()) & set(want.tolist()))
    return found / (k * len(queries))


def recall_real(sentences: np.ndarray, passages: np.ndarray, n_queries: int = 500) -> tuple[float, int]:
    """Recall@10 of the approximate structure vs exact, on real embeddings only (seeded hold-out)."""
    rng = np.random.default_rng(7)
    order = rng.permutation(len(sentences))
    queries, base = sentences[order[:n_queries]], np.vstack([sentences[order[n_queries:]], passages])
    index = FaissHNSWIndex(base.shape[1])
    index.add(base)
    return recall_at(index, queries, exact_top(base, queries)), len(base)


def recall_scale(data_dir: Path, queries: np.ndarray) -> float:
    """Recall@10 by id of the data dir's approximate index against exact search over its own vectors,
    queried with held-out real sentences (bench/ann.py measures more structures and settings)."""
    folder = current_folder(data_dir)
    index = load_index(folder, HNSW)
    truth = exact_top(index.source_vectors(folder), queries)
    return recall_at(index, queries, truth)


# ----------------------------------------------------------------------------- memory, cold start

MEMORY_PROBE = r"""
import json, sys, time
from pathlib import Path
def rss():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS:')).split()[1]) / 1024
sys.path.insert(0, sys.argv[2])
data_dir = Path(sys.argv[1])
import faiss, numpy
from index.store import Snapshot, current_folder, Manifest
from index.vectors import load_index
from index.lexical import LexicalIndex
folder = current_folder(data_dir)
manifest = Manifest.read(folder)
before = rss(); vectors = load_index(folder, manifest.vector_index); after_vectors = rss()
lexical = LexicalIndex.load(folder, manifest.count); after_lexical = rss()
del vectors, lexical
from index.engine import Engine
engine = Engine(data_dir)
engine.ask("What happened with Geneva?")
serving = rss()
torch_loaded = "torch" in sys.modules
engine.query_embedder.embed(["rare earth magnets"])  # the bot's alert topics use the same embedder
print(json.dumps({"vectors": after_vectors - before, "bm25": after_lexical - after_vectors, "engine": serving,
                  "engine_torch": torch_loaded, "with_topics": rss()}))
"""


def memory_probe(data_dir: Path) -> dict[str, float]:
    out = subprocess.run([PYTHON, "-c", MEMORY_PROBE, str(data_dir), str(ROOT)], check=True, cwd=ROOT,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_cold_start(data_dir: Path, runs: int, backend: str = "auto") -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "BRIEFBOT_EMBED_BACKEND": backend}

    def once() -> float:
        started = time.perf_counter()
        subprocess.run([str(ROOT / ".venv" / "bin" / "briefbot"), "ask", "--data-dir", str(data_dir), "What happened with Geneva?"],
                       check=True, cwd=ROOT, capture_output=True, env=env)
        return time.perf_counter() - started

    once()  # page cache warm, as for any command run twice
    return median_of(runs, once)


def samples_index() -> Path:
    data_dir = CACHE / "samples"
    if (data_dir / "index" / "current").exists():
        upgrade(data_dir, DEFAULT_MODEL_ID)
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
        subprocess.run([PYTHON, "-m", "bot.cli", "ingest", "--data-dir", str(data_dir), str(ROOT / "data" / "articles")],
                       check=True, cwd=ROOT, capture_output=True)
    return data_dir


# ------------------------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--build-only", action="store_true", help="only build the cached scale corpora")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    CACHE.mkdir(parents=True, exist_ok=True)
    items = wikinews_items()
    samples = samples_index()  # also makes the verified ONNX export every embedder below needs
    fp32 = load_embedder(None, FLOAT32)
    ingest_precision = BFLOAT16 if native_bf16() else FLOAT32
    ov_ingest = load_exported_embedder(samples, None, lambda: fp32, precision=ingest_precision,
                                       streams=os.cpu_count() or 1, cache_dir=MODEL_CACHE)
    vectors = base_vectors(ov_ingest, items)
    ann_queries, pool = split_queries(sentence_vectors()[1], ANN_QUERIES)
    if args.build_only:
        for size in sizes:
            started = time.perf_counter()
            build_scale_index(size, items, pool)
            print(f"scale-{size}: {time.perf_counter() - started:.0f} s", flush=True)
        return
    rows: list[tuple[str, str]] = []
    sample = ingest_sample(items)
    n = sum(len(i.chunks) for i in sample)
    torch_bf16 = load_embedder(None, BFLOAT16)
    onnx = load_exported_embedder(samples, None, lambda: fp32, cache_dir=MODEL_CACHE)  # questions: fp32, one stream
    ov32 = load_exported_embedder(samples, None, lambda: fp32, precision=FLOAT32, streams=os.cpu_count() or 1,
                                  cache_dir=MODEL_CACHE)
    texts = [f"{i.article.title}\n{c.text}" for i in sample for c in i.chunks]
    reference = fp32.embed(texts)

    embedders = [("PyTorch fp32 — BASELINE", fp32), ("PyTorch bf16 weights", torch_bf16),
                 ("OpenVINO fp32 (ONNX export)", ov32), (f"OpenVINO {ov_ingest.precision} (default ingest here)", ov_ingest)]
    speeds = {name: bench_embedding(embedder, sample, args.runs) for name, embedder in embedders}
    baseline = speeds[embedders[0][0]]
    rows.append(("CPU native bf16 (avx512_bf16/amx_bf16)", "yes" if native_bf16() else "no"))
    for name, embedder in embedders:
        ratio = "" if embedder is fp32 else f"  ({speeds[name] / baseline:.2f}x fp32)"
        cosine = "" if embedder is fp32 else "; cosine to fp32 min/mean %.4f / %.4f" % cosine_stats(embedder.embed(texts), reference)
        rows.append((f"embedding {n} Wikinews passages, {name}", f"{speeds[name]:.1f} passages/s{ratio}{cosine}"))
    p32 = bench_pipeline(fp32, sample, args.runs)
    pov = bench_pipeline(ov_ingest, sample, args.runs)
    rows += [
        ("whole ingest (parse+chunk+embed+write), PyTorch fp32 — BASELINE", f"{p32:.1f} passages/s"),
        ("whole ingest, default (OpenVINO, CPU-chosen precision)", f"{pov:.1f} passages/s  ({pov / p32:.2f}x fp32)"),
        ("one query embedding: PyTorch fp32 / OpenVINO fp32 (1 thread)", f"{embed_latency(fp32, args.runs):.1f} / {embed_latency(onnx, args.runs):.1f} ms"),
    ]
    del torch_bf16, ov32
    recall, base_n = recall_real(np.vstack([ann_queries, pool]), vectors)
    rows.append((f"HNSW-SQ8 recall@10 vs exact, real embeddings ({base_n:,} sentences+passages)", f"{recall:.3f}"))
    for size in sizes:
        data_dir = build_scale_index(size, items, pool)
        ensure_query_model(data_dir)
        p50, p95, structure = bench_queries(onnx, data_dir, args.runs)
        rows.append((f"query p50 / p95 at {size:,} passages [{structure}] (hybrid, ONNX query)", f"{p50:.1f} / {p95:.1f} ms"))
        if size == max(s for s in sizes if s <= 100_000):
            t50, t95, _ = bench_queries(fp32, data_dir, args.runs)
            rows.append(("  same with the PyTorch fp32 query embedding (baseline)", f"{t50:.1f} / {t95:.1f} ms"))
        if structure == HNSW:
            rows.append((f"  HNSW-SQ8 recall@10 vs exact at {size:,} ({ANN_QUERIES} held-out real sentences)",
                         f"{recall_scale(data_dir, ann_queries):.3f}"))
        if size >= 100_000:
            mem = memory_probe(data_dir)
            rows.append((f"  memory at {size:,}: vector index / BM25 (RSS increase on load)",
                         f"{mem['vectors']:.0f} / {mem['bm25']:.0f} MB"))
            rows.append((f"  RSS of engine after first query and an alert topic at {size:,} (torch imported: {mem['engine_torch']})",
                         f"{mem['engine']:.0f} MB; {mem['with_topics']:.0f} MB"))
    rows.append(("cold start `briefbot ask`, 2 sample briefs (wall)", f"{bench_cold_start(samples, args.runs):.2f} s"))
    if 10_000 in sizes:
        ten_k = CACHE / "scale-10000"
        rows.append(("cold start `briefbot ask`, 10k passages, ONNX query path (wall)", f"{bench_cold_start(ten_k, args.runs):.2f} s"))
        rows.append(("  same with BRIEFBOT_EMBED_BACKEND=torch (baseline)", f"{bench_cold_start(ten_k, args.runs, 'torch'):.2f} s"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':{width}}  value   (median of {args.runs} runs, {os.cpu_count()} CPUs)")
    for name, value in rows:
        print(f"{name:{width}}  {value}")


if __name__ == "__main__":
    main()
