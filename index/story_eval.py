"""`briefbot eval --timeline FILE.jsonl`: how well story questions get their timelines (issue 19).

Each line: {"id", "query", "as_of", "gold": [{"id", "date"}], "near_miss": [ids]}. Per story and in
total (over briefs, not averaged over stories):

- coverage: gold briefs that got an entry;
- precision: entries on gold briefs;
- lookalikes: entries on near-miss briefs (another storm, a roundup that mentions X in passing);
- date order: entries oldest first, none published after the question's as-of date.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from index.engine import Engine

__all__ = ["StoryCase", "StoryScore", "StoryReport", "load_stories", "evaluate_stories"]


@dataclass(frozen=True)
class StoryCase:
    """One labelled story question."""

    id: str
    query: str
    as_of: date
    gold: frozenset[str]
    near_miss: frozenset[str]


@dataclass(frozen=True)
class StoryScore:
    """What one story question's timeline got right."""

    id: str
    entries: int
    gold: int
    covered: int
    on_gold: int
    lookalikes: int
    in_order: bool

    def row(self) -> str:
        return (f"{self.id:16} entries {self.entries:3}  gold {self.gold:3}  covered {self.covered:3}  "
                f"on gold {self.on_gold:3}  lookalikes {self.lookalikes:2}  order {'ok' if self.in_order else 'WRONG'}")


@dataclass(frozen=True)
class StoryReport:
    """Totals over all stories."""

    scores: tuple[StoryScore, ...]

    @property
    def coverage(self) -> float:
        return _share(sum(s.covered for s in self.scores), sum(s.gold for s in self.scores))

    @property
    def precision(self) -> float:
        return _share(sum(s.on_gold for s in self.scores), sum(s.entries for s in self.scores))

    @property
    def lookalikes(self) -> float:
        return _share(sum(s.lookalikes for s in self.scores), sum(s.entries for s in self.scores))

    @property
    def in_order(self) -> bool:
        return all(s.in_order for s in self.scores)

    def row(self) -> str:
        return (f"stories {len(self.scores)}  coverage {self.coverage:.3f}  precision {self.precision:.3f}  "
                f"lookalikes {self.lookalikes:.3f}  date order {'always' if self.in_order else 'BROKEN'}")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def load_stories(path: Path) -> list[StoryCase]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            cases.append(StoryCase(str(raw["id"]), str(raw["query"]), date.fromisoformat(raw["as_of"]),
                                   frozenset(g["id"] for g in raw["gold"]), frozenset(raw.get("near_miss") or ())))
    return cases


def evaluate_stories(engine: Engine, cases: Sequence[StoryCase]) -> StoryReport:
    """Ask each story question as of its date and score every entry of its timeline (shown or not)."""
    scores = []
    for case in cases:
        answer, _ = engine.ask(case.query, as_of=case.as_of)
        entries = answer.timeline.entries if answer.timeline else ()
        ids = [e.citation.article_id for e in entries]
        dates = [e.published_at for e in entries]
        in_order = dates == sorted(dates) and all(d <= case.as_of for d in dates)
        scores.append(StoryScore(case.id, len(ids), len(case.gold), len(case.gold & set(ids)),
                                 sum(i in case.gold for i in ids), sum(i in case.near_miss for i in ids), in_order))
    return StoryReport(tuple(scores))
