"""Retrieval quality at the article level: Recall@1/5/10 and MRR@10 over labelled questions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.errors import RejectedInput
from index.retrieve import Retriever

__all__ = ["LabelledQuery", "Metrics", "load_queries", "title_queries", "evaluate"]

CUTOFFS = (1, 5, 10)


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    gold_ids: frozenset[str]


@dataclass(frozen=True)
class Metrics:
    queries: int
    recall: dict[int, float]
    mrr10: float

    def row(self) -> str:
        return " ".join(f"R@{k}={self.recall[k]:.3f}" for k in CUTOFFS) + f" MRR@10={self.mrr10:.3f} (n={self.queries})"


def load_queries(path: Path) -> list[LabelledQuery]:
    """Lines of {"query", "gold_ids": [...]}; a bad line is an error naming it."""
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            queries.append(LabelledQuery(str(raw["query"]), frozenset(map(str, raw["gold_ids"]))))
        except (ValueError, KeyError, TypeError) as error:
            raise RejectedInput(str(path), f"needs {{\"query\", \"gold_ids\": [...]}} ({error})", number) from error
    return queries


def title_queries(retriever: Retriever) -> list[LabelledQuery]:
    """Self-supervised set for any corpus: each article's first Highlight (or title) finds that article."""
    rows = retriever.snapshot.query("SELECT id, title, highlights FROM articles ORDER BY seq")
    return [LabelledQuery((json.loads(r["highlights"]) or [r["title"]])[0], frozenset([r["id"]])) for r in rows]


def ranked_articles(retriever: Retriever, query: str, depth: int = 10) -> list[str]:
    """Articles in order of their best passage."""
    hits = retriever.search(query, k=depth * 3)
    return list(dict.fromkeys(h.citation.article_id for h in hits))[:depth]


def evaluate(retriever: Retriever, queries: Sequence[LabelledQuery]) -> Metrics:
    hits = {k: 0 for k in CUTOFFS}
    reciprocal = 0.0
    for q in queries:
        ranking = ranked_articles(retriever, q.query)
        first = next((i for i, a in enumerate(ranking) if a in q.gold_ids), None)
        for k in CUTOFFS:
            hits[k] += int(first is not None and first < k)
        reciprocal += 1.0 / (first + 1) if first is not None else 0.0
    n = max(1, len(queries))
    return Metrics(len(queries), {k: hits[k] / n for k in CUTOFFS}, reciprocal / n)


def mode_settings(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    table = {"dense": ("dense",), "bm25": ("lexical",), "hybrid": ("dense", "lexical")}
    return {n: table[n] for n in names}
