"""Fit the brief's sentence weights on measurements, cross-validated over three question sets.

Each answerable question is asked as the bot asks it (as of its date); its brief candidates and their
signals (`index.brief.sentence_signals`) are computed once. A listwise model is fitted: per question, a
softmax over its candidate sentences, pushing weight onto the sentences that hold the editors' answer.
Five folds over the pooled questions give the held-out figures: how often the answer is in the brief,
and in its first sentence, per set. The weights printed last are fitted on everything and scaled so the
largest is 1 (the brief's assembly rules, `same_passage` and `near_copy`, are on that scale).

`--dense` adds the signals the brief used to embed every sentence for (cosine to the question, and to
the top passages) as two more columns, to show what they add under the same cross-validation.

Usage:
  python bench/tune_brief.py --set news RTQA_DIR ../rtqa-dev/queries_dev.jsonl \
      --set wikinews WIKI_DIR tests/data/wikinews_questions.jsonl \
      --set samples SAMPLES_DIR tests/data/sample_questions.jsonl [--dense]
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.answer import BRIEF_PASSAGES  # noqa: E402
from index.brief import (SIGNALS, BriefWeights, Sentence, candidate_sentences, choose_brief, is_open_question,
                         sentence_signals)  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import contains_answer, load_queries  # noqa: E402

FOLDS = 5


@dataclass(frozen=True)
class Case:
    """One answerable question: its brief candidates, their signals, and which hold the answer."""

    group: str
    question: str
    expected: str
    sentences: list[Sentence]
    signals: np.ndarray
    holds_answer: np.ndarray


def load_cases(group: str, data_dir: Path, queries_file: Path, dense: bool) -> list[Case]:
    engine = Engine(data_dir)
    cases = []
    for q in load_queries(queries_file):
        if not q.answer:
            continue
        answer, _ = engine.ask(q.query, BRIEF_PASSAGES, as_of=q.as_of)
        sentences = candidate_sentences([p.hit.chunk for p in answer.passages])
        signals = sentence_signals(answer.resolved_query, sentences, engine.snapshot.lexical.idf)
        if dense:
            signals = np.hstack([signals, _dense_signals(engine, answer.resolved_query, sentences,
                                                         [p.hit.chunk.text for p in answer.passages])])
        holds = np.array([contains_answer(s.text, q.answer) for s in sentences], bool)
        cases.append(Case(group, answer.resolved_query, q.answer, sentences, signals, holds))
    return cases


def _dense_signals(engine: Engine, question: str, sentences: list[Sentence], passages: list[str]) -> np.ndarray:
    """The retired dense signals: cosine to the question, and centrality among the top passages."""
    if not sentences:
        return np.zeros((0, 2), np.float32)
    vectors = engine.query_embedder.embed([question, *(s.text for s in sentences), *passages])
    own = vectors[1 : 1 + len(sentences)]
    central = (own @ vectors[1 + len(sentences) :].T).mean(axis=1)
    return np.stack([own @ vectors[0], central - central.mean()], axis=1)


def fit(cases: list[Case], l2: float = 0.003, steps: int = 400, rate: float = 0.5) -> np.ndarray:
    """Listwise softmax regression on the questions whose candidates hold the answer; max |w| = 1."""
    usable = [c for c in cases if c.holds_answer.any()]
    weights = np.zeros(usable[0].signals.shape[1])
    for _ in range(steps):
        gradient = l2 * weights
        for case in usable:
            scores = case.signals @ weights
            p = np.exp(scores - scores.max())
            p /= p.sum()
            target = p * case.holds_answer
            gradient += case.signals.T @ (p - target / target.sum()) / len(usable)
        weights -= rate * gradient
    return weights / np.abs(weights).max()


def reach(cases: list[Case], weights: np.ndarray, rules: BriefWeights = BriefWeights()) -> tuple[float, float]:
    """Shares of questions whose answer is in the brief, and in its first sentence."""
    in_brief = first = 0
    for case in cases:
        if not case.sentences:
            continue
        chosen = choose_brief(case.sentences, case.signals @ weights, rules, is_open_question(case.question))
        in_brief += any(contains_answer(s.text, case.expected) for s in chosen)
        first += contains_answer(chosen[0].text, case.expected)
    return in_brief / max(1, len(cases)), first / max(1, len(cases))


def cross_validate(cases: list[Case], groups: list[str]) -> dict[str, tuple[float, float]]:
    order = list(range(len(cases)))
    random.Random(0).shuffle(order)
    held: dict[str, list[tuple[float, float]]] = {g: [] for g in groups}
    for k in range(FOLDS):
        test = set(order[k::FOLDS])
        weights = fit([c for i, c in enumerate(cases) if i not in test])
        for i in test:
            held[cases[i].group].append(reach([cases[i]], weights))
    return {g: (float(np.mean([b for b, _ in v])), float(np.mean([f for _, f in v]))) for g, v in held.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", nargs=3, action="append", metavar=("NAME", "DATA_DIR", "QUESTIONS"), required=True)
    parser.add_argument("--dense", action="store_true", help="also measure the retired dense sentence signals")
    args = parser.parse_args()
    groups = [name for name, _, _ in args.set]
    cases = [c for name, data_dir, queries in args.set for c in load_cases(name, Path(data_dir), Path(queries), args.dense)]
    current = BriefWeights().vector()
    if args.dense:
        current = np.concatenate([current, [0.0, 0.0]])
    print("set: in brief / in its first sentence")
    print("current weights:      ", _row({g: reach([c for c in cases if c.group == g], current) for g in groups}))
    print(f"{FOLDS}-fold held out:     ", _row(cross_validate(cases, groups)))
    fitted = fit(cases)
    print("fitted on all (seen): ", _row({g: reach([c for c in cases if c.group == g], fitted) for g in groups}))
    for same_passage in (0.1, 0.3, 0.5, 0.8):
        rules = replace(BriefWeights(), same_passage_open=same_passage)
        print(f"same_passage_open {same_passage}:", _row({g: reach([c for c in cases if c.group == g], fitted, rules)
                                                      for g in groups}))
    names = [*SIGNALS, *(("similarity", "centrality") if args.dense else ())]
    print("fitted weights:", ", ".join(f"{n}={w:.3f}" for n, w in zip(names, fitted)))
    if not args.dense:
        print("as BriefWeights:", replace(BriefWeights(), **{n: round(float(w), 3) for n, w in zip(names, fitted)
                                                             if n in {f.name for f in fields(BriefWeights)}}))


def _row(figures: dict[str, tuple[float, float]]) -> str:
    return " | ".join(f"{g} {b:.3f} / {f:.3f}" for g, (b, f) in figures.items())


if __name__ == "__main__":
    main()
