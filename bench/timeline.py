"""Latency of a story question answered with a timeline (issue 19 target: ≤ 100 ms p50 at 10k passages).

    python bench/timeline.py --data-dir RTQA_DATA_DIR [--stories tests/data/stories_dev.jsonl] [--repeat 5]

Times `Engine.ask` end to end (query embedding, retrieval, brief, membership, entries) for every
labelled story question as of its date, after one warm-up pass, and the timeline part alone.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bot.config import EngineConfig
from index.story_eval import load_stories

__all__ = ["main"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--stories", type=Path, default=Path("tests/data/stories_dev.jsonl"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    engine = EngineConfig.load().engine(args.data_dir)
    cases = load_stories(args.stories)
    for case in cases:  # warm-up: model load, first reads
        engine.ask(case.query, as_of=case.as_of)
    asks: list[float] = []
    stories: list[float] = []
    for _ in range(args.repeat):
        for case in cases:
            start = time.perf_counter()
            answer, _ = engine.ask(case.query, as_of=case.as_of)
            asks.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            engine.storyteller.timeline(case.query, case.as_of)
            stories.append((time.perf_counter() - start) * 1000)
    print(f"passages {engine.snapshot.manifest.count}  questions {len(asks)}")
    print(f"ask with timeline: p50 {statistics.median(asks):.1f} ms  p90 {_p90(asks):.1f} ms")
    print(f"timeline alone:    p50 {statistics.median(stories):.1f} ms  p90 {_p90(stories):.1f} ms")


def _p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


if __name__ == "__main__":
    main()
