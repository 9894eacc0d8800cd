"""Measure what the ranking knobs do, so defaults are chosen on numbers (README: "Tuning").

1. Recency prior: Recall/MRR on labelled sets for several weights; the default is the largest
   weight that costs no measurable quality (it only reorders near-ties).
2. Relevance gate: best-passage cosine for answerable questions (gold in the index) against
   cross-corpus questions that cannot be answered (Wikinews titles asked of the rare-earth
   briefs and vice versa); the gate keeps answerable ones and rejects the others.

Usage: python bench/tune_retrieval.py SAMPLE_DATA_DIR WIKINEWS_DATA_DIR
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from index.embed import load_embedder
from index.evaluate import LabelledQuery, evaluate, load_queries, title_queries
from index.retrieve import RetrievalSettings, Retriever
from index.store import Snapshot

ROOT = Path(__file__).resolve().parent.parent


def best_cosines(retriever: Retriever, queries: list[str]) -> np.ndarray:
    vectors = retriever.embedder.embed(queries)
    return np.array([retriever.snapshot.vectors.search(v, 1)[0][0] for v in vectors])


def main(sample_dir: Path, wiki_dir: Path) -> None:
    embedder = load_embedder(None)
    sample = Retriever(Snapshot.open(sample_dir), embedder)
    wiki = Retriever(Snapshot.open(wiki_dir), embedder)
    sets: dict[str, tuple[Retriever, list[LabelledQuery]]] = {
        "samples (18 labelled)": (sample, load_queries(ROOT / "tests" / "data" / "sample_questions.jsonl")),
        "wikinews (title→article)": (wiki, title_queries(wiki)),
    }
    print("recency weight sweep (hybrid)")
    for weight in (0.0, 0.0002, 0.0005, 0.001, 0.004):
        cells = []
        for name, (base, queries) in sets.items():
            retriever = Retriever(base.snapshot, embedder, replace(RetrievalSettings(), recency_weight=weight))
            cells.append(f"{name}: {evaluate(retriever, queries).row()}")
        print(f"  w={weight:<6} " + " | ".join(cells))
    positives = np.concatenate([
        best_cosines(sample, [q.query for q in sets["samples (18 labelled)"][1]]),
        best_cosines(wiki, [q.query for q in sets["wikinews (title→article)"][1]])])
    negatives = np.concatenate([
        best_cosines(sample, [q.query for q in sets["wikinews (title→article)"][1]]),
        best_cosines(wiki, [q.query for q in sets["samples (18 labelled)"][1]])])
    print(f"\nbest-passage cosine: answerable n={len(positives)} p5={np.percentile(positives, 5):.3f} "
          f"median={np.median(positives):.3f}; unanswerable n={len(negatives)} p95={np.percentile(negatives, 95):.3f} "
          f"max={negatives.max():.3f}")
    labelled = best_cosines(sample, [q.query for q in sets["samples (18 labelled)"][1]])
    print(f"  labelled sample questions alone: min={labelled.min():.3f} p10={np.percentile(labelled, 10):.3f} "
          f"median={np.median(labelled):.3f}")
    for threshold in (0.2, 0.25, 0.3, 0.35, 0.4):
        print(f"  cosine gate {threshold:.2f}: answerable kept {np.mean(positives >= threshold):.3f}, "
              f"unanswerable rejected {np.mean(negatives < threshold):.3f}")
    gate_sweep(sets)




def gate_sweep(sets: dict[str, tuple[Retriever, list[LabelledQuery]]]) -> None:
    """The whole gate (cosine OR term coverage) as the engine applies it."""
    (sample, sample_q), (wiki, wiki_q) = sets.values()
    answerable = [(sample, q.query) for q in sample_q] + [(wiki, q.query) for q in wiki_q]
    unanswerable = [(sample, q.query) for q in wiki_q] + [(wiki, q.query) for q in sample_q]
    print("\nfull relevance gate (cosine OR coverage):")
    for similarity in (0.3, 0.35, 0.4):
        for coverage in (0.5, 0.67, 0.8):
            settings = replace(RetrievalSettings(), min_similarity=similarity, min_term_coverage=coverage)

            def answered(pairs: list[tuple[Retriever, str]]) -> float:
                return float(np.mean([bool(Retriever(r.snapshot, r.embedder, settings).search(q, 1)) for r, q in pairs]))

            labelled = answered([(sample, q.query) for q in sample_q])
            print(f"  cos>={similarity} or coverage>={coverage}: answerable kept {answered(answerable):.3f} "
                  f"(labelled {labelled:.3f}), unanswerable rejected {1 - answered(unanswerable):.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
