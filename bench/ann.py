"""Approximate vector index benchmark: recall@10 against exact search, latency, build time, memory.

Usage: .venv/bin/python bench/ann.py [--sizes 100000,1000000] [--queries 300] [--runs 3] [--hnsw 24:80,32:160] [--no-ivf]

Data (synthetic-from-real; everything seeded and cached under bench/.cache/, git-ignored):
- REAL sentence embeddings: every distinct 6–80-word sentence of the Wikinews articles
  (../shared/corpora/wikinews/articles.jsonl: bodies split on "\\n", then index.chunk.split_sentences),
  embedded with the real all-MiniLM-L6-v2 in bfloat16 (~11k sentences, a couple of minutes once;
  the same cache file bench/run.py uses).
- Queries: QUERIES (default 300) real sentences held out at random (seed 0); they appear in no passage.
- Passages: there are only ~11k real sentences, so a corpus of N passages is SYNTHETIC: passage i is
  the normalised mean of k_i (uniform in 3..6) distinct real sentence vectors drawn at random from the
  remaining sentences (seed = N). A real passage embedding is close to the normalised mean of its
  sentences' embeddings (mean pooling), so these vectors live on the real embedding manifold, but
  without the near-copy clusters of the old replicated-with-noise corpus (no two passages are the same
  set of sentences; at 1M each sentence is shared by ~400 passages, each time with 2–5 others).
  They are NOT real passages: real passages mix sentences of one article (topically coherent), these
  mix unrelated sentences, which concentrates the vectors more (harder for ANN search: many passages
  at similar similarity to a query), so the recall figures here are expected to be on the pessimistic side.
- Ground truth: exact inner-product search (IndexFlatIP, float32) on the same vectors.

Measured per structure (recall by id; latency = single-query search with faiss.omp_set_num_threads(1),
p50 over the queries, median of --runs runs; build with every core; memory = bytes of
faiss.serialize_index, which is what the serving process holds):
- flat       IndexFlatIP (exact; latency reference)
- sq8-flat   exhaustive 8-bit scalar quantisation (the ceiling any SQ8 structure can reach; recall only)
- hnsw-sq8   IndexHNSWSQ QT_8bit, M=24, efConstruction=80 (the structure briefbot used), several efSearch
- ivf-sq8    IVF<nlist>,SQ8 with a flat coarse quantiser, several nprobe
  (--hnsw M:efConstruction,... picks the HNSW configurations; default 24:80,32:160)
"filtered" columns: the same queries restricted to a contiguous 25% id range (a date filter: ids
follow ingestion order) through an IDSelectorBitmap built per query, with the search widened by
1/share (efSearch or nprobe ×4), as index/vectors.py does for filtered searches (--selector batch
measures the IDSelectorBatch it used before: building that hash set costs ~15 ms per query at 250k ids).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(ROOT))

from bench.corpora import WIKINEWS  # noqa: E402

import faiss  # noqa: E402

from index.chunk import split_sentences  # noqa: E402
from index.vectors import id_selector  # noqa: E402

K = 10
FILTER_SHARE = 0.25
CORES = os.cpu_count() or 1


# ------------------------------------------------------------------------------------------ data

def sentence_vectors() -> tuple[list[str], np.ndarray]:
    """Every distinct 6–80-word Wikinews sentence and its real embedding (cached; same as bench/run.py)."""
    vec_path, txt_path = CACHE / "wikinews-sentences.npy", CACHE / "wikinews-sentences.txt"
    if vec_path.is_file() and txt_path.is_file():
        return txt_path.read_text().split("\n"), np.load(vec_path)
    from index.embed import load_embedder

    texts, seen = [], set()
    for line in WIKINEWS.open():
        for paragraph in json.loads(line)["body"].split("\n"):
            for sentence in split_sentences(paragraph):
                if 6 <= len(sentence.split()) <= 80 and sentence not in seen:
                    seen.add(sentence)
                    texts.append(sentence)
    print(f"embedding {len(texts):,} real sentences (once) ...", flush=True)
    vectors = load_embedder(None, "bfloat16").embed(texts, batch_size=64)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(vec_path, vectors)
    txt_path.write_text("\n".join(texts))
    return texts, vectors


def split_queries(sentences: np.ndarray, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(0).permutation(len(sentences))
    return sentences[order[:n_queries]].astype(np.float32), sentences[order[n_queries:]].astype(np.float32)


def synthetic_passages(pool: np.ndarray, size: int, n_queries: int) -> np.ndarray:
    """`size` passages, each the normalised mean of 3–6 distinct real sentence vectors (seed = size; cached)."""
    path = CACHE / f"ann-passages-{size}-q{n_queries}-n{len(pool)}.npy"
    if path.is_file():
        return np.load(path)
    rng = np.random.default_rng(size)
    out = np.empty((size, pool.shape[1]), np.float32)
    for start in range(0, size, 50_000):
        n = min(50_000, size - start)
        ks = rng.integers(3, 7, n)
        picks = rng.integers(0, len(pool), (n, 6))
        while True:  # redraw rows whose first k picks are not distinct
            s = np.sort(np.where(np.arange(6) < ks[:, None], picks, -1 - np.arange(6)), axis=1)
            bad = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
            if not len(bad):
                break
            picks[bad] = rng.integers(0, len(pool), (len(bad), 6))
        mask = (np.arange(6) < ks[:, None]).astype(np.float32)
        block = np.einsum("nk,nkd->nd", mask, pool[picks])
        out[start:start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def filter_range(size: int) -> np.ndarray:
    start = int(size * 0.5)
    return np.arange(start, start + int(size * FILTER_SHARE), dtype=np.int64)


def exact_top(data: np.ndarray, queries: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    faiss.omp_set_num_threads(CORES)
    index = faiss.IndexFlatIP(data.shape[1])
    index.add(data)
    params = None if allowed is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
    return index.search(queries, K, params=params)[1]


# ------------------------------------------------------------------------------------ measuring

def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    return sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth)) / truth.size


def timed_search(index: faiss.Index, queries: np.ndarray, runs: int,
                 params_for: Callable[[], faiss.SearchParameters | None]) -> tuple[list[np.ndarray], float]:
    """Single-query searches on one thread: (ids per query, p50 ms as the median over runs)."""
    faiss.omp_set_num_threads(1)
    p50s, ids = [], []
    for _ in range(runs):
        times, ids = [], []
        for q in queries:
            t0 = time.perf_counter()
            params = params_for()  # building the selector is part of a real filtered query
            _, got = index.search(q.reshape(1, -1), K, params=params)
            times.append(time.perf_counter() - t0)
            ids.append(got[0][got[0] >= 0])
        p50s.append(statistics.median(times) * 1000)
    return ids, statistics.median(p50s)


def build(make: Callable[[], faiss.Index], data: np.ndarray, train: np.ndarray | None) -> tuple[faiss.Index, float, int]:
    faiss.omp_set_num_threads(CORES)
    t0 = time.perf_counter()
    index = make()
    if not index.is_trained:
        index.train(train if train is not None else data)
    index.add(data)
    seconds = time.perf_counter() - t0
    return index, seconds, int(faiss.serialize_index(index).size)


def ivf_nlist(size: int) -> int:
    """~4·sqrt(N) lists, a power of two: 1024 at 100k, 4096 at 1M."""
    return int(2 ** round(np.log2(4 * np.sqrt(size))))


def train_sample(data: np.ndarray, nlist: int) -> np.ndarray:
    n = min(len(data), 64 * nlist)
    return data[np.sort(np.random.default_rng(1).choice(len(data), n, replace=False))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hnsw", default="24:80,32:160", help="HNSW configurations M:efConstruction")
    parser.add_argument("--no-ivf", action="store_true", help="skip IVF-SQ8")
    parser.add_argument("--selector", choices=("bitmap", "batch"), default="bitmap")
    parser.add_argument("--ef", default="64,128,256,512")
    parser.add_argument("--nprobe", default="8,16,32,64,128")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    efs = [int(e) for e in args.ef.split(",")]
    nprobes = [int(p) for p in args.nprobe.split(",")]

    _, sentences = sentence_vectors()
    queries, pool = split_queries(sentences, args.queries)
    print(f"{len(sentences):,} real sentences: {len(queries)} held-out queries, {len(pool):,} to build passages from")
    rows: list[tuple] = []

    def row(n: int, name: str, param: str, secs: float | None, size: int | None, rec: float, p50: float | None,
            frec: float | None, fp50: float | None) -> None:
        cells = (f"{n:,}", name, param, "" if secs is None else f"{secs:.1f}", "" if size is None else f"{size / 2**20:.0f}",
                 f"{rec:.3f}", "" if p50 is None else f"{p50:.2f}", "" if frec is None else f"{frec:.3f}",
                 "" if fp50 is None else f"{fp50:.2f}")
        rows.append(cells)
        print("  " + " | ".join(cells), flush=True)

    for n in sizes:
        t0 = time.perf_counter()
        data = synthetic_passages(pool, n, args.queries)
        allowed = filter_range(n)
        truth, ftruth = exact_top(data, queries), exact_top(data, queries, allowed)
        sims = np.sort(data @ queries[:50].T, axis=0)[::-1]
        print(f"N={n:,}: corpus + ground truth in {time.perf_counter() - t0:.0f}s; query→passage cosine "
              f"top1 {np.median(sims[0]):.3f}, top10 {np.median(sims[9]):.3f}, median {np.median(sims[n // 2]):.3f}",
              flush=True)
        selector = (lambda: id_selector(allowed, n)) if args.selector == "bitmap" else \
            (lambda: faiss.IDSelectorBatch(allowed))
        sel = lambda: faiss.SearchParameters(sel=selector())  # noqa: E731

        flat, secs, size = build(lambda: faiss.IndexFlatIP(data.shape[1]), data, None)
        few = queries[: min(len(queries), 60 if n >= 500_000 else len(queries))]
        ids, p50 = timed_search(flat, few, 1 if n >= 500_000 else args.runs, lambda: None)
        fids, fp50 = timed_search(flat, few, 1, sel)
        row(n, "flat", "exact", secs, size, recall(ids, truth[: len(few)]), p50, recall(fids, ftruth[: len(few)]), fp50)
        del flat

        sq, secs, size = build(lambda: faiss.IndexScalarQuantizer(data.shape[1], faiss.ScalarQuantizer.QT_8bit,
                                                                  faiss.METRIC_INNER_PRODUCT), data, None)
        faiss.omp_set_num_threads(CORES)
        row(n, "sq8-flat", "exhaustive", secs, size, recall(list(sq.search(queries, K)[1]), truth), None, None, None)
        del sq

        hnsw_configs = [tuple(int(x) for x in c.split(":")) for c in args.hnsw.split(",") if c]
        for m, efc in hnsw_configs:
            def make_hnsw() -> faiss.Index:
                index = faiss.IndexHNSWSQ(data.shape[1], faiss.ScalarQuantizer.QT_8bit, m, faiss.METRIC_INNER_PRODUCT)
                index.hnsw.efConstruction = efc
                return index

            index, secs, size = build(make_hnsw, data, None)
            for ef in efs:
                index.hnsw.efSearch = ef
                ids, p50 = timed_search(index, queries, args.runs, lambda: faiss.SearchParametersHNSW(efSearch=ef))
                wide = int(min(4096, ef / FILTER_SHARE))
                fids, fp50 = timed_search(index, queries, 1, lambda: faiss.SearchParametersHNSW(
                    sel=selector(), efSearch=wide))
                row(n, f"hnsw-sq8 M={m} efC={efc}", f"ef={ef}", secs, size, recall(ids, truth), p50,
                    recall(fids, ftruth), fp50)
                secs = size = None
            del index

        if args.no_ivf:
            del data
            continue
        nlist = ivf_nlist(n)
        index, secs, size = build(lambda: faiss.index_factory(data.shape[1], f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT),
                                  data, train_sample(data, nlist))
        for nprobe in nprobes:
            ids, p50 = timed_search(index, queries, args.runs, lambda: faiss.SearchParametersIVF(nprobe=nprobe))
            wide = int(min(nlist, nprobe / FILTER_SHARE))
            fids, fp50 = timed_search(index, queries, 1, lambda: faiss.SearchParametersIVF(
                sel=selector(), nprobe=wide))
            row(n, f"ivf-sq8 nlist={nlist}", f"nprobe={nprobe}", secs, size, recall(ids, truth), p50,
                recall(fids, ftruth), fp50)
            secs = size = None
        del index, data

    header = ("passages", "structure", "search", "build s", "MB", "recall@10", "p50 ms", "filt. recall", "filt. p50")
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    print()
    print(f"recall@10 vs exact (IndexFlatIP) on synthetic-from-real passages, {len(queries)} held-out real-sentence "
          f"queries; p50 = single query, 1 thread, median of {args.runs} runs; build on {CORES} cores; "
          f"MB = serialised index; filtered = contiguous {FILTER_SHARE:.0%} id range")
    for cells in (header, *rows):
        print(" | ".join(str(c).ljust(w) for c, w in zip(cells, widths)))


if __name__ == "__main__":
    main()
