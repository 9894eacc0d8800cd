"""Choose the brief's sentence weights on measurements: how often the editors' answer reaches the
brief, and its first sentence, on the news-QA development split (each question asked as of its date).

The passages and sentence similarities are computed once per question; the sweep then re-scores.
Usage: python bench/tune_brief.py RTQA_DATA_DIR QUERIES_DEV.jsonl
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.answer import BRIEF_PASSAGES  # noqa: E402
from index.brief import BriefWeights, candidate_sentences, choose_brief, score_sentences  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import contains_answer, load_queries  # noqa: E402


def main(data_dir: Path, queries_file: Path) -> None:
    engine = Engine(data_dir)
    cases = []
    for q in load_queries(queries_file):
        if not q.answer:
            continue
        answer, _ = engine.ask(q.query, BRIEF_PASSAGES, as_of=q.as_of)
        sentences = candidate_sentences([p.hit.chunk.text for p in answer.passages])
        if not sentences:
            cases.append((answer.resolved_query, q.answer, [], np.empty(0)))
            continue
        vectors = engine.query_embedder.embed([answer.resolved_query, *(s.text for s in sentences)])
        cases.append((answer.resolved_query, q.answer, sentences, vectors[1:] @ vectors[0]))
    idf = engine.snapshot.lexical.idf
    grid = {"answer_type": [0.15, 0.3], "overlap": [0.5, 1.0], "similarity": [0.5, 1.0],
            "passage_rank": [0.0, 0.15], "position": [0.05], "same_passage": [0.0, 0.1], "max_words": [80, 90]}
    rows = []
    for values in itertools.product(*grid.values()):
        weights = replace(BriefWeights(), **dict(zip(grid, values)))
        in_brief = first = 0
        for question, expected, sentences, similarity in cases:
            if not sentences:
                continue
            chosen = choose_brief(sentences, score_sentences(question, sentences, idf, similarity, weights), weights)
            in_brief += any(contains_answer(s.text, expected) for s in chosen)
            first += contains_answer(chosen[0].text, expected)
        rows.append((in_brief / len(cases), first / len(cases), dict(zip(grid, values))))
    default = BriefWeights()
    print(f"{len(cases)} questions with answers; default {default}")
    for in_brief, first, weights in sorted(rows, key=lambda r: (r[0] + r[1]), reverse=True)[:15]:
        print(f"brief {in_brief:.3f} first {first:.3f} {weights}")
    for in_brief, first, weights in rows:
        if all(getattr(default, k) == v for k, v in weights.items()):
            print(f"DEFAULT: brief {in_brief:.3f} first {first:.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
