"""Measure the story-membership threshold on the labelled stories (issue 19).

    python bench/tune_timeline.py --data-dir RTQA_DATA_DIR [--stories tests/data/stories_dev.jsonl]

Scores every candidate brief of every story once (index.timeline.Storyteller.briefs), then reports
coverage, precision and lookalike share for each threshold and title weight of `StorySettings`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.config import EngineConfig
from index.story_eval import load_stories
from index.timeline import story_question

__all__ = ["main"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--stories", type=Path, default=Path("tests/data/stories_dev.jsonl"))
    args = parser.parse_args()
    engine = EngineConfig.load().engine(args.data_dir)
    teller = engine.storyteller
    scored = []
    for case in load_stories(args.stories):
        story = story_question(case.query)
        assert story is not None, case.query
        scored.append((case, teller.briefs(story.subject, case.as_of)))
    print("title_w  sim_w  threshold  coverage  precision  lookalikes")
    for title_weight in (0.25, 0.5, 1.0):
        for similarity_weight in (0.5, 1.0):
            for threshold in (0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4):
                gold = covered = entries = on_gold = lookalikes = 0
                for case, briefs in scored:
                    members = {b.citation.article_id for b in briefs
                               if title_weight * b.title_share + b.passage_share
                               + similarity_weight * b.best_similarity >= threshold}
                    gold += len(case.gold)
                    covered += len(case.gold & members)
                    entries += len(members)
                    on_gold += len(case.gold & members)
                    lookalikes += len(case.near_miss & members)
                print(f"{title_weight:7} {similarity_weight:6} {threshold:10} {covered / gold:9.3f} "
                      f"{on_gold / max(entries, 1):10.3f} {lookalikes / max(entries, 1):11.3f}")


if __name__ == "__main__":
    main()
