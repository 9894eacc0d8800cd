"""Answer quality over labelled questions, asked through the engine as of each question's date:
article Recall@1/5/10, MRR@10, refusals, and how often the known answer reaches the reader."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from index.conversation import Conversation
from index.engine import Engine
from index.errors import RejectedInput
from index.records import Answer

__all__ = ["LabelledQuery", "Metrics", "AnswerReach", "load_queries", "title_queries", "evaluate", "contains_answer", "MODES"]

CUTOFFS = (1, 5, 10)
# What `--compare` sets side by side: the retrieval modes it switches between.
MODES = {"dense": ("dense",), "bm25": ("lexical",), "hybrid": ("dense", "lexical")}
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    gold_ids: frozenset[str]
    as_of: date | None = None
    answer: str | None = None
    # The conversation before the question (a follow-up: "what did he say?"), asked as the bot would.
    history: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metrics:
    queries: int
    recall: dict[int, float]
    mrr10: float
    refused: int
    # Over the lines that carry "answer" (None when none do): the share whose answer appears where
    # the reader meets it (see AnswerReach).
    answer: AnswerReach | None = None

    def row(self) -> str:
        text = " ".join(f"R@{k}={self.recall[k]:.3f}" for k in CUTOFFS) + f" MRR@10={self.mrr10:.3f}"
        text += f" refused={self.refused} (n={self.queries})"
        if self.answer is not None:
            a = self.answer
            text += (f"\n        answer in: brief {a.brief:.3f}, its 1st sentence {a.brief_first:.3f}; 1st key sentence "
                     f"{a.first_key:.3f}, top-3 key sentences {a.top3_keys:.3f}; top-3 passages {a.top3_passages:.3f} (ceiling)")
        return text


@dataclass(frozen=True)
class AnswerReach:
    """Shares of questions whose known answer appears in each part of the reply."""

    brief: float
    brief_first: float
    first_key: float
    top3_keys: float
    top3_passages: float


def load_queries(path: Path, corpus: str | None = None) -> list[LabelledQuery]:
    """Lines of {"query", "gold_ids": [...], "as_of"|"date"?, "answer"?, "history"?: [...], "corpus"?}; a bad line is
    an error naming it. With `corpus`, only the lines asked of it (a set may span corpora: the follow-up sets)."""
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if corpus is not None and raw.get("corpus") != corpus:
                continue
            when = raw.get("as_of") or raw.get("date")
            queries.append(LabelledQuery(str(raw["query"]), frozenset(map(str, raw["gold_ids"])),
                                         date.fromisoformat(when) if when else None, raw.get("answer"),
                                         tuple(map(str, raw.get("history") or ()))))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise RejectedInput(str(path), f"needs {{\"query\", \"gold_ids\": [...], \"as_of\": \"YYYY-MM-DD\"?}} ({error})",
                                number) from error
    return queries


def title_queries(engine: Engine) -> list[LabelledQuery]:
    """Self-supervised set for any corpus: each article's first Highlight (or title) finds that article."""
    rows = engine.snapshot.query("SELECT id, title, highlights FROM articles ORDER BY seq")
    return [LabelledQuery((json.loads(r["highlights"]) or [r["title"]])[0], frozenset([r["id"]])) for r in rows]


def contains_answer(text: str, answer: str) -> bool:
    """True when every word of the answer occurs in the text (case, accents and quotes ignored)."""
    words = set(_words(text))
    wanted = _words(answer)
    return bool(wanted) and all(w in words for w in wanted)


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    return _WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))


def evaluate(engine: Engine, queries: Sequence[LabelledQuery], depth: int = 10) -> Metrics:
    """Ask every question as `briefbot ask -k depth` would, as of its date, and score the articles cited."""
    hits = {k: 0 for k in CUTOFFS}
    reciprocal = 0.0
    refused = 0
    answered: list[tuple[bool, ...]] = []
    for q in queries:
        conversation = Conversation()
        for earlier in q.history:
            engine.converse(conversation, earlier, as_of=q.as_of)
        answer, _ = engine.ask(q.query, depth, conversation, q.as_of)
        refused += answer.no_answer
        ranking = list(dict.fromkeys(p.hit.citation.article_id for p in answer.passages))
        first = next((i for i, a in enumerate(ranking) if a in q.gold_ids), None)
        for k in CUTOFFS:
            hits[k] += int(first is not None and first < k)
        reciprocal += 1.0 / (first + 1) if first is not None and first < depth else 0.0
        if q.answer:
            answered.append(_answer_reach(answer, q.answer))
    n = max(1, len(queries))
    reach = AnswerReach(*(sum(a[i] for a in answered) / len(answered) for i in range(5))) if answered else None
    return Metrics(len(queries), {k: hits[k] / n for k in CUTOFFS}, reciprocal / n, refused, reach)


def _answer_reach(answer: Answer, expected: str) -> tuple[bool, ...]:
    """(in the brief, in its first sentence, in the first key sentence, in a top-3 key sentence, in a top-3 passage)."""
    top = answer.passages[:3]
    return (any(contains_answer(s.text, expected) for s in answer.brief),
            bool(answer.brief) and contains_answer(answer.brief[0].text, expected),
            bool(top) and contains_answer(top[0].highlight, expected),
            any(contains_answer(p.highlight, expected) for p in top),
            any(contains_answer(p.hit.chunk.text, expected) for p in top))
