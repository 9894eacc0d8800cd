"""Measure what the ranking knobs and the relevance gate do, so defaults are chosen on numbers.

Every question goes through the engine as `briefbot ask -k 10` would, as of its date:
- positives: the news-QA development split (RealTimeQA, built by ../shared/tools/build_rtqa_dev.py),
  the labelled sample questions, the Wikinews titles (asked as of the newest Wikinews article, the
  date that makes the recency prior work hardest against them);
- negatives (must be refused): the dev questions against the sample briefs, the labelled questions
  against the news corpus, and tests/data/offcorpus_questions.jsonl (everyday questions against
  both, near-topic ones against the corpus they nearly match).

Usage: python bench/tune_retrieval.py --rtqa RTQA_DATA_DIR QUERIES_DEV.jsonl --samples SAMPLES_DATA_DIR
                                      --wiki WIKINEWS_DATA_DIR [--sweep ranking|gate|both]
(each data dir built with `briefbot ingest --data-dir DIR ...`; the dev split is never committed)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.engine import Engine  # noqa: E402
from index.evaluate import LabelledQuery, evaluate, load_queries, title_queries  # noqa: E402
from index.retrieve import Gate, RetrievalSettings  # noqa: E402

OFF_CORPUS = ROOT / "tests" / "data" / "offcorpus_questions.jsonl"
LABELLED = ROOT / "tests" / "data" / "sample_questions.jsonl"
WIKINEWS_QUESTIONS = ROOT / "tests" / "data" / "wikinews_questions.jsonl"
# Answerable questions worded away from their briefs ("lumped together" for "alongside"); "corpus" says which.
PARAPHRASES = ROOT / "tests" / "data" / "paraphrase_questions.jsonl"
# What a reader types first: on the sample briefs ("Why did the truce fail?", "Who led the House delegation?"),
# and on Wikinews ("How strong did Humberto get?"), written after the gate changes those prompted.
READER = ROOT / "tests" / "data" / "reader_questions.jsonl"
READER_WIKINEWS = ROOT / "tests" / "data" / "reader_questions_wikinews.jsonl"
# The labelled questions are asked just after the newest sample brief, as the tests do.
SAMPLE_TODAY = date(2025, 9, 26)
# Near-topic news questions are asked at the end of the development weeks.
NEWS_TODAY = date(2022, 8, 12)


def positives(args: argparse.Namespace, engines: dict[str, Engine]) -> dict[str, tuple[Engine, list[LabelledQuery]]]:
    wiki = engines["wiki"]
    newest = date.fromisoformat(wiki.snapshot.query("SELECT MAX(published_at) FROM articles")[0][0])
    return {
        "news-QA dev": (engines["rtqa"], load_queries(Path(args.rtqa[1]))),
        "labelled": (engines["samples"], [replace(q, as_of=SAMPLE_TODAY) for q in load_queries(LABELLED)]),
        "Wikinews titles": (wiki, [replace(q, as_of=newest) for q in title_queries(wiki)]),
    }


def more_answerable(engines: dict[str, Engine]) -> dict[str, tuple[Engine, list[LabelledQuery]]]:
    """Answerable questions the gate is reported on besides `positives`: natural and paraphrased wording."""
    routed = [json.loads(line)["corpus"] for line in PARAPHRASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    paraphrases = load_queries(PARAPHRASES)
    return {
        "Wikinews questions": (engines["wiki"], load_queries(WIKINEWS_QUESTIONS)),
        "paraphrases (samples)": (engines["samples"], [q for q, c in zip(paraphrases, routed) if c == "samples"]),
        "paraphrases (Wikinews)": (engines["wiki"], [q for q, c in zip(paraphrases, routed) if c == "wikinews"]),
        "reader questions (samples)": (engines["samples"], load_queries(READER)),
        "reader questions (Wikinews)": (engines["wiki"], load_queries(READER_WIKINEWS)),
    }


def negatives(sets: dict[str, tuple[Engine, list[LabelledQuery]]], engines: dict[str, Engine]) -> dict[str, tuple[Engine, list[LabelledQuery]]]:
    off = [json.loads(line) for line in OFF_CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]

    def kind(name: str, when: date | None = None) -> list[LabelledQuery]:
        return [LabelledQuery(o["query"], frozenset(), when) for o in off if o["kind"] == name]

    return {
        "dev vs samples": (engines["samples"], [replace(q, as_of=None) for q in sets["news-QA dev"][1]]),
        "labelled vs news": (engines["rtqa"], [replace(q, as_of=None) for q in sets["labelled"][1]]),
        "everyday vs news": (engines["rtqa"], kind("everyday")),
        "everyday vs samples": (engines["samples"], kind("everyday")),
        "near-topic vs news": (engines["rtqa"], kind("near-news", NEWS_TODAY)),
        "near-topic vs samples": (engines["samples"], kind("near-briefs")),
    }


def sweep_ranking(sets: dict[str, tuple[Engine, list[LabelledQuery]]]) -> None:
    base = RetrievalSettings()
    variants = [("default", base)]
    variants += [(f"recency_boost={b}", replace(base, recency_boost=b)) for b in (0.0, 0.25, 0.5, 1.0, 1.5)]
    variants += [(f"recency_days={d:g}", replace(base, recency_days=d)) for d in (7.0, 30.0, 60.0)]
    variants += [(f"lexical_weight={w}", replace(base, lexical_weight=w)) for w in (0.3, 0.7)]
    variants += [(f"brief_evidence={e}", replace(base, brief_evidence=e)) for e in (0.0, 0.2)]
    variants += [(f"evidence_similarity={v}", replace(base, evidence_similarity=v)) for v in (0.0, 0.6, 0.8, 0.9)]
    variants += [(f"candidates={c}", replace(base, candidates=c)) for c in (50, 200)]
    variants += [(f"lede_boost={b}", replace(base, lede_boost=b)) for b in (0.0, 0.05, 0.2)]
    variants += [("passages_per_brief=2", replace(base, passages_per_brief=2))]
    print("| settings | " + " | ".join(f"{n} R@1 / MRR@10 / R@10" for n in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for label, settings in variants:
        cells = []
        for engine, queries in sets.values():
            m = evaluate(engine.with_settings(settings), queries)
            cells.append(f"{m.recall[1]:.3f} / {m.mrr10:.3f} / {m.recall[10]:.3f}")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


def sweep_gate(sets: dict[str, tuple[Engine, list[LabelledQuery]]], negative_sets: dict[str, tuple[Engine, list[LabelledQuery]]]) -> None:
    base = Gate()
    variants = [("default", base)]
    variants += [(f"close_match={v}", replace(base, close_match=v)) for v in (0.55, 0.65)]
    variants += [(f"partial_coverage_similarity={v}", replace(base, partial_coverage_similarity=v)) for v in (0.3, 0.4)]
    variants += [(f"partial_coverage={v}", replace(base, partial_coverage=v)) for v in (0.4, 0.6)]
    variants += [(f"long_question_similarity={v}", replace(base, long_question_similarity=v)) for v in (0.4, 0.5)]
    variants += [(f"rare_name_idf={v}", replace(base, rare_name_idf=v)) for v in (2.5, 4.5)]
    variants += [(f"moderate_coverage={v}", replace(base, moderate_coverage=v)) for v in (0.1, 0.15)]
    variants += [(f"moderate_match={v}", replace(base, moderate_match=v)) for v in (0.45,)]
    variants += [(f"named_match={v}", replace(base, named_match=v)) for v in (0.52, 0.58, 0.60)]
    variants += [(f"common_unseen={v}", replace(base, common_unseen=v)) for v in (0.5, 0.6, 0.8, 1.0)]
    print(f"| gate | answerable refused ({' / '.join(sets)}) | off-corpus refused | by set |")
    print("|---|---|---|---|")
    for label, gate in variants:
        refused = [_refused(engine, queries, gate) for engine, queries in sets.values()]
        off = {name: _refused(engine, queries, gate) for name, (engine, queries) in negative_sets.items()}
        total = sum(len(q) for _, q in negative_sets.values())
        share = sum(off.values()) / total
        detail = ", ".join(f"{name} {off[name]}/{len(negative_sets[name][1])}" for name in off)
        print(f"| {label} | {' / '.join(map(str, refused))} | {share:.3f} | {detail} |", flush=True)


def _refused(engine: Engine, queries: list[LabelledQuery], gate: Gate) -> int:
    variant = engine.with_settings(replace(engine.settings, gate=gate))
    return sum(variant.ask(q.query, 1, as_of=q.as_of)[0].no_answer for q in queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rtqa", nargs=2, required=True, metavar=("DATA_DIR", "QUERIES_DEV"))
    parser.add_argument("--samples", required=True, type=Path)
    parser.add_argument("--wiki", required=True, type=Path)
    parser.add_argument("--sweep", choices=["ranking", "gate", "both"], default="both")
    args = parser.parse_args()
    first = Engine(Path(args.rtqa[0]))
    engines = {"rtqa": first, "samples": Engine(args.samples, embedder=first.query_embedder),
               "wiki": Engine(args.wiki, embedder=first.query_embedder)}
    sets = positives(args, engines)
    if args.sweep in ("ranking", "both"):
        sweep_ranking(sets)
    if args.sweep in ("gate", "both"):
        sweep_gate(sets | more_answerable(engines), negatives(sets, engines))


if __name__ == "__main__":
    main()
