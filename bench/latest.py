"""Does "latest" put the newest brief about the subject first? (`tests/data/latest_questions.jsonl`)

    python bench/latest.py --news RTQA_DATA_DIR [-v] [--sweep] [--follow-up]

50 questions ("What's the latest on Hurricane Ian?", "Any news on Liz Truss?"…) on the 11 labelled stories of
`tests/data/stories_dev.jsonl`, each asked on a day one of its briefs came out (the newest brief about it is
that day's) and 6 asked on the corpus's last day, weeks after the story's last brief (a roundup that names the
subject in passing is newer then; for Artemis I, a roundup item reporting the launch's delay is the newest report).
Counted: the first passage is from the newest brief about the subject (`newest`), and it is about the subject at all
(`about`: the story's briefs to that day). `--sweep` measures `latest_recency_days` × `latest_reference_share`.
`--follow-up` asks each as a reader would after the story's own question: "What happened with Brittney Griner?",
then "any updates?" (or "anything new?", "what's the latest?", "any news?", "updates?", in turn).
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from bot.config import EngineConfig
from index.conversation import Conversation
from index.engine import Engine
from index.retrieve import RetrievalSettings

__all__ = ["main"]

STORIES = Path("tests/data/stories_dev.jsonl")
FOLLOW_UPS = ("any updates?", "anything new?", "what's the latest?", "any news?", "updates?")


@dataclass(frozen=True)
class LatestQuestion:
    """A "latest" question as of a day, the newest brief(s) about its subject then, all its briefs to then, and
    the questions asked before it (none, or its story's)."""

    query: str
    as_of: date
    newest: frozenset[str]
    newest_date: str
    about: frozenset[str]
    history: tuple[str, ...] = ()


@dataclass(frozen=True)
class LatestScore:
    """How many questions had the newest brief about the subject first, and any brief about it first."""

    newest_first: int
    about_first: int
    questions: int

    def __str__(self) -> str:
        return (f"newest brief first {self.newest_first} of {self.questions}, "
                f"a brief about the subject first {self.about_first} of {self.questions}")


def load(path: Path, follow_up: bool = False) -> list[LatestQuestion]:
    """The questions, or with `follow_up` each one's follow-up form, asked after its story's question."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    stories = {row["id"]: row["query"] for row in map(json.loads, STORIES.read_text(encoding="utf-8").splitlines())}
    return [LatestQuestion(FOLLOW_UPS[i % len(FOLLOW_UPS)] if follow_up else r["query"], date.fromisoformat(r["as_of"]),
                           frozenset(r["newest"]), r["newest_date"], frozenset(r["about"]),
                           (stories[r["story"]],) if follow_up else ()) for i, r in enumerate(rows)]


def score(engine: Engine, questions: list[LatestQuestion], verbose: bool = False) -> LatestScore:
    newest = about = 0
    for question in questions:
        conversation = Conversation()
        for earlier in question.history:
            engine.converse(conversation, earlier, as_of=question.as_of)
        answer, _ = engine.ask(question.query, conversation=conversation, as_of=question.as_of)
        first = answer.passages[0].hit.citation if answer.passages else None
        article = first.article_id if first else None
        newest += article in question.newest
        about += article in question.about
        if verbose:
            mark = "ok " if article in question.newest else ("old" if article in question.about else "off")
            print(f"  {mark} newest {question.newest_date}, first {first.published_at if first else None}: "
                  f"{question.query} (as of {question.as_of})")
    return LatestScore(newest, about, len(questions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--news", type=Path, required=True, help="data dir of the news-QA corpus")
    parser.add_argument("--questions", type=Path, default=Path("tests/data/latest_questions.jsonl"))
    parser.add_argument("-v", "--verbose", action="store_true", help="print each question's first brief")
    parser.add_argument("--sweep", action="store_true", help="latest_recency_days × latest_reference_share")
    parser.add_argument("--follow-up", action="store_true", help='each asked as "any updates?" after its story')
    args = parser.parse_args()
    engine = EngineConfig.load().engine(args.news)
    questions = load(args.questions, args.follow_up)
    print(f"as configured: {score(engine, questions, args.verbose)}")
    if args.sweep:
        base = RetrievalSettings()
        for days, share in itertools.product((14.0, 7.0, 3.0, 1.5), (0.0, 0.6, 0.7, 0.8, 0.9)):
            settings = replace(base, latest_recency_days=days, latest_reference_share=share)
            print(f"latest_recency_days={days:g} latest_reference_share={share}: "
                  f"{score(engine.with_settings(settings), questions)}", flush=True)


if __name__ == "__main__":
    main()
