"""Choose the brief's sentence weights on measurements: how often the editors' answer reaches the
brief, and its first sentence, on the news-QA development split (each question asked as of its date).

The passages and sentence similarities are computed once per question; the sweep then re-scores.
Usage: python bench/tune_brief.py RTQA_DATA_DIR QUERIES_DEV.jsonl [SAMPLES_DATA_DIR SAMPLE_QUESTIONS.jsonl]
(the labelled sample questions are shown beside the news questions, not summed with them).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.answer import BRIEF_PASSAGES  # noqa: E402
from index.brief import (BriefWeights, Closeness, Sentence, candidate_sentences, choose_brief, closeness,  # noqa: E402
                         score_sentences)
from index.engine import Engine  # noqa: E402
from index.evaluate import contains_answer, load_queries  # noqa: E402


@dataclass(frozen=True)
class Case:
    """An answerable question, its brief candidates and their dense signals (None: no candidates)."""

    question: str
    expected: str
    sentences: list[Sentence]
    dense: Closeness | None


def load_cases(data_dir: Path, queries_file: Path) -> tuple[list[Case], Callable[[str], float]]:
    """Each answerable question's brief candidates and dense signals, computed once."""
    engine = Engine(data_dir)
    cases: list[Case] = []
    for q in load_queries(queries_file):
        if not q.answer:
            continue
        answer, _ = engine.ask(q.query, BRIEF_PASSAGES, as_of=q.as_of)
        chunks = [p.hit.chunk for p in answer.passages]
        sentences = candidate_sentences(chunks)
        dense = closeness(answer.resolved_query, sentences, [c.text for c in chunks], engine.query_embedder.embed) \
            if sentences else None
        cases.append(Case(answer.resolved_query, q.answer, sentences, dense))
    return cases, engine.snapshot.lexical.idf


def reach(cases: list[Case], idf: Callable[[str], float], weights: BriefWeights) -> tuple[float, float]:
    """Shares of questions whose answer is in the brief, and in its first sentence."""
    in_brief = first = 0
    for case in cases:
        if case.dense is None:
            continue
        scores = score_sentences(case.question, case.sentences, idf, case.dense, weights)
        chosen = choose_brief(case.sentences, scores, weights)
        in_brief += any(contains_answer(s.text, case.expected) for s in chosen)
        first += contains_answer(chosen[0].text, case.expected)
    return in_brief / len(cases), first / len(cases)


def main(data_dir: Path, queries_file: Path, samples: tuple[Path, Path] | None) -> None:
    news = load_cases(data_dir, queries_file)
    labelled = load_cases(*samples) if samples else None
    grid = {"answer_type": [0.2, 0.3], "overlap": [0.5, 0.65, 0.8], "centrality": [0.0, 0.25, 0.5, 0.75],
            "lede": [0.0, 0.1], "passage_rank": [0.12, 0.15], "same_passage": [0.05, 0.1]}
    rows = []
    for values in itertools.product(*grid.values()):
        weights = replace(BriefWeights(), **dict(zip(grid, values)))
        rows.append((reach(*news, weights), reach(*labelled, weights) if labelled else None, dict(zip(grid, values))))
    default = BriefWeights()
    print(f"{len(news[0])} news questions with answers; default {default}")
    print("news brief / first sentence | labelled samples brief / first sentence | weights")
    for (in_brief, first), sample, weights in sorted(rows, key=lambda r: sum(r[0]), reverse=True)[:15]:
        shown = f"{sample[0]:.3f} / {sample[1]:.3f}" if sample else "-"
        print(f"{in_brief:.3f} / {first:.3f} | {shown} | {weights}")
    for (in_brief, first), sample, weights in rows:
        if all(getattr(default, k) == v for k, v in weights.items()):
            shown = f"{sample[0]:.3f} / {sample[1]:.3f}" if sample else "-"
            print(f"DEFAULT: {in_brief:.3f} / {first:.3f} | {shown}")


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]]
    main(args[0], args[1], (args[2], args[3]) if len(args) == 4 else None)
