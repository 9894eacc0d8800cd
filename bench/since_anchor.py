"""Where "since X" starts: the day the engine's window opens for each question, against the days the event was
first reported (`tests/data/since_questions.jsonl`: 12 on the news-QA corpus, 8 on Wikinews, dated by hand).

    python bench/since_anchor.py --news RTQA_DATA_DIR --wikinews WIKINEWS_DATA_DIR [-v]

A question counts when its window opens within `starts` (first and last acceptable day).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from bot.config import EngineConfig

__all__ = ["main"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--news", type=Path, help="data dir of the news-QA corpus")
    parser.add_argument("--wikinews", type=Path, help="data dir of the Wikinews corpus")
    parser.add_argument("--questions", type=Path, default=Path("tests/data/since_questions.jsonl"))
    parser.add_argument("-v", "--verbose", action="store_true", help="print each question's window")
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    config = EngineConfig.load()
    for corpus, data_dir in (("news", args.news), ("wikinews", args.wikinews)):
        if data_dir is None:
            continue
        engine = config.engine(data_dir)
        mine = [q for q in questions if q["corpus"] == corpus]
        placed = 0
        for question in mine:
            _, turn = engine.ask(question["query"], as_of=date.fromisoformat(question["as_of"]))
            first, last = question["starts"]
            good = turn.published_from is not None and first <= turn.published_from <= last
            placed += good
            if args.verbose:
                print(f"  {'ok ' if good else 'off'} {turn.published_from} (expected {first}..{last}) {question['query']}")
        print(f"{corpus:9} windows opening on the event's first report: {placed} of {len(mine)}")


if __name__ == "__main__":
    main()
